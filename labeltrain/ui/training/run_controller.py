"""RunController: drives a TrainingRun (the training itself is a child process) and turns its events into Qt
signals on the UI thread.

A Poller (poller.py) in its own QThread does every file read; deliveries carry a generation number so that
events of a run the user has already left (a new watch, start or resume) are dropped.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, SignalInstance

from labeltrain.training.config import TrainConfig
from labeltrain.training.events import (
    BatchEnd,
    CheckpointSaved,
    EpochEnd,
    Event,
    Failed,
    FinalEval,
    Finished,
    RunStarted,
    Status,
    Stopped,
)
from labeltrain.training.reader import read_events
from labeltrain.training.runner import LOG_FILE, ConfigError, TrainingRun
from labeltrain.ui.training.poller import LogTail, Poller

LOCAL_INTERVAL_MS = 150
WATCH_INTERVAL_MS = 500
CHILD_NICENESS = 10


class RunController(QObject):
    """Start, resume, watch and stop trainings; every event arrives as a signal on the UI thread.

    After any end (finished, failed, stopped, or a start that could not happen) the controller is idle and
    ready for the next run."""

    runStarted = Signal(object)  # RunStarted
    status = Signal(str)
    batch = Signal(object)  # BatchEnd
    epoch = Signal(object)  # EpochEnd
    finalEval = Signal(object)  # FinalEval
    checkpoint = Signal(object)  # CheckpointSaved
    finished = Signal(object)  # Finished
    failed = Signal(str, str)  # reason (message and hint), kind
    failedEvent = Signal(object)  # Failed, with detail and checkpoint
    stopped = Signal(object)  # Stopped
    events = Signal(object)  # list[Event]: every delivery in order (curves take these in one go)
    replayed = Signal(object)  # list[Event] of earlier segments, shown before a resumed run continues
    logAppended = Signal(str)
    activeChanged = Signal(bool)  # a run is being driven or watched
    configRejected = Signal(object)  # list[str]: plain-language problems of a config that cannot start

    _begin = Signal(int, int, object)
    _halt = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run = TrainingRun()
        self._lock = threading.Lock()
        self._generation = 0
        self._active = False
        self.watching = False
        # The thread runs only while a run is followed, so an idle controller can be deleted at any time.
        self._thread = QThread()
        self._thread.setObjectName("training-poller")
        self._poller = Poller(self.run, self._lock)
        self._poller.moveToThread(self._thread)
        self._begin.connect(self._poller.begin)
        self._halt.connect(self._poller.halt, Qt.ConnectionType.BlockingQueuedConnection)
        self._poller.delivered.connect(self._on_delivered)
        self._poller.logged.connect(self._on_logged)
        self._poller.ended.connect(self._on_ended)
        self._signals: dict[type[Event], SignalInstance] = {
            RunStarted: self.runStarted, BatchEnd: self.batch, EpochEnd: self.epoch, FinalEval: self.finalEval,
            CheckpointSaved: self.checkpoint, Finished: self.finished, Stopped: self.stopped}
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ---- state ----
    @property
    def active(self) -> bool:
        return self._active

    @property
    def run_dir(self) -> Path | None:
        return self.run.run_dir

    # ---- commands ----
    def start(self, config: TrainConfig) -> Path | None:
        """Start a new run; None (with configRejected or failed emitted) when it cannot start."""
        if self._refuse_busy():
            return None
        try:
            with self._lock:
                run_dir = self.run.start(config)
                self._lower_priority()
                self._arm(LOCAL_INTERVAL_MS, LogTail(self.run.log_path), watching=False)
        except ConfigError as exc:
            self.configRejected.emit(list(exc.problems))
            self.failed.emit("The training settings need attention: " + "; ".join(exc.problems), "config")
            return None
        except (OSError, ValueError, RuntimeError) as exc:
            self.failed.emit(f"The training could not start: {exc}", "error")
            return None
        return run_dir

    def resume(self, run_dir: str | os.PathLike[str]) -> Path | None:
        """Continue a stopped (or interrupted) run in its own folder; its earlier events are replayed first."""
        if self._refuse_busy():
            return None
        run_dir = Path(run_dir)
        try:
            past = read_events(run_dir)
            with self._lock:
                run_dir = self.run.resume(run_dir)
                self._lower_priority()
                self._arm(LOCAL_INTERVAL_MS, LogTail(self.run.log_path, from_end=True), watching=False)
        except (OSError, ValueError, RuntimeError) as exc:
            self.failed.emit(f"The run cannot be resumed: {exc}", "config")
            return None
        self.replayed.emit(past)
        return run_dir

    def watch(self, run_dir: str | os.PathLike[str]) -> bool:
        """Follow a run folder written by another process or machine (its events from the beginning)."""
        if self.run.is_running and not self.watching:
            self.failed.emit("A training is running: stop it before monitoring another run folder.", "busy")
            return False
        run_dir = Path(run_dir).expanduser().absolute()
        if not run_dir.is_dir():
            self.failed.emit(f"Not a folder: {run_dir}", "config")
            return False
        with self._lock:
            self.run.watch(run_dir)
            self._arm(WATCH_INTERVAL_MS, LogTail(run_dir / LOG_FILE), watching=True)
        return True

    def stop(self) -> None:
        """Ask the run to stop (a watched run too: through a STOP file in its folder). Never blocks."""
        self.run.stop()

    def detach(self) -> None:
        """Stop following a watched run without touching it."""
        if self.watching:
            with self._lock:
                self._generation += 1
                self._poller.generation = self._generation
            self._end_thread()
            self.watching = False
            self._set_active(False)

    def shutdown(self, stop_training: bool = True) -> None:
        """Before the window closes: ask a running child to stop (it keeps a resumable checkpoint) and end the
        poller thread. The child also stops by itself when the GUI process is gone."""
        if stop_training and self.run.is_running and not self.watching:
            self.run.stop()
        self._end_thread()

    # ---- internals ----
    def _lower_priority(self) -> None:
        """Lower the child's CPU priority right after it was started, while it is still one thread: its torch
        threads and data-loader processes inherit the niceness. Training alone runs as fast (niceness only
        matters under contention), but the GUI wins a shared core, so its paints are not delayed by tens of ms."""
        proc = getattr(self.run, "_proc", None)
        if proc is None or not hasattr(os, "setpriority") or CHILD_NICENESS <= 0:
            return
        with contextlib.suppress(OSError):  # exited already, or not allowed: it then runs at our priority
            os.setpriority(os.PRIO_PROCESS, proc.pid, os.getpriority(os.PRIO_PROCESS, 0) + CHILD_NICENESS)
        # Linux groups the CPU time of each session (the child starts its own): niceness only counts inside a
        # group, so the group's own niceness is lowered too.
        with contextlib.suppress(OSError), open(f"/proc/{proc.pid}/autogroup", "w") as f:
            f.write(str(CHILD_NICENESS))

    def _refuse_busy(self) -> bool:
        if self.run.is_running and not self.watching:
            self.failed.emit("A training is already running: stop it first.", "busy")
            return True
        return False

    def _arm(self, interval: int, log: LogTail, watching: bool) -> None:
        """Called with the lock held, right after the run was (re)started: new generation, poller on."""
        self._generation += 1
        self._poller.generation = self._generation
        self.watching = watching
        if not self._thread.isRunning():
            self._thread.start()
        self._begin.emit(self._generation, interval, log)
        self._set_active(True)

    def _end_thread(self) -> None:
        if self._thread.isRunning():
            self._halt.emit()  # blocking: the poller's timer is stopped in its own thread
            self._thread.quit()
            self._thread.wait()

    def _set_active(self, active: bool) -> None:
        if active != self._active:
            self._active = active
            self.activeChanged.emit(active)

    def _on_logged(self, generation: int, text: str) -> None:
        if generation == self._generation:
            self.logAppended.emit(text)

    def _on_delivered(self, generation: int, events: list[Event]) -> None:
        if generation != self._generation:
            return
        self.events.emit(events)
        for event in events:
            if isinstance(event, Status):
                self.status.emit(event.message)
            elif isinstance(event, Failed):
                self.failedEvent.emit(event)
                self.failed.emit(event.message + (f" {event.hint}" if event.hint else ""), event.kind)
            elif (signal := self._signals.get(type(event))) is not None:
                signal.emit(event)

    def _on_ended(self, generation: int) -> None:
        if generation == self._generation:
            self._end_thread()
            self.watching = False
            self._set_active(False)
