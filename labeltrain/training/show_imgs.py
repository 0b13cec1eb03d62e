"""The trainer's eye (Darknet's `-show_imgs`): a batch from the REAL Ultralytics training dataloader, with the
augmentation settings of a run, so a user sees whether the labels survive mosaic, flips, scaling and colour jitter
before spending hours on training.

Recipe (ENVIRONMENT.md): get_cfg(DEFAULT_CFG, overrides) -> check_det_dataset(data.yaml) -> build_yolo_dataset(...,
mode='train') -> build_dataloader(workers=0, shuffle=True). With augmentation off the same dataset is built in
evaluation mode (letterbox only): the images as the model sees them without any augmentation.

    eye = TrainersEye("data.yaml")
    batch = eye.next_batch(AugmentSettings(imgsz=320, batch=9))   # TrainerBatch: grid + per-image boxes
    batch = eye.next_batch(AugmentSettings(imgsz=320, batch=9))   # another batch (same loader, next images)

ultralytics/torch are imported inside functions (the training layer rule); the offline environment is applied
first. Not thread-safe: use one TrainersEye per worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from labeltrain.training.config import ultralytics_defaults
from labeltrain.training.presets import AUGMENTATION_PRESETS

# The augmentation arguments the panel exposes, in display order: (name, label, maximum).
AUGMENT_KNOBS: tuple[tuple[str, str, float], ...] = (
    ("mosaic", "Mosaic", 1.0), ("mixup", "Mixup", 1.0), ("hsv_h", "HSV hue", 0.1), ("hsv_s", "HSV saturation", 1.0),
    ("hsv_v", "HSV value", 1.0), ("fliplr", "Flip left-right", 1.0), ("flipud", "Flip up-down", 1.0),
    ("scale", "Scale", 0.9), ("translate", "Translate", 0.9), ("degrees", "Rotate (degrees)", 45.0),
)


def _default(name: str, fallback: float) -> float:
    value = ultralytics_defaults().get(name, fallback)
    return float(value) if isinstance(value, int | float) else fallback


@dataclass(frozen=True)
class AugmentSettings:
    """Image size, batch size and the augmentation arguments (Ultralytics names and defaults)."""

    imgsz: int = 640
    batch: int = 16
    augment: bool = True
    mosaic: float = field(default_factory=lambda: _default("mosaic", 1.0))
    mixup: float = field(default_factory=lambda: _default("mixup", 0.0))
    hsv_h: float = field(default_factory=lambda: _default("hsv_h", 0.015))
    hsv_s: float = field(default_factory=lambda: _default("hsv_s", 0.7))
    hsv_v: float = field(default_factory=lambda: _default("hsv_v", 0.4))
    fliplr: float = field(default_factory=lambda: _default("fliplr", 0.5))
    flipud: float = field(default_factory=lambda: _default("flipud", 0.0))
    scale: float = field(default_factory=lambda: _default("scale", 0.5))
    translate: float = field(default_factory=lambda: _default("translate", 0.1))
    degrees: float = field(default_factory=lambda: _default("degrees", 0.0))
    extra: dict[str, Any] = field(default_factory=dict)  # any other Ultralytics argument (shear, cutmix, ...)

    @classmethod
    def from_preset(cls, name: str, **changes: Any) -> AugmentSettings:
        """The settings of an augmentation preset (labeltrain.training.presets) with `changes` applied."""
        known = {f for f in cls.__dataclass_fields__ if f not in ("extra",)}
        overrides = AUGMENTATION_PRESETS[name].overrides
        base = cls(**{k: v for k, v in overrides.items() if k in known})
        extra = {k: v for k, v in overrides.items() if k not in known}
        return replace(base, extra=extra, **changes)

    def overrides(self) -> dict[str, Any]:
        """Ultralytics cfg overrides for these settings."""
        data = asdict(self)
        extra = data.pop("extra")
        data.pop("augment")
        return {**extra, **data, "mode": "train", "task": "detect", "workers": 0}


@dataclass(frozen=True)
class SampleImage:
    """One image of a batch as the model receives it: RGB pixels and its boxes (class, x1, y1, x2, y2 in pixels
    of this image)."""

    file: str
    image: np.ndarray
    boxes: np.ndarray  # (n, 5) float32

    @property
    def classes(self) -> list[int]:
        return [int(c) for c in self.boxes[:, 0]]


@dataclass(frozen=True)
class TrainerBatch:
    """A batch: Ultralytics' own grid rendering (RGB, like train_batch0.jpg) and the images with their boxes."""

    grid: np.ndarray | None
    samples: list[SampleImage]
    names: dict[int, str]
    settings: AugmentSettings
    seconds: float
    split_path: str = ""


@contextlib.contextmanager
def _no_cache_files() -> Iterator[None]:
    """Looking is not training: keep Ultralytics from writing its labels *.cache next to the user's labels
    while the dataset is built here (training writes it anyway). Safe: training runs in its own process."""
    import ultralytics.data.dataset as ud

    def keep_in_memory(prefix: str, path: Path, x: dict, version: str) -> None:
        x["version"] = version  # what the real function does besides writing the file

    saved = ud.save_dataset_cache_file
    ud.save_dataset_cache_file = keep_in_memory
    try:
        yield
    finally:
        ud.save_dataset_cache_file = saved


