"""TrainingRun: one training in a child process, driven the same way by the GUI (from a QThread) and the CLI.

The child (labeltrain.training.worker) appends events to <run dir>/events.jsonl; `poll()` returns the new
ones, notices when the child has died without a last word and records that (crash, or stop) in the same
file. `stop()` signals the child, which stops at once (or right after saving an epoch) and leaves a
resumable last.pt; a child that does not react is killed after `force_after` seconds.

Threads: poll()/events()/wait() are meant for one consumer thread; stop() and kill() may be called from any
thread (the GUI's Stop button while a QThread iterates `events()`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from labeltrain.training.callbacks import STOP_FILE
from labeltrain.training.config import CONFIG_FILE, TrainConfig
from labeltrain.training.events import Event, Failed, Stopped, append_event
from labeltrain.training.failures import classify, crash_failure
from labeltrain.training.reader import EventFollower
from labeltrain.training.runs import new_run_dir
from labeltrain.training.worker import PARENT_PID_ENV

LOG_FILE = "train.log"  # the child's stdout and stderr (Ultralytics' own log)
FROZEN_WORKER_FLAG = "--training-worker"  # a frozen app re-executes itself with this first argument


class ConfigError(ValueError):
    """The config cannot start a run; `problems` lists why, one sentence each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def worker_command() -> list[str]:
    """How to start the worker: `python -m ...`, or the frozen executable with FROZEN_WORKER_FLAG."""
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_WORKER_FLAG]
    return [sys.executable, "-m", "labeltrain.training.worker"]


def _log_tail(path: Path, size: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - size))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


