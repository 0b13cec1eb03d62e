"""Image decoding off the UI thread, with a small cache and prefetch of the neighbours.

Workers get plain requests (path, target size) and return plain data: a 4-byte-per-pixel numpy array in the
layout Qt's raster engine draws natively (so showing it costs no conversion), the oriented full size, the
reduce factor used, or an error message. Decoding is reduced as far as the view allows (a 12-megapixel JPEG
shown in a window needs 1/4 of its pixels, decoded 2-3x faster by libjpeg's scaled IDCT) with the EXIF
orientation applied, as the trainer sees it. The UI side wraps the array in a QImage without copying and
keeps the last few in an LRU cache.

Two worker threads: one only ever decodes the image the user wants to see now, the other prefetches
neighbours when nothing is wanted. A jump to an image nobody guessed therefore never waits behind a prefetch.
Prefetching starts PREFETCH_DELAY after it is asked for and after the wanted image is decoded, so that it does
not compete for the CPU (and the GIL) with decoding and showing the image that was just switched to.
Requests are "latest wins": asking for a new current image replaces the previous unstarted one, so holding
down the next-image key never builds a backlog.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal
from PySide6.QtGui import QImage

from labeltrain.core.images import ImageReadError, pick_reduction, read_header, read_image

Size = tuple[int, int]
PREFETCH_DELAY = 0.04  # seconds between an image switch and the start of prefetching its neighbours

# 4 bytes per pixel in memory order B, G, R, 255 is QImage.Format_RGB32 on little-endian machines: the raster
# paint engine's own format, so QPixmap.fromImage shares the buffer instead of converting it.
if sys.byteorder == "little":
    _TO_DISPLAY, _DISPLAY_FORMAT = cv2.COLOR_BGR2BGRA, QImage.Format.Format_RGB32
else:
    _TO_DISPLAY, _DISPLAY_FORMAT = cv2.COLOR_BGR2RGBA, QImage.Format.Format_RGBX8888


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    path: str
    target: Size     # (w, h) in device pixels the whole image is shown at; (0, 0) = full resolution
    fit: bool = False  # `target` is a box the image will be fitted into (its size is read from its header)


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a worker returns: pixels or an error, never a Qt object."""

    path: str
    pixels: np.ndarray | None   # h x w x 4, display byte order (see _DISPLAY_FORMAT)
    full_size: Size | None  # oriented size as the trainer sees it
    reduce: int = 1
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """A decoded image ready for display. `image` shares memory with `pixels` (kept alive here)."""

    path: str
    image: QImage
    pixels: np.ndarray
    full_size: Size
    reduce: int

    @property
    def nbytes(self) -> int:
        return int(self.pixels.nbytes)

    def good_enough_for(self, target: Size) -> bool:
        """True if this decode has at least the resolution a view of `target` device pixels needs."""
        if target[0] <= 0 or target[1] <= 0:
            return self.reduce == 1
        return self.reduce <= pick_reduction(self.full_size, target)


def fitted_size(full: Size, box: Size) -> Size:
    """The size (w, h) an image of size `full` has when fitted into `box`, as the view's fit does."""
    scale = min(box[0] / max(1, full[0]), box[1] / max(1, full[1]))
    return max(1, int(full[0] * scale)), max(1, int(full[1] * scale))


def decode(request: DecodeRequest) -> Decoded:
    """Header, then a decode reduced as far as the target size allows. Runs on a worker thread."""
    path = request.path
    try:
        header = read_header(path)
        full: Size | None = (header.width, header.height)
    except ImageReadError:
        full = None  # let the decoder have a go (and give its own reason if it fails too)
    reduce = 1
    if full is not None and request.target[0] > 0 and request.target[1] > 0:
        need = fitted_size(full, request.target) if request.fit else request.target
        reduce = pick_reduction(full, need)
    try:
        pixels = read_image(path, reduce)
        pixels = cv2.cvtColor(pixels, _TO_DISPLAY)
    except (ImageReadError, OSError, ValueError) as exc:
        return Decoded(path, None, full, reduce, str(exc) or type(exc).__name__)
    except Exception as exc:  # a decoder bug must not kill the worker thread
        return Decoded(path, None, full, reduce, f"{type(exc).__name__}: {exc}")
    if full is None:
        full = (int(pixels.shape[1]) * reduce, int(pixels.shape[0]) * reduce)
    return Decoded(path, pixels, full, reduce)