@contextlib.contextmanager
def _quiet_ultralytics() -> Iterator[None]:
    """Ultralytics logs a scan summary per dataset build; keep the GUI's console clean."""
    logger = logging.getLogger("ultralytics")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _ensure_environment() -> None:
    """The offline Ultralytics environment, before its first import in this process."""
    import sys

    if "ultralytics" not in sys.modules:
        from labeltrain.training.env import prepare_environment

        prepare_environment()


class TrainersEye:
    """Batches from the training dataloader of one data.yaml. The dataset and loader are built on the first
    call and rebuilt only when the image size, batch size or augment switch change; other augmentation changes
    only rebuild the transforms (as Ultralytics' close_mosaic does), so "another batch" costs the augmentation."""

    def __init__(self, data_yaml: str | os.PathLike[str]):
        self.data_yaml = str(data_yaml)
        self._data: dict[str, Any] | None = None
        self._key: AugmentSettings | None = None
        self._dataset: Any = None
        self._loader: Any = None
        self._iter: Iterator[dict[str, Any]] | None = None

    def _prepare(self, settings: AugmentSettings) -> None:
        _ensure_environment()
        from ultralytics.cfg import get_cfg
        from ultralytics.data import build_dataloader, build_yolo_dataset
        from ultralytics.data.utils import check_det_dataset
        from ultralytics.utils import DEFAULT_CFG

        with _quiet_ultralytics(), _no_cache_files():
            if self._data is None:
                self._data = check_det_dataset(self.data_yaml, autodownload=False)
            cfg = get_cfg(DEFAULT_CFG, settings.overrides())
            old = self._key
            if (old is not None and self._dataset is not None and settings.augment and old.augment
                    and (old.imgsz, old.batch) == (settings.imgsz, settings.batch)):
                self._dataset.transforms = self._dataset.build_transforms(hyp=cfg)  # same loader, new augmentation
            else:
                mode = "train" if settings.augment else "val"
                self._dataset = build_yolo_dataset(cfg, self._data["train"], settings.batch, self._data, mode=mode,
                                                   stride=32)
                self._loader = build_dataloader(self._dataset, settings.batch, workers=0, shuffle=True)
                self._iter = iter(self._loader)
        self._key = settings

    def next_batch(self, settings: AugmentSettings, *, grid: bool = True) -> TrainerBatch:
        """The next batch the trainer would see with `settings`; `grid`: also render Ultralytics' grid."""
        t0 = time.perf_counter()
        if self._iter is None or settings != self._key:
            self._prepare(settings)
        assert self._iter is not None and self._data is not None
        with _quiet_ultralytics():
            try:
                batch = next(self._iter)
            except StopIteration:  # an epoch is over: the next one, reshuffled
                self._iter = iter(self._loader)
                batch = next(self._iter)
        names = {int(k): str(v) for k, v in self._data["names"].items()}
        samples = batch_samples(batch)
        image = None
        if grid:
            from ultralytics.utils.plotting import plot_images

            with _quiet_ultralytics():
                image = plot_images(labels=dict(batch), paths=batch["im_file"], names=names, save=False,
                                    threaded=False, max_subplots=max(16, len(samples)))
        return TrainerBatch(image, samples, names, settings, time.perf_counter() - t0, str(self._data["train"]))

    def close(self) -> None:
        self._iter = self._dataset = self._loader = None


def batch_samples(batch: dict[str, Any]) -> list[SampleImage]:
    """Split a collated Ultralytics batch (img uint8 NCHW, cls, bboxes normalised xywh, batch_idx, im_file) into
    images with pixel boxes."""
    imgs = batch["img"].numpy() if hasattr(batch["img"], "numpy") else np.asarray(batch["img"])
    cls = np.asarray(batch["cls"]).reshape(-1)
    boxes = np.asarray(batch["bboxes"], dtype=np.float32).reshape(-1, 4)
    idx = np.asarray(batch["batch_idx"]).reshape(-1).astype(int)
    out = []
    for i, file in enumerate(batch["im_file"]):
        img = np.ascontiguousarray(imgs[i].transpose(1, 2, 0)[:, :, :3])  # CHW -> HWC; the loader gives RGB
        h, w = img.shape[:2]
        sel = idx == i
        xywh = boxes[sel]
        xyxy = np.stack([xywh[:, 0] - xywh[:, 2] / 2, xywh[:, 1] - xywh[:, 3] / 2,
                         xywh[:, 0] + xywh[:, 2] / 2, xywh[:, 1] + xywh[:, 3] / 2], axis=1) * [w, h, w, h]
        rows = np.concatenate([cls[sel, None].astype(np.float32), xyxy.astype(np.float32)], axis=1)
        out.append(SampleImage(str(file), img, rows.reshape(-1, 5)))
    return out


def show_imgs(data_yaml: str | os.PathLike[str], settings: AugmentSettings | None = None,
              grid: bool = True) -> TrainerBatch:
    """One batch from the training dataloader of `data_yaml` (builds a fresh loader)."""
    return TrainersEye(data_yaml).next_batch(settings or AugmentSettings(), grid=grid)