class TrainingRun:
    """One training run (start or resume), or a watched run directory. Reusable once a run has ended."""

    def __init__(self, on_event: Callable[[Event], None] | None = None, poll_interval: float = 0.1,
                 force_after: float = 30.0):
        self.on_event = on_event  # called from poll() for every new event (in the polling thread)
        self.poll_interval = poll_interval
        self.force_after = force_after  # seconds after stop() before the child is killed
        self.history: list[Event] = []  # every event delivered so far in this segment
        self._lock = threading.RLock()
        self._proc: subprocess.Popen | None = None
        self._follower: EventFollower | None = None
        self._run_dir: Path | None = None
        self._result: Event | None = None
        self._done = True
        self._stop_requested = False
        self._kill_at: float | None = None

    # ---- state ----
    @property
    def run_dir(self) -> Path | None:
        return self._run_dir

    @property
    def log_path(self) -> Path | None:
        return self._run_dir / LOG_FILE if self._run_dir else None

    @property
    def is_running(self) -> bool:
        """True until the run's end has been observed by poll() (the child may have just exited)."""
        return not self._done

    @property
    def result(self) -> Event | None:
        """The terminal event (Finished, Stopped or Failed) once the run has ended."""
        return self._result

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    # ---- starting ----
    def start(self, config: TrainConfig) -> Path:
        """Validate `config`, create a new run directory, save config.yaml there and start the child.
        Raises ConfigError (with .problems) when the config is not usable."""
        problems = config.validate()
        if problems:
            raise ConfigError(problems)
        project = Path(config.project).expanduser() if config.project else config.default_project()
        run_dir = new_run_dir(project, config.name)
        config = config.with_changes(data=str(Path(config.data).expanduser().absolute()), project=str(project),
                                     name=run_dir.name)
        config.save(run_dir / CONFIG_FILE)
        self._launch(run_dir, [str(run_dir / CONFIG_FILE), str(run_dir)], from_end=False)
        return run_dir

    def resume(self, run_dir: str | os.PathLike[str], device: str | None = None, batch: int | None = None,
               workers: int | None = None) -> Path:
        """Continue the run in `run_dir` from weights/last.pt (same folder, results.csv and events.jsonl grow).
        Device, batch and workers may change (for example to resume on another machine)."""
        run_dir = Path(run_dir).expanduser().absolute()
        if not (run_dir / "weights" / "last.pt").is_file():
            raise FileNotFoundError(f"nothing to resume in {run_dir}: no weights/last.pt")
        args = ["--resume", str(run_dir)]
        for flag, value in (("--device", device), ("--batch", batch), ("--workers", workers)):
            if value is not None:
                args += [flag, str(value)]
        self._launch(run_dir, args, from_end=True)
        return run_dir

    def watch(self, run_dir: str | os.PathLike[str]) -> None:
        """Follow a run started elsewhere (another process or machine): poll() returns its events from the
        beginning; stop() asks it to stop through a STOP file in its folder."""
        with self._lock:
            self._reset(Path(run_dir).expanduser().absolute())
            self._follower = EventFollower(self._run_dir)

    def _reset(self, run_dir: Path) -> None:
        if not self._done and self._proc is not None:
            raise RuntimeError("a training is already running")
        self._run_dir = run_dir
        self._proc, self._result, self._done = None, None, False
        self._stop_requested, self._kill_at = False, None
        self.history = []

    def _launch(self, run_dir: Path, args: list[str], from_end: bool) -> None:
        with self._lock:
            self._reset(run_dir)
            (run_dir / STOP_FILE).unlink(missing_ok=True)
            self._follower = EventFollower(run_dir, from_end=from_end)
            env = {**os.environ, PARENT_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"}
            flags: dict = {"start_new_session": True} if os.name == "posix" else {
                "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
            with open(run_dir / LOG_FILE, "ab") as log:
                self._proc = subprocess.Popen(worker_command() + args, stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=subprocess.STDOUT, env=env, cwd=str(run_dir), **flags)

    # ---- events ----
    def poll(self) -> list[Event]:
        """New events since the last call (never blocks). Detects the child's end and records a crash."""
        with self._lock:
            if self._follower is None or self._done:
                return []
            events = self._follower.poll()
            self._take(events)
            proc = self._proc
            if proc is not None:
                if proc.poll() is not None:
                    more = self._follower.poll()
                    self._take(more)
                    events += more
                    if self._result is None:
                        events += self._record_last_word(proc.returncode)
                    self._done = True
                    (self._run_dir / STOP_FILE).unlink(missing_ok=True)
                elif self._kill_at is not None and time.monotonic() > self._kill_at:
                    self.kill()
            elif self._result is not None:
                self._done = True  # a watched run ended
        for event in events:
            if self.on_event is not None:
                self.on_event(event)
        return events

    def _take(self, events: list[Event]) -> None:
        self.history.extend(events)
        for event in events:
            if event.terminal:
                self._result = event

    def _record_last_word(self, returncode: int) -> list[Event]:
        """Write the child's missing terminal event to events.jsonl and deliver it (directly, when the run
        folder cannot be written to: then that is most likely the problem)."""
        word = self._last_word(returncode)
        try:
            append_event(self._run_dir, word)
        except OSError as exc:
            if isinstance(word, Failed):
                failure = classify(exc)
                word = Failed(kind=failure.kind, message=failure.message, hint=failure.hint,
                              detail=f"could not write to {self._run_dir}: {exc}", checkpoint=word.checkpoint)
            self._take([word])
            return [word]
        more = self._follower.poll()
        self._take(more)
        return more

    def _last_word(self, returncode: int) -> Event:
        """The terminal event of a child that exited without writing one."""
        last = self._run_dir / "weights" / "last.pt"
        checkpoint = str(last) if last.exists() else None
        if self._stop_requested:
            epochs = [e.epoch for e in self.history if e.type == "checkpoint_saved"]
            return Stopped(epoch=max(epochs, default=0), checkpoint=checkpoint, resumable=checkpoint is not None)
        failure = crash_failure(returncode, _log_tail(self._run_dir / LOG_FILE))
        return Failed(kind=failure.kind, message=failure.message, hint=failure.hint,
                      detail=_log_tail(self._run_dir / LOG_FILE, 2000), checkpoint=checkpoint)

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Yield events as they arrive until the run has ended (or `timeout` seconds have passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            yield from self.poll()
            if self._done or (deadline is not None and time.monotonic() > deadline):
                return
            time.sleep(self.poll_interval)

    def wait(self, timeout: float | None = None) -> Event | None:
        """Block until the run ends; return its terminal event (None on timeout)."""
        for _ in self.events(timeout):
            pass
        return self._result if self._done else None

    # ---- stopping ----
    def stop(self, force_after: float | None = None) -> None:
        """Ask the run to stop (any thread). The child stops within about one batch, keeping a resumable
        last.pt; poll() kills it if it has not exited `force_after` seconds later."""
        run_dir, proc = self._run_dir, self._proc
        if run_dir is None or self._done:
            return
        self._stop_requested = True
        with contextlib.suppress(OSError):
            (run_dir / STOP_FILE).touch()
        if proc is not None and proc.poll() is None:
            self._kill_at = time.monotonic() + (self.force_after if force_after is None else force_after)
            sig = signal.SIGTERM if os.name == "posix" else getattr(signal, "CTRL_BREAK_EVENT", signal.SIGTERM)
            with contextlib.suppress(OSError):
                proc.send_signal(sig)

    def kill(self) -> None:
        """End the child and its own children at once (last.pt may then be the one of an earlier epoch)."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)  # its session: data loader workers, DDP ranks
            else:
                proc.kill()
        except OSError:
            pass
