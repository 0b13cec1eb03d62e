"""Run a `labeltrain COMMAND ... --json` in a child process (QProcess: no thread, no torch in the GUI) and
hand back its JSON answer. The GUI's evaluation, export and error mining use the very commands a user runs
headless, so both give the same results, and a crash or an out-of-memory there cannot take the window down.

    job = CliJob(parent)
    job.line.connect(status_label.setText)      # stderr progress lines
    job.succeeded.connect(show)                 # the parsed JSON object (stdout)
    job.failed.connect(show_error)              # a message: the command's last stderr line(s)
    job.start(["export", "best.pt", "--format", "onnx", "--verify", "--json"])
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

TAIL_LINES = 6


def labeltrain_command() -> list[str]:
    """How to run the CLI: this interpreter with -m labeltrain, or the frozen app itself."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "labeltrain"]


class CliJob(QObject):
    started = Signal()
    line = Signal(str)          # a progress line the command printed on stderr
    succeeded = Signal(object)  # the JSON object printed on stdout (exit code 0, or `accept_codes`)
    failed = Signal(str)
    finished = Signal()         # after succeeded / failed / cancel

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._proc: QProcess | None = None
        self._stdout = b""
        self._stderr_tail: list[str] = []
        self._partial = b""
        self._accept: tuple[int, ...] = (0,)
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self._proc is not None

    def start(self, args: list[str], accept_codes: tuple[int, ...] = (0,)) -> None:
        """Start `labeltrain *args` (cancels a running one). `accept_codes`: exit codes whose stdout is the answer
        (e.g. export --verify exits 1 on a failed verification but still prints its report)."""
        self.cancel()
        program, *base = labeltrain_command()
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self._proc, self._stdout, self._stderr_tail, self._partial = proc, b"", [], b""
        self._accept, self._cancelled = accept_codes, False
        proc.start(program, [*base, *args])
        self.started.emit()

    def cancel(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self._cancelled = True
        proc.terminate()
        if not proc.waitForFinished(3000):
            proc.kill()
            proc.waitForFinished(3000)

    def close(self) -> None:
        self.cancel()

    # --- process events ----------------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        if self._proc is not None:
            self._stdout += bytes(self._proc.readAllStandardOutput())

    def _read_stderr(self) -> None:
        if self._proc is None:
            return
        data = self._partial + bytes(self._proc.readAllStandardError())
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").strip().replace("\r", "")
            if text:
                self._stderr_tail = (self._stderr_tail + [text])[-TAIL_LINES:]
                self.line.emit(text)

    def _finished(self, code: int, _status) -> None:
        proc = self._proc
        if proc is None:
            return
        self._read_stdout()
        self._read_stderr()
        self._proc = None
        proc.deleteLater()
        if self._cancelled:
            self.finished.emit()
            return
        answer = self._parse()
        if code in self._accept and answer is not None:
            self.succeeded.emit(answer)
        else:
            reason = "\n".join(self._stderr_tail[-3:]) or f"exit code {code}"
            self.failed.emit(reason)
        self.finished.emit()

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._proc is not None:
            self._proc = None
            self.failed.emit(f"cannot start labeltrain ({os.fspath(sys.executable)})")
            self.finished.emit()

    def _parse(self) -> object | None:
        text = self._stdout.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            last = text.splitlines()[-1]
            try:
                return json.loads(last)
            except json.JSONDecodeError:
                return None
