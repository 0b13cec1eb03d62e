"""Thumbnails for the previewer: decoded off the UI thread with a reduced-size decode (EXIF orientation applied,
as the trainer sees the image), cached on disk as small JPEGs keyed by path + mtime + size, and in memory (LRU).

Disk cache: $LABELTRAIN_CACHE_DIR/thumbs, else $XDG_CACHE_HOME/labeltrain/thumbs (~/.cache/labeltrain/thumbs).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QImage

from labeltrain.core.images import ImageReadError, pick_reduction, read_header, read_image
from labeltrain.ui.qa.workers import CachedProvider

THUMB_PX = 256  # longest side of a cached thumbnail (tiles are at most this big)
JPEG_QUALITY = 88


def cache_dir() -> Path:
    """Where thumbnails are kept: $LABELTRAIN_CACHE_DIR/thumbs or $XDG_CACHE_HOME/labeltrain/thumbs."""
    base = os.environ.get("LABELTRAIN_CACHE_DIR")
    if base:
        return Path(base) / "thumbs"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "labeltrain" / "thumbs"


def cache_key(path: str, size: int = THUMB_PX) -> str | None:
    """Key of the current version of an image file (None if it cannot be stat'ed)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    raw = f"{os.path.abspath(path)}\0{st.st_mtime_ns}\0{st.st_size}\0{size}".encode("utf-8", "surrogatepass")
    return hashlib.sha1(raw).hexdigest()


def make_thumbnail(path: str, size: int = THUMB_PX) -> np.ndarray:
    """RGB uint8 thumbnail whose longest side is at most `size`. Raises ImageReadError."""
    try:
        header = read_header(path)
        reduce = pick_reduction((header.width, header.height), _fit((header.width, header.height), size))
    except ImageReadError:
        reduce = 1
    img = read_image(path, reduce)
    h, w = img.shape[:2]
    tw, th = _fit((w, h), size)
    if (tw, th) != (w, h):
        img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[:, :, ::-1])


def _fit(full: tuple[int, int], size: int) -> tuple[int, int]:
    w, h = full
    scale = min(1.0, size / max(1, w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def load_thumbnail(path: str, folder: Path | None = None, size: int = THUMB_PX) -> np.ndarray:
    """A thumbnail from the disk cache, or made and stored there. RGB uint8. Raises ImageReadError."""
    folder = folder or cache_dir()
    key = cache_key(path, size)
    if key is None:
        raise ImageReadError("file not found")
    file = folder / key[:2] / f"{key}.jpg"
    if file.is_file():
        data = np.fromfile(str(file), dtype=np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if img is not None:
            return np.ascontiguousarray(img[:, :, ::-1])
    thumb = make_thumbnail(path, size)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(thumb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if ok:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_name(f".{key}.{os.getpid()}.tmp")
            buf.tofile(str(tmp))
            os.replace(tmp, file)
        except OSError:
            pass  # a read-only cache only costs speed
    return thumb


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (UI thread)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ThumbnailProvider(CachedProvider):
    """`get(path)` returns the thumbnail if it is in memory, else None and decodes it in the background (from the
    disk cache when it has it); `ready(path)` says when it arrived. Memory use is bounded by `capacity`
    thumbnails."""

    def __init__(self, parent: QObject | None = None, capacity: int = 1500, threads: int = 2) -> None:
        folder = cache_dir()
        super().__init__(lambda path: load_thumbnail(path, folder), capacity, threads, parent)

    def convert(self, result: np.ndarray) -> QImage:
        return to_qimage(result)
