"""Image reading as the trainer reads it: EXIF orientation applied, Unicode paths, never a crash.

Ultralytics decodes with OpenCV (`cv2.imdecode` on the file bytes), which applies the EXIF orientation, and
takes the image size from PIL with the orientation applied (`exif_size`). We do the same, so that pixel
coordinates in labeltrain are the trainer's pixel coordinates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

# The image extensions Ultralytics accepts (ultralytics.data.utils.IMG_FORMATS), lower case, no dot.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {"avif", "bmp", "dng", "heic", "heif", "jp2", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp"}
)
_ROTATED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_REDUCED_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                  8: cv2.IMREAD_REDUCED_COLOR_8}

Image.MAX_IMAGE_PIXELS = None  # huge aerial images are legitimate input; we never decode them fully by accident


def is_image_name(name: str) -> bool:
    """True if the file name has an extension the trainer accepts (case-insensitive)."""
    _, dot, ext = name.rpartition(".")
    return bool(dot) and ext.lower() in IMAGE_EXTENSIONS


@dataclass(frozen=True, slots=True)
class ImageHeader:
    """What the header says: oriented size, raw (stored) size, EXIF orientation and format."""

    width: int
    height: int
    orientation: int = 1
    format: str = ""

    @property
    def rotated(self) -> bool:
        return self.orientation != 1


class ImageReadError(Exception):
    """The file is not an image the trainer can read; the message says why."""


def read_header(path: str | os.PathLike[str]) -> ImageHeader:
    """Read size and orientation from the header only (no pixel decode). Raises ImageReadError."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            fmt = (im.format or "").upper()
            orientation = 1
            try:
                exif = im.getexif()
                orientation = int(exif.get(274, 1) or 1)
            except Exception:  # broken EXIF blocks are common; the trainer ignores them too
                orientation = 1
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise ImageReadError(f"cannot identify image: {exc}") from exc
    if orientation in _ROTATED_ORIENTATIONS:
        w, h = h, w
    return ImageHeader(w, h, orientation if 1 <= orientation <= 8 else 1, fmt)


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Oriented (width, height) as the trainer sees it. Raises ImageReadError."""
    header = read_header(path)
    return header.width, header.height


def read_image(path: str | os.PathLike[str], reduce: int = 1) -> np.ndarray:
    """Decode to a BGR uint8 array with EXIF orientation applied; `reduce` in {1, 2, 4, 8} decodes at
    1/reduce scale (much faster for JPEG). Works with Unicode paths. Raises ImageReadError."""
    flag = _REDUCED_FLAGS.get(reduce)
    if flag is None:
        raise ValueError(f"reduce must be one of {sorted(_REDUCED_FLAGS)}, not {reduce}")
    try:
        data = np.fromfile(os.fspath(path), dtype=np.uint8)
    except OSError as exc:
        raise ImageReadError(str(exc)) from exc
    if data.size == 0:
        raise ImageReadError("empty file")
    img = cv2.imdecode(data, flag)
    if img is None and reduce == 1:
        img = _decode_with_pil(path)
    elif img is None:
        img = read_image(path, 1)
        img = cv2.resize(img, (max(1, img.shape[1] // reduce), max(1, img.shape[0] // reduce)),
                         interpolation=cv2.INTER_AREA)
    if img is None:
        raise ImageReadError("cannot decode image")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def pick_reduction(full_size: tuple[int, int], target: tuple[int, int]) -> int:
    """Largest reduce factor (1, 2, 4, 8) whose decode is still at least as big as `target` (w, h)."""
    best = 1
    for factor in (2, 4, 8):
        if full_size[0] / factor >= target[0] and full_size[1] / factor >= target[1]:
            best = factor
    return best


def _decode_with_pil(path: str | os.PathLike[str]) -> np.ndarray | None:
    """Fallback for formats OpenCV lacks (HEIC via pi-heif, some AVIF); orientation applied."""
    try:
        from PIL import ImageOps

        try:  # optional HEIC/HEIF support, a declared dependency
            import pi_heif

            pi_heif.register_heif_opener()
        except Exception:
            pass
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            return np.ascontiguousarray(np.asarray(im)[:, :, ::-1])
    except Exception:
        return None
