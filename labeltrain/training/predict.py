"""Predictions of a model (.pt or .onnx) on images, as plain records, and YOLO label files made from them.

Used by `labeltrain predict`, by pre-labelling in the editor and by label-error mining. Images are read as the
trainer reads them (OpenCV, EXIF orientation applied), so the boxes are in the pixels the editor shows.

    for p in predict_images("best.onnx", ["a.jpg", "b.jpg"], conf=0.25):
        p.image, p.rows          # rows: (cls, x1, y1, x2, y2, score) in image pixels
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from labeltrain.core.atomic import atomic_write_text
from labeltrain.training.detectors import Detector, open_detector

Row = tuple[int, float, float, float, float, float]  # cls, x1, y1, x2, y2, score


@dataclass(frozen=True)
class Prediction:
    image: str
    width: int
    height: int
    rows: tuple[Row, ...]
    error: str | None = None  # the image could not be read

    def yolo_lines(self) -> list[str]:
        """The rows as YOLO label lines (class x_center y_center width height, normalised, clipped)."""
        lines = []
        for cls, x1, y1, x2, y2, _score in self.rows:
            x1, x2 = max(0.0, x1), min(float(self.width), x2)
            y1, y2 = max(0.0, y1), min(float(self.height), y2)
            if x2 <= x1 or y2 <= y1:
                continue
            w, h = (x2 - x1) / self.width, (y2 - y1) / self.height
            lines.append(f"{cls} {(x1 + x2) / 2 / self.width:.6f} {(y1 + y2) / 2 / self.height:.6f} "
                         f"{w:.6f} {h:.6f}")
        return lines


def rows_of(dets: np.ndarray) -> tuple[Row, ...]:
    return tuple((int(d[5]), float(d[0]), float(d[1]), float(d[2]), float(d[3]), round(float(d[4]), 5))
                 for d in np.asarray(dets).reshape(-1, 6))


def predict_image(detector: Detector, image: str | os.PathLike[str], conf: float = 0.25,
                  iou: float = 0.7) -> Prediction:
    img = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if img is None:
        return Prediction(str(image), 0, 0, (), error="cannot be read as an image")
    h, w = img.shape[:2]
    return Prediction(str(image), w, h, rows_of(detector.detect(img, conf=conf, iou=iou)))


def predict_images(model: str | os.PathLike[str] | Detector, images: Iterable[str | os.PathLike[str]],
                   conf: float = 0.25, iou: float = 0.7,
                   progress: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> Iterator[Prediction]:
    """Predictions for each image in order (a model path or an open Detector); stops early when cancelled."""
    detector = open_detector(model) if isinstance(model, str | os.PathLike) else model
    paths = list(images)
    for i, path in enumerate(paths):
        if cancelled is not None and cancelled():
            return
        yield predict_image(detector, path, conf, iou)
        if progress is not None:
            progress(i + 1, len(paths))


def save_labels(prediction: Prediction, folder: str | os.PathLike[str], overwrite: bool = False) -> Path | None:
    """Write `<folder>/<image stem>.txt` atomically; None (nothing written) when it exists and not `overwrite`:
    an existing label file may hold someone's work."""
    path = Path(folder) / f"{Path(prediction.image).stem}.txt"
    if path.exists() and not overwrite:
        return None
    lines = prediction.yolo_lines()
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return path


def expand_images(args: Iterable[str]) -> list[str]:
    """Image paths from arguments that are images or folders (searched recursively, natural order)."""
    from labeltrain.core.dataset import natural_key
    from labeltrain.core.images import is_image_name

    out: list[str] = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            found = [str(f) for f in p.rglob("*") if f.is_file() and is_image_name(f.name)]
            out.extend(sorted(found, key=natural_key))
        else:
            out.append(str(p))
    return out