def to_qimage(decoded: Decoded) -> LoadedImage:
    """Wrap the worker's array in a QImage without copying (UI thread)."""
    assert decoded.pixels is not None and decoded.full_size is not None
    pixels = np.ascontiguousarray(decoded.pixels)
    h, w = pixels.shape[:2]
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        image = QImage(pixels.data, w, h, int(pixels.strides[0]), _DISPLAY_FORMAT)
    else:  # 3-channel BGR (a caller's own array)
        image = QImage(pixels.data, w, h, int(pixels.strides[0]), QImage.Format.Format_BGR888)
    return LoadedImage(decoded.path, image, pixels, decoded.full_size, decoded.reduce)


class _Jobs:
    """What the two workers share: the wanted request, the prefetch queue and what each is decoding."""

    FRONT, BACK = 0, 1

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.wanted: DecodeRequest | None = None
        self.prefetch: list[DecodeRequest] = []
        self.busy: list[DecodeRequest | None] = [None, None]
        self.busy_wanted = [False, False]  # what the slot decodes is the wanted image (not a prefetch)
        self.delivering: list[str] = []  # decoded, the result not yet handled on the UI thread
        self.not_before = 0.0            # monotonic time before which no prefetch starts
        self.stopping = False

    def take(self, slot: int) -> DecodeRequest | None:
        """Block until there is work for this worker (None: stop). The front worker only takes the wanted
        image; the back one takes it too when idle, otherwise prefetches, but only while nothing is wanted."""
        with self.cond:
            while True:
                if self.stopping:
                    return None
                if self.wanted is not None:
                    request, self.wanted = self.wanted, None
                    self.busy_wanted[slot] = True
                elif slot == self.BACK and self.prefetch and not any(self.busy_wanted):
                    wait = self.not_before - time.monotonic()
                    if wait > 0:
                        self.cond.wait(wait)
                        continue
                    request = self.prefetch.pop(0)
                else:
                    self.cond.wait()
                    continue
                self.busy[slot] = request
                return request

    def finished(self, slot: int, path: str) -> None:
        with self.cond:
            if self.busy_wanted[slot]:  # the UI is about to show it: let it, before prefetching more
                self.not_before = max(self.not_before, time.monotonic() + PREFETCH_DELAY)
            self.busy[slot] = None
            self.busy_wanted[slot] = False
            self.delivering.append(path)
            self.cond.notify_all()

    def delivered(self, path: str) -> None:
        with self.cond:
            if path in self.delivering:
                self.delivering.remove(path)

    def being_decoded(self, path: str) -> bool:
        return path in self.delivering or any(r is not None and r.path == path for r in self.busy)


