"""Box crops for the class gallery, cut off the UI thread from a reduced-size decode (EXIF applied, as the trainer
sees the image), with a margin of context around the box. The last few decoded images are kept, so the boxes of
one image cost one decode."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QImage

from labeltrain.core.images import ImageReadError, read_header, read_image
from labeltrain.ui.qa.thumbs import to_qimage
from labeltrain.ui.qa.workers import CachedProvider

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


class CropProvider(CachedProvider):
    """`get(key)` -> (QImage, box rect in the crop, normalised) or None while it is being cut; `ready(key)`."""

    def __init__(self, parent: QObject | None = None, capacity: int = 3000) -> None:
        decoded = _DecodedCache()  # the last images decoded, shared by the crops cut from them
        super().__init__(lambda k: cut_crop(k, decoded), capacity, threads=1, parent=parent)

    def convert(self, result: Crop) -> tuple[QImage, QRectF]:
        x1, y1, x2, y2 = result.box
        return to_qimage(result.pixels), QRectF(x1, y1, x2 - x1, y2 - y1)

    def failed(self, key: CropKey) -> bool:
        return self.error(key) is not None
