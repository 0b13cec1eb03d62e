"""The trainer's eye: batches from the real Ultralytics training dataloader of a tiny generated dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from labeltrain.training.show_imgs import AugmentSettings, TrainersEye, show_imgs


def _label_boxes(image_file: str) -> np.ndarray:
    label = Path(image_file.replace("/images/", "/labels/")).with_suffix(".txt")
    return np.array([[float(v) for v in line.split()] for line in label.read_text().splitlines() if line.strip()])


def test_without_augmentation_the_boxes_are_the_label_files_letterboxed(tiny_data: Path) -> None:
    batch = show_imgs(tiny_data, AugmentSettings(imgsz=128, batch=4, augment=False))
    assert batch.grid is not None and batch.grid.ndim == 3 and batch.grid.shape[2] == 3
    assert batch.grid.dtype == np.uint8
    assert batch.names == {0: "square", 1: "circle"}
    assert len(batch.samples) == 4
    for s in batch.samples:
        assert "/images/train/" in s.file
        assert s.image.shape == (128, 128, 3)
        rows = _label_boxes(s.file)
        # the loader resizes the square 96 px images to imgsz (128 px): no padding, no augmentation
        want = np.stack([rows[:, 0], (rows[:, 1] - rows[:, 3] / 2) * 128, (rows[:, 2] - rows[:, 4] / 2) * 128,
                         (rows[:, 1] + rows[:, 3] / 2) * 128, (rows[:, 2] + rows[:, 4] / 2) * 128], axis=1)
        got = s.boxes[np.lexsort(s.boxes.T[::-1])]
        np.testing.assert_allclose(got, want[np.lexsort(want.T[::-1])], atol=0.05)


def test_augmented_batches_change_and_follow_the_settings(tiny_data: Path) -> None:
    eye = TrainersEye(tiny_data)
    settings = AugmentSettings(imgsz=64, batch=6, mosaic=1.0, fliplr=0.5, hsv_v=0.4)
    first = eye.next_batch(settings)
    second = eye.next_batch(settings, grid=False)
    assert len(first.samples) == 6 and second.grid is None
    assert all(s.image.shape == (64, 64, 3) for s in first.samples + second.samples)
    assert {s.file for s in first.samples} != {s.file for s in second.samples} or not all(
        np.array_equal(a.image, b.image) for a, b in zip(first.samples, second.samples))
    for s in first.samples:  # boxes stay inside the augmented image, with known classes
        if len(s.boxes):
            assert s.boxes[:, 1:].min() >= -0.5 and s.boxes[:, 1:].max() <= 64.5
            assert set(s.classes) <= {0, 1}
    # changing only an augmentation knob keeps the loader (transforms rebuilt), other knobs rebuild it
    loader_dataset = eye._dataset
    eye.next_batch(AugmentSettings(imgsz=64, batch=6, mosaic=0.0, fliplr=0.0, hsv_v=0.0), grid=False)
    assert eye._dataset is loader_dataset
    bigger = eye.next_batch(AugmentSettings(imgsz=96, batch=3), grid=False)
    assert eye._dataset is not loader_dataset
    assert [s.image.shape for s in bigger.samples] == [(96, 96, 3)] * 3


def test_presets_become_settings() -> None:
    none = AugmentSettings.from_preset("none", imgsz=320)
    assert none.imgsz == 320 and none.mosaic == 0.0 and none.fliplr == 0.0 and none.hsv_s == 0.0
    assert none.extra.get("shear") == 0.0
    strong = AugmentSettings.from_preset("strong")
    assert strong.degrees == 10.0 and strong.mixup == 0.15 and strong.extra["cutmix"] == 0.1
    overrides = strong.overrides()
    assert overrides["mode"] == "train" and overrides["workers"] == 0 and "augment" not in overrides


def test_looking_writes_nothing_into_the_dataset(tmp_path: Path) -> None:
    from tests.training.synthetic import make_dataset

    data = make_dataset(tmp_path / "ds", n_train=4, n_val=2, size=64)
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "ds").rglob("*"))
    show_imgs(data, AugmentSettings(imgsz=64, batch=2), grid=False)
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "ds").rglob("*")) == before  # no labels/*.cache
