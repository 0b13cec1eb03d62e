"""Dataset health numbers from known datasets: counts per split and class, backgrounds, rejected images, box
distributions and the warnings (rare classes, classes missing from val, unbalanced splits)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from labeltrain.core.health import ImageStats, compute_health, health_from_dataset


def _img(path: Path, w: int, h: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((h, w, 3), 90, np.uint8))


def _ultralytics_dataset(root: Path) -> Path:
    """train: 4 images (1 background, 1 rejected), val: 2 images; classes a, b, c (c never used)."""
    labels = {
        ("train", "t0"): ["0 0.5 0.5 0.2 0.4", "1 0.25 0.25 0.1 0.1", "0 0.75 0.75 0.2 0.2"],
        ("train", "t1"): ["0 0.5 0.5 0.5 0.5"],
        ("train", "t2"): [],                        # background (empty label file)
        ("train", "t3"): ["7 0.5 0.5 0.1 0.1", "1 0.5 0.5 0.3 0.3"],  # class 7 of 3: the trainer ignores the image
        ("val", "v0"): ["0 0.5 0.5 0.3 0.3", "0 0.2 0.2 0.1 0.1"],
        ("val", "v1"): None,                        # no label file: background
    }
    for (split, stem), rows in labels.items():
        _img(root / "images" / split / f"{stem}.jpg", 64 if stem != "t1" else 128, 48)
        if rows is not None:
            lab = root / "labels" / split / f"{stem}.txt"
            lab.parent.mkdir(parents=True, exist_ok=True)
            lab.write_text("".join(r + "\n" for r in rows))
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: [a, b, c]\n")
    return root


def test_health_from_a_dataset_on_disk(tmp_path: Path) -> None:
    stats = health_from_dataset(_ultralytics_dataset(tmp_path / "ds"), min_instances=3)
    assert stats.names == ("a", "b", "c")
    assert stats.splits == ("train", "val")
    assert stats.images == {"train": 4, "val": 2}
    assert stats.backgrounds == {"train": 1, "val": 1}
    assert stats.rejected == {"train": 1, "val": 0}
    assert stats.instances["train"].tolist() == [3, 1, 0]
    assert stats.instances["val"].tolist() == [2, 0, 0]
    assert stats.total_boxes == 6
    assert stats.images_per_class.tolist() == [3, 1, 0]       # t0, t1, v0 hold 'a'; only t0 holds 'b'
    assert stats.boxes_per_image.tolist() == [2, 1, 1, 1]      # 0 boxes: t2, v1; 1: t1; 2: v0; 3: t0 (t3 ignored)
    assert stats.centre_heatmap.sum() == 6
    assert sorted(map(tuple, stats.image_sizes.tolist())) == [(64, 48)] * 5 + [(128, 48)]
    np.testing.assert_allclose(sorted(stats.box_wh[:, 0]), [0.1, 0.1, 0.2, 0.2, 0.3, 0.5], atol=1e-6)
    kinds = {(w.kind, w.cls) for w in stats.warnings}
    assert ("rare_class", 1) in kinds            # 1 < 3 training instances
    assert ("unused_class", 2) in kinds
    assert ("missing_in_split", 1) in kinds      # 'b' is trained on but never validated
    assert ("rare_class", 0) not in kinds        # 3 is not below 3
    assert ("split_balance", None) not in kinds  # 2 of 6 images in val
    assert any(w.kind == "backgrounds" for w in stats.warnings)  # 2 of 6 images


def test_compute_health_flags_split_balance_and_imbalance() -> None:
    box = (0, 0.5, 0.5, 0.1, 0.1)
    train = [ImageStats("train", 100, 100, (box,) * 30 + ((1, 0.5, 0.5, 0.1, 0.1),)) for _ in range(99)]
    val = [ImageStats("val", 100, 100, ((1, 0.5, 0.5, 0.1, 0.1),) * 30)]
    stats = compute_health(train + val, ["a", "b"], min_instances=10)
    kinds = {w.kind for w in stats.warnings}
    assert "split_balance" in kinds       # 1 % of the images in val
    assert "class_share" in kinds         # 'b' is 3 % of train boxes and 100 % of val boxes
    assert "imbalance" in kinds           # 2970 'a' vs 99 'b'
    assert stats.instances["train"].tolist() == [2970, 99]
    assert "rare_class" not in kinds


def test_compute_health_without_splits_or_names() -> None:
    stats = compute_health([ImageStats(None, 10, 20, ((3, 0.1, 0.9, 0.2, 0.2),)), ImageStats(None, 0, 0, (), True)])
    assert stats.splits == ("all",)
    assert stats.names == ("class0", "class1", "class2", "class3")
    assert stats.instances["all"].tolist() == [0, 0, 0, 1]
    assert stats.rejected == {"all": 1}
    assert stats.image_sizes.tolist() == [[10, 20]]
    assert stats.centre_heatmap[28, 3] == 1   # 32 bins; row = y (0.9: near the bottom), column = x (0.1)
    assert stats.centre_heatmap.sum() == 1
    assert not any(w.kind == "split_balance" for w in stats.warnings)