class _DecodeThread(QThread):
    decoded = Signal(object)  # Decoded, delivered queued to the loader on the UI thread

    def __init__(self, jobs: _Jobs, slot: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._slot = slot

    def run(self) -> None:
        jobs = self._jobs
        while True:
            request = jobs.take(self._slot)
            if request is None:
                return
            try:
                result = decode(request)
            except Exception as exc:  # never let the worker die: the UI would wait for this image forever
                result = Decoded(request.path, None, None, 1, f"{type(exc).__name__}: {exc}")
            finally:
                jobs.finished(self._slot, request.path)
            if jobs.stopping:
                return
            self.decoded.emit(result)


class ImageLoader(QObject):
    """Asynchronous image source for the view: `request()` the current image, `prefetch()` neighbours."""

    loaded = Signal(object)        # LoadedImage of the wanted path
    failed = Signal(str, str)      # path, reason: the wanted image or a prefetched one cannot be decoded

    def __init__(self, parent: QObject | None = None, *, cache_size: int = 8,
                 cache_bytes: int = 512 * 1024 * 1024) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[str, LoadedImage] = OrderedDict()
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._failed: OrderedDict[str, str] = OrderedDict()  # recent decode failures: not prefetched again
        self._wanted: DecodeRequest | None = None
        self._prefetch: list[DecodeRequest] = []
        self._jobs = _Jobs()
        self._threads = [_DecodeThread(self._jobs, slot, self) for slot in (_Jobs.FRONT, _Jobs.BACK)]
        for thread in self._threads:
            thread.decoded.connect(self._on_decoded)
            thread.start()
        app = QCoreApplication.instance()
        if app is not None:  # never let Qt destroy a running thread, even if the owner forgot close()
            app.aboutToQuit.connect(self.close)

    # --- API ---------------------------------------------------------------------------------------------
    def request(self, path: str | os.PathLike[str], target: Size, *, fit: bool = False) -> LoadedImage | None:
        """Want `path` shown at `target` device pixels (or fitted into the `target` box). Returns the cached
        image at once if it is good enough (and then emits nothing); otherwise returns None and emits `loaded`
        or `failed` later."""
        path = os.fspath(path)
        request = DecodeRequest(path, target, fit)
        cached = self._cache.get(path)
        if cached is not None and self._satisfies(cached, request):
            self._cache.move_to_end(path)
            self._wanted = None
            self._schedule()
            return cached
        self._wanted = request
        self._schedule()
        return None

    def prefetch(self, paths: Iterable[str | os.PathLike[str]], target: Size, *, fit: bool = False,
                 delay: float = PREFETCH_DELAY) -> None:
        """Decode these (in order) when nothing else is wanted, unless cached already, starting `delay` seconds
        from now. With `fit`, `target` is the box the images will be fitted into (the right reduction for each
        image's own size)."""
        self._prefetch = [DecodeRequest(os.fspath(p), target, fit) for p in paths]
        self._jobs.not_before = time.monotonic() + delay
        self._schedule()

    def cached(self, path: str | os.PathLike[str]) -> LoadedImage | None:
        return self._cache.get(os.fspath(path))

    def clear(self) -> None:
        """Forget everything (a new dataset was opened)."""
        self._cache.clear()
        self._failed.clear()
        self._wanted = None
        self._prefetch = []
        self._schedule()

    def close(self) -> None:
        """Stop the worker threads and wait for them (a decode in progress finishes first). Idempotent."""
        with self._jobs.cond:
            self._jobs.stopping = True
            self._jobs.wanted = None
            self._jobs.prefetch = []
            self._jobs.cond.notify_all()
        for thread in self._threads:
            if thread.isRunning():
                thread.wait()

    # --- internals ---------------------------------------------------------------------------------------
    @staticmethod
    def _satisfies(loaded: LoadedImage, request: DecodeRequest) -> bool:
        if request.fit and request.target[0] > 0 and request.target[1] > 0:
            return loaded.good_enough_for(fitted_size(loaded.full_size, request.target))
        return loaded.good_enough_for(request.target)

    def _schedule(self) -> None:
        """Hand the workers what is still needed: the wanted image unless it is being decoded already, then
        the prefetches that are neither cached (well enough), being decoded, failed, nor the wanted one."""
        jobs = self._jobs
        with jobs.cond:
            wanted = self._wanted
            if wanted is not None and jobs.being_decoded(wanted.path):
                wanted = None  # arrives soon; if it is too coarse, _on_decoded asks again
            jobs.wanted = wanted
            queue = []
            for request in self._prefetch:
                if (self._wanted is not None and request.path == self._wanted.path) \
                        or jobs.being_decoded(request.path) or request.path in self._failed:
                    continue
                cached = self._cache.get(request.path)
                if cached is None or not self._satisfies(cached, request):
                    queue.append(request)
            jobs.prefetch = queue
            jobs.cond.notify_all()

    def _on_decoded(self, result: Decoded) -> None:
        self._jobs.delivered(result.path)
        wanted = self._wanted is not None and self._wanted.path == result.path
        if result.pixels is None:
            reason = result.error or "cannot decode image"
            self._failed[result.path] = reason
            while len(self._failed) > 256:
                self._failed.popitem(last=False)
            if wanted:
                self._wanted = None
            self._prefetch = [r for r in self._prefetch if r.path != result.path]
            self._schedule()
            self.failed.emit(result.path, reason)
            return
        self._failed.pop(result.path, None)
        loaded = self._store(to_qimage(result))
        if wanted:
            assert self._wanted is not None
            if self._satisfies(loaded, self._wanted):
                self._wanted = None
            # else: a coarser decode (a prefetch) arrived first: show it, _schedule asks for the finer one
        self._schedule()
        if wanted:
            self.loaded.emit(loaded)

    def _store(self, loaded: LoadedImage) -> LoadedImage:
        """Cache a decode (unless a finer one of the same image is cached); returns the one cached."""
        previous = self._cache.get(loaded.path)
        if previous is not None and previous.reduce < loaded.reduce:
            self._cache.move_to_end(loaded.path)
            return previous  # a late, coarser prefetch
        self._cache[loaded.path] = loaded
        self._cache.move_to_end(loaded.path)
        total = sum(item.nbytes for item in self._cache.values())
        while len(self._cache) > 1 and (len(self._cache) > self._cache_size or total > self._cache_bytes):
            _, dropped = self._cache.popitem(last=False)
            total -= dropped.nbytes
        return loaded
