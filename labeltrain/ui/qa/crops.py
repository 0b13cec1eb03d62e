"""Box crops for the class gallery, cut off the UI thread from a reduced-size decode (EXIF applied, as the trainer
sees the image), with a margin of context around the box. The last few decoded images are kept, so the boxes of
one image cost one decode."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QImage

from labeltrain.core.images import ImageReadError, read_header, read_image
from labeltrain.ui.qa.thumbs import to_qimage
from labeltrain.ui.qa.workers import KeyedWorker

CONTEXT = 0.15  # margin around the box, as a fraction of its size
MIN_CONTEXT_PX = 6


@dataclass(frozen=True, slots=True)
class CropKey:
    image: str
    xc: float
    yc: float
    w: float
    h: float
    side: int


@dataclass(frozen=True, slots=True)
class Crop:
    """RGB pixels of the crop and where the box is inside it (normalised x1, y1, x2, y2)."""

    pixels: np.ndarray
    box: tuple[float, float, float, float]


class _DecodedCache:
    def __init__(self, capacity: int = 6) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._capacity = capacity

    def get(self, path: str, reduce: int) -> np.ndarray:
        key = (path, reduce)
        with self._lock:
            img = self._items.get(key)
            if img is not None:
                self._items.move_to_end(key)
                return img
        img = read_image(path, reduce)
        with self._lock:
            self._items[key] = img
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return img


def cut_crop(key: CropKey, cache: _DecodedCache | None = None) -> Crop:
    """The crop of one normalised box with context, at most `side` px on its longest side. Raises ImageReadError."""
    try:
        header = read_header(key.image)
        full_w, full_h = header.width, header.height
    except ImageReadError:
        full_w = full_h = 0
    reduce = 1
    if full_w and full_h:
        need = max(key.w * full_w, key.h * full_h) * (1 + 2 * CONTEXT)
        for factor in (2, 4, 8):
            if need / factor >= key.side:
                reduce = factor
    img = cache.get(key.image, reduce) if cache is not None else read_image(key.image, reduce)
    ih, iw = img.shape[:2]
    bx1, by1 = (key.xc - key.w / 2) * iw, (key.yc - key.h / 2) * ih
    bx2, by2 = (key.xc + key.w / 2) * iw, (key.yc + key.h / 2) * ih
    pad_x = max(MIN_CONTEXT_PX, (bx2 - bx1) * CONTEXT)
    pad_y = max(MIN_CONTEXT_PX, (by2 - by1) * CONTEXT)
    x1, y1 = int(max(0, min(iw - 1, np.floor(bx1 - pad_x)))), int(max(0, min(ih - 1, np.floor(by1 - pad_y))))
    x2, y2 = int(max(x1 + 1, min(iw, np.ceil(bx2 + pad_x)))), int(max(y1 + 1, min(ih, np.ceil(by2 + pad_y))))
    crop = img[y1:y2, x1:x2]
    ch, cw = crop.shape[:2]
    scale = key.side / max(cw, ch)
    if scale < 1:
        crop = cv2.resize(crop, (max(1, round(cw * scale)), max(1, round(ch * scale))), interpolation=cv2.INTER_AREA)
    elif scale > 1.5:  # tiny boxes: enlarge without smoothing the pixels away
        crop = cv2.resize(crop, (max(1, round(cw * min(scale, 8))), max(1, round(ch * min(scale, 8)))),
                          interpolation=cv2.INTER_NEAREST)
    box = ((bx1 - x1) / cw, (by1 - y1) / ch, (bx2 - x1) / cw, (by2 - y1) / ch)
    return Crop(np.ascontiguousarray(crop[:, :, ::-1]), box)


class CropProvider(QObject):
    """`get(key)` -> (QImage, box rect in the crop, normalised) or None while it is being cut; `ready(key)`."""

    ready = Signal(object)

    def __init__(self, parent: QObject | None = None, capacity: int = 3000) -> None:
        super().__init__(parent)
        self._decoded = _DecodedCache()
        self._cache: OrderedDict[CropKey, tuple[QImage, QRectF]] = OrderedDict()
        self._failed: set[CropKey] = set()
        self._capacity = capacity
        self._worker = KeyedWorker(lambda k: cut_crop(k, self._decoded), threads=1, parent=self)
        self._worker.finished.connect(self._arrived)

    def get(self, key: CropKey) -> tuple[QImage, QRectF] | None:
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        if key not in self._failed:
            self._worker.request(key)
        return None

    def failed(self, key: CropKey) -> bool:
        return key in self._failed

    def clear(self) -> None:
        self._worker.clear()
        self._cache.clear()
        self._failed.clear()

    def pending(self) -> int:
        return self._worker.pending()

    def close(self) -> None:
        self._worker.close()

    def _arrived(self, key: CropKey, value: object) -> None:
        if isinstance(value, Crop):
            x1, y1, x2, y2 = value.box
            self._cache[key] = (to_qimage(value.pixels), QRectF(x1, y1, x2 - x1, y2 - y1))
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        else:
            self._failed.add(key)
        self.ready.emit(key)
