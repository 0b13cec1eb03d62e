"""The poller behind RunController: lives in its own QThread and does every file read (events.jsonl through
TrainingRun.poll, the tail of train.log), so that a slow disk, for example a shared one a GPU server writes
to, never blocks the UI thread. It hands plain data to the UI thread through queued signals."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from labeltrain.training.runner import TrainingRun

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean_log(text: str) -> str:
    """Terminal output as a log view shows it: no colour codes, a progress bar line only in its last state."""
    lines = _ANSI.sub("", text).split("\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines)


class LogTail:
    """Complete lines appended to a log file since the last read (a progress bar's line waits for its end)."""

    def __init__(self, path: Path | None, from_end: bool = False) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        if path is not None and from_end:
            try:
                self.offset = path.stat().st_size
            except OSError:
                self.offset = 0

    def read(self, limit: int = 256_000) -> str:
        if self.path is None:
            return ""
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < self.offset:
                    self.offset, self.partial = 0, b""
                if size - self.offset > limit:  # first look at a huge log: its tail is enough
                    self.offset, self.partial = size - limit, b""
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return ""
        self.offset += len(chunk)
        data = self.partial + chunk
        cut = data.rfind(b"\n") + 1
        self.partial = data[cut:]
        return clean_log(data[:cut].decode("utf-8", errors="replace")) if cut else ""


class Poller(QObject):
    """Lives in the controller's thread: polls the run and the log, hands plain data to the UI thread."""

    delivered = Signal(int, object)  # generation, list[Event]
    logged = Signal(int, str)
    ended = Signal(int)

    def __init__(self, run: TrainingRun, lock: threading.Lock) -> None:
        super().__init__()
        self.run = run
        self.lock = lock
        self.generation = 0
        self.log: LogTail = LogTail(None)
        self.timer: QTimer | None = None

    @Slot(int, int, object)
    def begin(self, generation: int, interval: int, log: LogTail) -> None:
        if self.timer is None:
            self.timer = QTimer(self)
            self.timer.timeout.connect(self.tick)
        self.log = log
        self.timer.start(interval)
        self.tick()

    @Slot()
    def halt(self) -> None:
        if self.timer is not None:
            self.timer.stop()

    @Slot()
    def tick(self) -> None:
        with self.lock:
            generation = self.generation
            events = self.run.poll()
            running = self.run.is_running
            text = self.log.read()
        if text:
            self.logged.emit(generation, text)
        if events:
            self.delivered.emit(generation, events)
        if not running:
            if self.timer is not None:
                self.timer.stop()
            self.ended.emit(generation)
