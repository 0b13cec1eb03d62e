"""Label-error mining end to end: seeded stratified folds, k-fold mining with really trained models on a small
generated dataset with injected errors (the queue surfaces them with the right box index), the result saved
next to the runs, `labeltrain mine` (in-sample, JSON and text), failures and cancelling."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from labeltrain.cli import main
from labeltrain.core.dataset import discover
from labeltrain.core.disputes import (
    MISSING,
    POOR_LOCALISATION,
    SPURIOUS,
    WRONG_CLASS,
    MiningResult,
    iou_matrix,
)
from labeltrain.training.config import TrainConfig
from labeltrain.training.mining import MiningCancelled, assign_folds, mine

SIZE = 64
COLORS = ((40, 40, 230), (230, 120, 30))  # square: red, circle: blue (BGR)


def make_shapes(root: Path, n: int, seed: int) -> Path:
    """n images of SIZE px: a square or circle in the left half, another one in the right half of 60 % of them
    (never overlapping); YOLO labels beside in labels/, classes.txt."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "classes.txt").write_text("square\ncircle\n")
    for i in range(n):
        img = rng.integers(40, 90, size=(SIZE, SIZE, 3), dtype=np.uint8)
        rows = []
        for half in (0, 1):
            if half and rng.random() < 0.4:
                continue
            cls, r = int(rng.integers(0, 2)), int(rng.integers(SIZE // 8, SIZE // 5))
            cx = int(rng.integers(r + 2, SIZE // 2 - r - 2)) + half * SIZE // 2
            cy = int(rng.integers(r + 2, SIZE - r - 2))
            if cls == 0:
                cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), COLORS[0], -1)
            else:
                cv2.circle(img, (cx, cy), r, COLORS[1], -1)
            rows.append(f"{cls} {cx / SIZE:.6f} {cy / SIZE:.6f} {2 * r / SIZE:.6f} {2 * r / SIZE:.6f}")
        cv2.imwrite(str(root / "images" / f"img_{i:03d}.png"), img)
        (root / "labels" / f"img_{i:03d}.txt").write_text("".join(row + "\n" for row in rows))
    return root


def _rows(root: Path, i: int) -> list[list[float]]:
    text = (root / "labels" / f"img_{i:03d}.txt").read_text()
    return [[float(v) for v in line.split()] for line in text.splitlines()]


def _write(root: Path, i: int, rows: list[list[float]]) -> None:
    text = "".join(f"{int(r[0])} {r[1]:.6f} {r[2]:.6f} {r[3]:.6f} {r[4]:.6f}\n" for r in rows)
    (root / "labels" / f"img_{i:03d}.txt").write_text(text)


def inject_errors(root: Path) -> dict[str, tuple]:
    """One error of each kind in its own image: image name -> (expected dispute kinds, box index, true box px)."""
    swapped = _rows(root, 3)
    swapped[0][0] = 1 - swapped[0][0]
    _write(root, 3, swapped)
    rows = _rows(root, 5)
    deleted = rows.pop()
    _write(root, 5, rows)
    moved = _rows(root, 7)
    moved[0][1] += 0.45 * moved[0][3]
    moved[0][2] += 0.45 * moved[0][4]
    _write(root, 7, moved)
    single = next(i for i in range(10, 40) if len(_rows(root, i)) == 1)
    _write(root, single, _rows(root, single) + [[0, 0.75, 0.5, 0.25, 0.25]])  # nothing in the right half
    x, y, w, h = (v * SIZE for v in deleted[1:])
    return {"img_003.png": ((WRONG_CLASS,), 0, None),
            "img_005.png": ((MISSING,), None, (x - w / 2, y - h / 2, x + w / 2, y + h / 2)),
            "img_007.png": ((POOR_LOCALISATION, SPURIOUS), 0, None),
            f"img_{single:03d}.png": ((SPURIOUS,), len(_rows(root, single)) - 1, None)}


def test_folds_are_seeded_stratified_and_independent_of_listing_order(tmp_path):
    root = make_shapes(tmp_path / "d", 31, seed=2)
    dataset = discover(root)
    folds = assign_folds(dataset, 3, seed=4)
    images = sorted(item.image for item in dataset.items)
    assert sorted(img for f in folds for img in f) == images
    assert sorted(len(f) for f in folds) == [10, 10, 11]
    dataset.items.reverse()
    assert assign_folds(dataset, 3, seed=4) == folds
    assert assign_folds(dataset, 3, seed=5) != folds
    with pytest.raises(ValueError):
        assign_folds(dataset, 1)


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, MiningResult]:
    """k-fold mining (2 folds, 25 epochs at 64 px: ~40 s on 2 cores) of 64 images with 4 injected errors."""
    root = make_shapes(tmp_path_factory.mktemp("mine") / "shapes", 64, seed=1)
    expected = inject_errors(root)
    config = TrainConfig(model="yolo26n.yaml", epochs=25, imgsz=SIZE, batch=8, device="cpu", workers=0,
                         optimizer="AdamW", lr0=0.004, extra={"nbs": 8, "warmup_epochs": 1})
    calls: list[tuple[int, int, str]] = []
    result = mine(root, folds=2, config=config, work_dir=root.parent / "runs",
                  progress=lambda done, total, text: calls.append((done, total, text)))
    assert calls[-1][0] == calls[-1][1] == 2 * 25 + 64
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert any(text == "fold2: epoch 25/25" for _, _, text in calls)
    return root, expected, result


@pytest.mark.slow
def test_kfold_queue_surfaces_the_injected_errors(mined):
    root, expected, result = mined
    assert result.mode == "k-fold" and result.folds == 2 and not result.in_sample
    assert len(result.images) == 64 and len(result.models) == 2
    assert result.calibration.recall > 0.9, result.calibration
    queue = [Path(im.image).name for im in result.images]
    for name, (kinds, index, box) in expected.items():
        im = result.images[queue.index(name)]
        hits = [d for d in im.disputes if d.kind in kinds and d.box_index == index and
                (box is None or iou_matrix(np.array([d.prediction.xyxy]), np.array([box]))[0, 0] >= 0.5)]
        assert hits, (name, im.disputes)
        assert queue.index(name) < 8, (name, queue.index(name), [(q.image, q.score) for q in result.images[:8]])
    # every image was predicted by the model that did not train on it
    for im in result.images:
        train_list = (Path(result.work_dir) / "data" / f"fold{im.fold}" / "train.txt").read_text()
        assert im.image not in train_list
        assert im.image in (Path(result.work_dir) / "data" / f"fold{im.fold}" / "val.txt").read_text()
    assert MiningResult.load(Path(result.work_dir) / "mining.json") == result


@pytest.mark.slow
def test_cli_in_sample_json_and_text(mined, capsys):
    root, expected, result = mined
    weights = result.models[0]
    out = root.parent / "in-sample.json"
    assert main(["mine", str(root), "--weights", weights, "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mode"] == "in-sample" and "in-sample" in data["notes"][0]
    assert MiningResult.load(out).to_dict() == data
    assert main(["mine", str(root), "--weights", weights, "--top", "3", "--conf", "0.05"]) == 0
    text = capsys.readouterr().out
    assert "images disputed (in-sample, one model)" in text and "  1. " in text and "  4. " not in text
    assert (Path(weights).parent.parent / "mining.json").is_file()  # default: saved next to the run


def test_cli_failures_exit_1(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["mine", str(tmp_path / "empty"), "--weights", str(tmp_path / "none.pt")]) == 1
    assert "labeltrain mine:" in capsys.readouterr().err
    root = make_shapes(tmp_path / "d", 4, seed=0)
    assert main(["mine", str(root), "--weights", str(tmp_path / "none.pt")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none.pt" in err[0]
    assert main(["mine", str(root), "--folds", "1"]) == 2


def test_cancel_stops_the_fold_training(tmp_path):
    root = make_shapes(tmp_path / "d", 8, seed=0)
    config = TrainConfig(model="yolo26n.yaml", epochs=50, imgsz=SIZE, batch=4, device="cpu", workers=0)
    with pytest.raises(MiningCancelled):
        mine(root, folds=2, config=config, work_dir=tmp_path / "runs", cancelled=lambda: True)
    assert not (tmp_path / "runs" / "fold2").exists()
