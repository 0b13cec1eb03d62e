"""A tiny generated detection dataset: coloured squares and circles on noisy backgrounds, YOLO labels, data.yaml."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import yaml

CLASSES = ("square", "circle")


def _draw(rng: np.random.Generator, size: int) -> tuple[np.ndarray, list[str]]:
    img = rng.integers(40, 90, size=(size, size, 3), dtype=np.uint8)
    rows = []
    for _ in range(int(rng.integers(1, 3))):
        cls = int(rng.integers(0, len(CLASSES)))
        half = int(rng.integers(size // 8, size // 4))
        cx, cy = (int(v) for v in rng.integers(half + 1, size - half - 1, size=2))
        if cls == 0:
            cv2.rectangle(img, (cx - half, cy - half), (cx + half, cy + half), (40, 40, 230), -1)
        else:
            cv2.circle(img, (cx, cy), half, (230, 120, 30), -1)
        w = 2 * half / size
        rows.append(f"{cls} {cx / size:.6f} {cy / size:.6f} {w:.6f} {w:.6f}")
    return img, rows


def make_dataset(root: Path, n_train: int = 12, n_val: int = 4, size: int = 96, seed: int = 0) -> Path:
    """Write images/{train,val}, labels/{train,val} and data.yaml under `root`; return the data.yaml path."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img, rows = _draw(rng, size)
            cv2.imwrite(str(root / "images" / split / f"{split}_{i:03d}.png"), img)
            (root / "labels" / split / f"{split}_{i:03d}.txt").write_text("\n".join(rows) + "\n")
    data = {"path": str(root), "train": "images/train", "val": "images/val", "names": list(CLASSES)}
    yaml_path = root / "data.yaml"
    yaml_path.write_text(yaml.safe_dump(data, sort_keys=False))
    return yaml_path
