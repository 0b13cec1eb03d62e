"""Dataset discovery off the UI thread: `core.dataset.discover` on a QThread, results back as signals.

The worker gets a path and options and returns the plain `Dataset` dataclass. Starting a new load cancels the
previous one (cooperatively, through discover's `cancelled` callback); stale results are dropped by id.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from labeltrain.core.dataset import Dataset, discover, load_annotation


def _read_collection(dataset: Dataset) -> None:
    """A collection file (COCO, CreateML) is parsed on first use and cached on the dataset: do that here, on
    the worker thread, so the first image switch in the UI does not parse a big JSON file."""
    if dataset.items and dataset.resolved_label_mode == "collection":
        load_annotation(dataset, dataset.items[0])


class _DiscoverThread(QThread):
    done = Signal(int, object)      # load id, Dataset
    error = Signal(int, str)        # load id, reason
    progressed = Signal(int, object)  # load id, whatever discover reports (a count or a record)

    def __init__(self, load_id: int, path: Path, options: dict, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.load_id = load_id
        self.path = path
        self.options = options
        self.cancel_event = threading.Event()

    def run(self) -> None:
        try:
            dataset = discover(self.path, progress=self._progress, cancelled=self.cancel_event.is_set,
                               **self.options)
            _read_collection(dataset)
        except Exception as exc:  # report, never kill the thread silently
            if not self.cancel_event.is_set():
                self.error.emit(self.load_id, str(exc) or type(exc).__name__)
            return
        if not self.cancel_event.is_set():
            self.done.emit(self.load_id, dataset)

    def _progress(self, *args) -> None:
        self.progressed.emit(self.load_id, args[0] if len(args) == 1 else args)


class DatasetLoader(QObject):
    """Loads one dataset at a time; `load()` supersedes any load still running."""

    loaded = Signal(object)      # Dataset
    failed = Signal(str, str)    # path, reason
    progress = Signal(object)    # discover's progress report

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
