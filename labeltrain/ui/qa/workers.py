"""Worker threads for the QA views: `KeyedWorker` (many small jobs, newest request first, e.g. thumbnails for the
tiles on screen) and `Task` (one long function with progress, cancel, result or error). Workers receive and return
plain data; results arrive as signals on the UI thread."""

from __future__ import annotations

import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal


class _KeyedThread(QThread):
    def __init__(self, owner: KeyedWorker) -> None:
        super().__init__()
        self.owner = owner

    def run(self) -> None:
        owner = self.owner
        while True:
            with owner._cond:
                while not owner._pending and not owner._stop:
                    owner._cond.wait()
                if owner._stop:
                    return
                key, _ = owner._pending.popitem(last=True)  # newest first: what is on screen now
                owner._running.add(key)
                generation = owner._generation
            try:
                value = owner._fn(key)
            except Exception as exc:  # never lose the thread to one bad file
                value = exc
            with owner._cond:
                owner._running.discard(key)
                if owner._stop:
                    return
            if generation == owner._generation:
                owner.finished.emit(key, value)


class KeyedWorker(QObject):
    """Runs `fn(key)` on `threads` worker threads. Requests are de-duplicated and served newest first; beyond
    `max_pending` the oldest are forgotten (they scrolled away). `finished(key, value)`: value is the result or
    the exception raised."""

    finished = Signal(object, object)

    def __init__(self, fn: Callable[[Any], Any], threads: int = 1, max_pending: int = 512,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._max = max_pending
        self._cond = threading.Condition()
        self._pending: OrderedDict[Hashable, None] = OrderedDict()
        self._running: set[Hashable] = set()
        self._stop = False
        self._generation = 0
        self._threads = [_KeyedThread(self) for _ in range(max(1, threads))]
        for t in self._threads:
            t.start(QThread.Priority.LowPriority)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def request(self, key: Hashable) -> None:
        with self._cond:
            if key in self._running:
                return
            if key in self._pending:
                self._pending.move_to_end(key)
            else:
                self._pending[key] = None
                while len(self._pending) > self._max:
                    self._pending.popitem(last=False)
            self._cond.notify()

    def clear(self) -> None:
        """Forget every pending request; results of running ones are dropped."""
        with self._cond:
            self._pending.clear()
            self._generation += 1

    def pending(self) -> int:
        with self._cond:
            return len(self._pending) + len(self._running)

    def close(self) -> None:
        """Stop the threads (pending requests are dropped). Idempotent."""
        with self._cond:
            self._stop = True
            self._pending.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.wait()


class CachedProvider(QObject):
    """Values a KeyedWorker computes in the background, kept in memory (least recently used first out beyond
    `capacity`): `get(key)` returns the value or None (and asks for it); `ready(key)` says when it arrived;
    a key whose computation raised is remembered with its message and not asked again. `convert(result)` turns
    the worker's plain result into what the views use (on the UI thread: QImages are made there)."""

    ready = Signal(object)

    def __init__(self, fn: Callable[[Any], Any], capacity: int, threads: int = 1,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[Hashable, Any] = OrderedDict()
        self._failed: dict[Hashable, str] = {}
        self._capacity = capacity
        self._worker = KeyedWorker(fn, threads=threads, parent=self)
        self._worker.finished.connect(self._arrived)

    def convert(self, result: Any) -> Any:
        return result

    def get(self, key: Hashable) -> Any:
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        if key not in self._failed:
            self._worker.request(key)
        return None

    def error(self, key: Hashable) -> str | None:
        """Why `key` could not be computed, or None."""
        return self._failed.get(key)

    def invalidate(self, key: Hashable) -> None:
        """The source changed: compute it again next time."""
        self._cache.pop(key, None)
        self._failed.pop(key, None)

    def clear(self) -> None:
        self._worker.clear()
        self._cache.clear()
        self._failed.clear()

    def pending(self) -> int:
        return self._worker.pending()

    def close(self) -> None:
        self._worker.close()

    def _arrived(self, key: Hashable, value: object) -> None:
        if isinstance(value, Exception):
            self._failed[key] = str(value) or type(value).__name__
        else:
            self._cache[key] = self.convert(value)
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        self.ready.emit(key)


Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]  # fn(progress, cancelled) -> result


class Task(QThread):
    """One long function off the UI thread: `progressed(done, total)`, then `succeeded(result)` or
    `failed(message)`; `cancel()` is cooperative (the function polls `cancelled()`)."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()
        self.result: Any = None

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            self.result = self._work(self.progressed.emit, self._cancel.is_set)
        except Exception as exc:
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.succeeded.emit(self.result)


class TaskSlot(QObject):
    """At most one Task at a time for a view: starting a new one cancels the last (whose result is dropped).
    The callbacks run on the UI thread (the task's signals are connected to this object's methods). Every task
    stays referenced here until its thread has finished (a QThread must never be freed while it runs)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task: Task | None = None
        self._live: list[Task] = []
        self._on_done: Callable[[Any], None] | None = None
        self._on_error: Callable[[str], None] | None = None
        self._on_progress: Callable[[int, int], None] | None = None

    def start(self, work: Work, on_done: Callable[[Any], None], on_error: Callable[[str], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> Task:
        self.cancel()
        task = Task(work)
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        task.progressed.connect(self._progressed)
        task.finished.connect(self._finished)
        self.task = task
        self._live.append(task)
        task.start(QThread.Priority.LowPriority)
        return task

    def busy(self) -> bool:
        return self.task is not None

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def close(self) -> None:
        self.cancel()
        for t in list(self._live):
            t.wait()

    def _succeeded(self, result: Any) -> None:
        if self.sender() is self.task:
            self.task = None  # idle again when the callback runs (it may start the next task)
            if self._on_done is not None:
                self._on_done(result)

    def _failed(self, message: str) -> None:
        if self.sender() is self.task:
            self.task = None
            if self._on_error is not None:
                self._on_error(message)

    def _progressed(self, done: int, total: int) -> None:
        if self.sender() is self.task and self._on_progress is not None:
            self._on_progress(done, total)

    def _finished(self) -> None:
        task = self.sender()
        if task is self.task:
            self.task = None
        if task in self._live:
            self._live.remove(task)
        if isinstance(task, Task):
            task.deleteLater()
