"""Run a long function off the UI thread: behind a progress dialog with Cancel (`run_with_progress`), or in the
background with a callback (`BackgroundJob`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]  # fn(progress, cancelled) -> result


class _Runner(QThread):
    progressed = Signal(int, int)

    def __init__(self, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self.cancel_event = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._work(lambda done, total: self.progressed.emit(done, total), self.cancel_event.is_set)
        except BaseException as exc:  # handed to the UI thread, never lost in the worker
            self.error = exc


def run_with_progress(parent: QWidget, title: str, work: Work) -> Any:
    """Run `work` in a thread; a modal progress dialog appears if it takes more than 300 ms. Returns its
    result or raises its exception in the caller."""
    dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
    dialog.setWindowTitle("labeltrain")
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    runner = _Runner(work, parent)
    loop = QEventLoop()
    runner.progressed.connect(lambda done, total: (dialog.setMaximum(total), dialog.setValue(done)))
    dialog.canceled.connect(runner.cancel_event.set)
    runner.finished.connect(loop.quit)
    runner.start()
    if not runner.isFinished():
        loop.exec()
    runner.wait()
    dialog.reset()
    dialog.deleteLater()
    runner.deleteLater()
    if runner.error is not None:
        raise runner.error
    return runner.result


class BackgroundJob(QObject):
    """One function in a worker thread; `done(result)` on the UI thread. Starting again cancels the last run
    (its result is dropped)."""

    done = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner: _Runner | None = None
        self._old: list[_Runner] = []

    def start(self, work: Work) -> None:
        self.cancel()
        runner = _Runner(work, self)
        runner.finished.connect(lambda r=runner: self._finished(r))
        self._runner = runner
        runner.start()

    def cancel(self) -> None:
        if self._runner is not None:
            self._runner.cancel_event.set()
            self._old.append(self._runner)
            self._runner = None

    def close(self) -> None:
        self.cancel()
        for runner in self._old:
            runner.wait()
        self._old.clear()

    def _finished(self, runner: _Runner) -> None:
        if runner is self._runner:
            self._runner = None
            if runner.error is None:
                self.done.emit(runner.result)
        elif runner in self._old:
            self._old.remove(runner)
        runner.deleteLater()
