"""Dataset discovery off the UI thread: `core.dataset.discover` on a QThread, results back as signals.

The worker gets a path and options and returns the plain `Dataset` dataclass. On the way it reports progress:
a count of images found (an int), and for folders `ListingBatch` records carrying the images listed so far as
provisional items, so the file list fills in (and the first image shows) long before a 100,000-image folder
is listed. Batches are merged to at most one signal every BATCH_INTERVAL seconds (the first goes at once).
Starting a new load cancels the previous one (cooperatively, through discover's `cancelled` callback); stale
results are dropped by id.

The cyclic garbage collector is paused while a listing runs and what it built is then frozen (`gc.freeze`):
a full collection walks every tracked object while holding the GIL, and with 100k ImageItems that is a ~50 ms
stall of the UI thread each time, during the listing and later while browsing. The items hold no reference
cycles (reference counting frees them when the dataset goes); freezing only keeps the collector off them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from labeltrain.core.dataset import Dataset, ImageItem, discover, load_annotation

BATCH_INTERVAL = 0.05  # seconds between two ListingBatch signals (the UI appends rows at this rate)


@dataclass(frozen=True, slots=True)
class ListingBatch:
    """Provisional rows of a listing in progress: append `items`; `count` images were listed so far. The Dataset
    that ends the listing is what counts (usually the same items, in the same order, with labels checked)."""

    items: list[ImageItem]
    count: int


def _read_collection(dataset: Dataset) -> None:
    """A collection file (COCO, CreateML) is parsed on first use and cached on the dataset: do that here, on
    the worker thread, so the first image switch in the UI does not parse a big JSON file."""
    if dataset.items and dataset.resolved_label_mode == "collection":
        load_annotation(dataset, dataset.items[0])


_paused = 0
_was_enabled = True
_paused_lock = threading.Lock()


@contextlib.contextmanager
def _collector_paused():
    """No cyclic GC while a listing runs (nestable across loader threads); on the way out, freeze what exists so
    later collections skip the dataset's objects. The collector's state from before is restored."""
    global _paused, _was_enabled
    with _paused_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0:
                gc.freeze()
                if _was_enabled:
                    gc.enable()


class _DiscoverThread(QThread):
    done = Signal(int, object)      # load id, Dataset
    error = Signal(int, str)        # load id, reason
    progressed = Signal(int, object)  # load id, an int count or a ListingBatch

    def __init__(self, load_id: int, path: Path, options: dict, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.load_id = load_id
        self.path = path
        self.options = options
        self.cancel_event = threading.Event()
        self._pending: list[ImageItem] = []
        self._sent = 0
        self._last_emit = 0.0

    def run(self) -> None:
        try:
            with _collector_paused():
                dataset = discover(self.path, progress=self._progress, cancelled=self.cancel_event.is_set,
                                   listed=self._listed, **self.options)
                self._pending = []  # the dataset itself follows at once
            _read_collection(dataset)
        except Exception as exc:  # report, never kill the thread silently
            if not self.cancel_event.is_set():
                self.error.emit(self.load_id, str(exc) or type(exc).__name__)
            return
        if not self.cancel_event.is_set():
            self.done.emit(self.load_id, dataset)

    def _listed(self, items: list[ImageItem]) -> None:
        self._pending.extend(items)  # never keep `items` itself: discover reuses that list
        if not self._sent or time.perf_counter() - self._last_emit >= BATCH_INTERVAL:
            self._flush()

    def _flush(self) -> None:
        if self._pending and not self.cancel_event.is_set():
            items, self._pending = self._pending, []
            self._sent += len(items)
            self._last_emit = time.perf_counter()
            self.progressed.emit(self.load_id, ListingBatch(items, self._sent))

    def _progress(self, *args) -> None:
        if self._pending and time.perf_counter() - self._last_emit >= BATCH_INTERVAL:
            self._flush()
        elif not self._sent:  # no folder listed yet: a count for the status bar
            self.progressed.emit(self.load_id, args[0] if len(args) == 1 else args)


class DatasetLoader(QObject):
    """Loads one dataset at a time; `load()` supersedes any load still running."""

    loaded = Signal(object)      # Dataset
    failed = Signal(str, str)    # path, reason
    progress = Signal(object)    # an int (images found so far) or a ListingBatch (provisional rows)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._next_id = 0
        self._current: _DiscoverThread | None = None
        self._threads: set[_DiscoverThread] = set()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def load(self, path: str | os.PathLike[str], **options) -> None:
        """Discover `path` (folder, data.yaml, COCO/CreateML JSON); options go to `discover`."""
        self.cancel()
        self._next_id += 1
        thread = _DiscoverThread(self._next_id, Path(path), options)
        thread.done.connect(self._on_done)
        thread.error.connect(self._on_error)
        thread.progressed.connect(self._on_progress)
        thread.finished.connect(lambda t=thread: self._forget(t))
        self._threads.add(thread)
        self._current = thread
        thread.start()

    def is_loading(self) -> bool:
        return self._current is not None

    def cancel(self) -> None:
        if self._current is not None:
            self._current.cancel_event.set()
            self._current = None

    def close(self) -> None:
        """Cancel and wait for every worker (window closing). Idempotent."""
        self.cancel()
        for thread in list(self._threads):
            thread.cancel_event.set()
            thread.wait()
        self._threads.clear()

    def _is_current(self, load_id: int) -> bool:
        return self._current is not None and self._current.load_id == load_id

    def _on_done(self, load_id: int, dataset) -> None:
        if self._is_current(load_id):
            self._current = None
            self.loaded.emit(dataset)

    def _on_error(self, load_id: int, reason: str) -> None:
        if self._is_current(load_id):
            path = str(self._current.path) if self._current is not None else ""
            self._current = None
            self.failed.emit(path, reason)

    def _on_progress(self, load_id: int, report) -> None:
        if self._is_current(load_id):
            self.progress.emit(report)

    def _forget(self, thread: _DiscoverThread) -> None:
        self._threads.discard(thread)
        thread.deleteLater()
