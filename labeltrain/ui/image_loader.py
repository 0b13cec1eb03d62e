"""Image decoding off the UI thread, with a small cache and prefetch of the neighbours.

The worker thread gets plain requests (path, target size) and returns plain data (a BGR numpy array, the
oriented full size, the reduce factor used, or an error message). The UI side wraps the array in a QImage,
keeps the last few in an LRU cache and tells the caller through `loaded` / `failed`.

Requests are "latest wins": asking for a new current image drops queued requests that have not started,
so holding down the next-image key never builds a backlog.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal
from PySide6.QtGui import QImage

from labeltrain.core.images import ImageReadError, pick_reduction, read_header, read_image

Size = tuple[int, int]


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    path: str
    target: Size  # the (w, h) in device pixels the image will be shown at; (0, 0) = full resolution


@dataclass(frozen=True, slots=True)
class Decoded:
    """What the worker returns: pixels or an error, never a Qt object."""

    path: str
    pixels: np.ndarray | None
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


def decode(request: DecodeRequest) -> Decoded:
    """Header, then a decode reduced as far as the target size allows. Runs on the worker thread."""
    path = request.path
    try:
        header = read_header(path)
        full: Size | None = (header.width, header.height)
    except ImageReadError:
        full = None  # let the decoder have a go (and give its own reason if it fails too)
    reduce = 1
    if full is not None and request.target[0] > 0 and request.target[1] > 0:
        reduce = pick_reduction(full, request.target)
    try:
        pixels = read_image(path, reduce)
    except (ImageReadError, OSError, ValueError) as exc:
        return Decoded(path, None, full, reduce, str(exc) or type(exc).__name__)
    except Exception as exc:  # a decoder bug must not kill the worker thread
        return Decoded(path, None, full, reduce, f"{type(exc).__name__}: {exc}")
    if full is None:
        full = (int(pixels.shape[1]), int(pixels.shape[0]))
    return Decoded(path, pixels, full, reduce)


def to_qimage(decoded: Decoded) -> LoadedImage:
    """Wrap the worker's BGR array in a QImage without copying (UI thread)."""
    assert decoded.pixels is not None and decoded.full_size is not None
    pixels = np.ascontiguousarray(decoded.pixels)
    h, w = pixels.shape[:2]
    image = QImage(pixels.data, w, h, int(pixels.strides[0]), QImage.Format.Format_BGR888)
    return LoadedImage(decoded.path, image, pixels, decoded.full_size, decoded.reduce)


class _DecodeThread(QThread):
    """One worker thread consuming a small priority queue: the current image first, then prefetches."""

    decoded = Signal(object)  # Decoded, delivered queued to the loader on the UI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._queue: list[DecodeRequest] = []
        self._current: DecodeRequest | None = None
        self._stopping = False

    def busy_with(self) -> DecodeRequest | None:
        """The request being decoded right now, if any."""
        with self._cond:
            return self._current

    def replace_queue(self, requests: Iterable[DecodeRequest]) -> None:
        with self._cond:
            self._queue = list(requests)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify()

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                request = self._current = self._queue.pop(0)
            result = decode(request)
            with self._cond:
                self._current = None
                if self._stopping:
                    return
            self.decoded.emit(result)


class ImageLoader(QObject):
    """Asynchronous image source for the view: `request()` the current image, `prefetch()` neighbours."""

    loaded = Signal(object)        # LoadedImage of the wanted path
    failed = Signal(str, str)      # path, reason

    def __init__(self, parent: QObject | None = None, *, cache_size: int = 6,
                 cache_bytes: int = 512 * 1024 * 1024) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[str, LoadedImage] = OrderedDict()
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._wanted: DecodeRequest | None = None
        self._prefetch: list[DecodeRequest] = []
        self._thread = _DecodeThread(self)
        self._thread.decoded.connect(self._on_decoded)
        self._thread.start()
        app = QCoreApplication.instance()
        if app is not None:  # never let Qt destroy a running thread, even if the owner forgot close()
            app.aboutToQuit.connect(self.close)

    # --- API ---------------------------------------------------------------------------------------------
    def request(self, path: str | os.PathLike[str], target: Size) -> LoadedImage | None:
        """Want `path` shown at `target` device pixels. Returns the cached image at once if it is good enough
        (and then emits nothing); otherwise returns None and emits `loaded` or `failed` later."""
        path = os.fspath(path)
        self._wanted = DecodeRequest(path, target)
        cached = self._cache.get(path)
        if cached is not None and cached.good_enough_for(target):
            self._cache.move_to_end(path)
            self._wanted = None
            self._schedule()
            return cached
        self._schedule()
        return None

    def prefetch(self, paths: Iterable[str | os.PathLike[str]], target: Size) -> None:
        """Decode these (in order) when the worker is idle, unless cached already."""
        self._prefetch = [DecodeRequest(os.fspath(p), target) for p in paths]
        self._schedule()

    def cached(self, path: str | os.PathLike[str]) -> LoadedImage | None:
        return self._cache.get(os.fspath(path))

    def clear(self) -> None:
        """Forget everything (a new dataset was opened)."""
        self._cache.clear()
        self._wanted = None
        self._prefetch = []
        self._schedule()

    def close(self) -> None:
        """Stop the worker thread and wait for it (the current decode finishes first). Idempotent."""
        if self._thread.isRunning():
            self._thread.stop()
            self._thread.wait()

    # --- internals ---------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        busy = self._thread.busy_with()
        queue = [self._wanted] if self._wanted is not None and self._wanted != busy else []
        for req in self._prefetch:
            if busy is not None and req.path == busy.path:
                continue
            cached = self._cache.get(req.path)
            if (cached is None or not cached.good_enough_for(req.target)) and req not in queue:
                queue.append(req)
        self._thread.replace_queue(queue)

    def _on_decoded(self, result: Decoded) -> None:
        wanted = self._wanted is not None and self._wanted.path == result.path
        if result.pixels is None:
            if wanted:
                self._wanted = None
                self.failed.emit(result.path, result.error or "cannot decode image")
            return
        loaded = to_qimage(result)
        self._store(loaded)
        self._prefetch = [r for r in self._prefetch if r.path != result.path]
        if wanted:
            assert self._wanted is not None
            if loaded.good_enough_for(self._wanted.target):
                self._wanted = None
            else:  # a coarser decode (a prefetch) arrived first: show it, the finer one is still queued
                self._schedule()
            self.loaded.emit(loaded)

    def _store(self, loaded: LoadedImage) -> None:
        self._cache[loaded.path] = loaded
        self._cache.move_to_end(loaded.path)
        total = sum(item.nbytes for item in self._cache.values())
        while len(self._cache) > 1 and (len(self._cache) > self._cache_size or total > self._cache_bytes):
            _, dropped = self._cache.popitem(last=False)
            total -= dropped.nbytes
