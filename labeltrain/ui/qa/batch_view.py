"""The trainer's-eye batch as a grid: each image as the model receives it (after augmentation) with its boxes and
class names in labeltrain's class colours, or Ultralytics' own rendering of the batch (train_batch*.jpg)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QWidget

from labeltrain.core.dataset import Dataset
from labeltrain.core.model import ClassNames
from labeltrain.training.show_imgs import TrainerBatch
from labeltrain.ui.qa.paint import IMAGE_BACKGROUND, draw_boxes, fitted_rect
from labeltrain.ui.qa.records import TileBox
from labeltrain.ui.qa.thumbs import cache_dir, to_qimage


def data_yaml_for(dataset: Dataset) -> Path:
    """The dataset's data.yaml, or a seeded split of a folder dataset written to the cache (the user's folder
    is left untouched), as a training run would prepare it."""
    if dataset.data_yaml is not None:
        return Path(dataset.data_yaml)
    from labeltrain.training.data_prep import prepare_data

    key = hashlib.sha1(str(dataset.root).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return prepare_data(dataset.root, cache_dir().parent / "trainers-eye" / key).yaml_path


class BatchView(QWidget):
    """The batch as a grid: each image as the model receives it with its boxes and class names."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.batch: TrainerBatch | None = None
        self._images: list[QImage] = []
        self._boxes: list[tuple[TileBox, ...]] = []
        self.names: ClassNames | None = None
        self._grid: QImage | None = None
        self.ultralytics_grid = False
        self.setMinimumSize(320, 320)

    def set_batch(self, batch: TrainerBatch | None) -> None:
        self.batch = batch
        self._images, self._boxes = [], []
        if batch is not None:
            self.names = ClassNames.of(batch.names[i] for i in sorted(batch.names)) if batch.names else None
            for s in batch.samples:
                h, w = s.image.shape[:2]
                self._images.append(to_qimage(s.image))
                self._boxes.append(tuple(_tile_box(row, w, h) for row in s.boxes))
            self._grid = to_qimage(batch.grid) if batch.grid is not None else None
        self.update()

    def cell_rects(self) -> list[QRectF]:
        n = len(self._images)
        if not n:
            return []
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        side = min((self.width() - 8) / cols, (self.height() - 8) / rows)
        x0 = (self.width() - side * cols) / 2
        return [QRectF(x0 + (k % cols) * side + 2, 4 + (k // cols) * side + 2, side - 4, side - 4) for k in range(n)]

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self.batch is None:
            p.setPen(self.palette().text().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No batch yet.")
            return
        if self.ultralytics_grid and self._grid is not None:
            p.drawImage(fitted_rect(QRectF(self.rect()), self._grid.width(), self._grid.height()), self._grid)
            return
        font = QFont(self.font())
        font.setPixelSize(10)
        for cell, img, boxes, sample in zip(self.cell_rects(), self._images, self._boxes, self.batch.samples):
            p.fillRect(cell, IMAGE_BACKGROUND)
            target = fitted_rect(cell, img.width(), img.height())
            p.drawImage(target, img)
            draw_boxes(p, target, boxes, self.names, tags=cell.width() >= 110, width=2.0)
            p.setFont(font)
            name = Path(sample.file).name
            label = QRectF(cell.left(), cell.bottom() - 15, cell.width(), 15)
            p.fillRect(label, QColor(0, 0, 0, 150))
            p.setPen(QColor(235, 235, 235))
            p.drawText(label.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       p.fontMetrics().elidedText(f"{name} · {len(boxes)} boxes", Qt.TextElideMode.ElideMiddle,
                                                  int(label.width() - 8)))

    def sizeHint(self) -> QSize:
        return QSize(640, 640)


def _tile_box(row: np.ndarray, w: int, h: int) -> TileBox:
    cls, x1, y1, x2, y2 = (float(v) for v in row)
    return TileBox(int(cls), (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h, None)
