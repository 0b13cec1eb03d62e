"""Progress with ETA (computed from event times, so it also works for a watched run) and the card that sums
up a run at its end: finished with its numbers and weights, stopped (resumable) or failed with the reason."""

from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from labeltrain.training.events import BatchEnd, EpochEnd, Event, Failed, Finished, RunStarted, Stopped
from labeltrain.training.runs import RunSummary

STYLES = {
    "finished": ("#dafbe1", "#1a7f37"), "stopped": ("#fff8c5", "#9a6700"), "failed": ("#ffebe9", "#cf222e"),
    "info": ("#ddf4ff", "#0969da"),
}


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _num(value: float) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) and math.isfinite(value) else "–"


class ProgressTracker:
    """Epoch/batch position and an ETA from the rate of the current segment (a resume starts a new one)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.epochs = 0
        self.epoch = 0
        self.batch = 0
        self.batches = 0
        self.done = 0.0  # epochs done, fractional
        self.ended = False
        self._seg_start: tuple[float, float] | None = None  # (time, epochs done then)
        self._last_time = 0.0

    def update(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.epochs, self.batches = event.epochs, event.batches
            self.epoch, self.batch = event.start_epoch, 0
            self.done, self.ended = float(event.start_epoch - 1), False
            self._seg_start = (event.time, self.done)
        elif isinstance(event, BatchEnd):
            self.epochs, self.epoch, self.batch, self.batches = event.epochs, event.epoch, event.batch, event.batches
            self.done = event.epoch - 1 + event.batch / max(event.batches, 1)
        elif isinstance(event, EpochEnd):
            self.epochs = event.epochs or self.epochs
            self.epoch, self.batch, self.done = event.epoch, self.batches, float(event.epoch)
        elif event.terminal:
            self.ended = True
        if event.time:
            self._last_time = event.time

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.epochs) if self.epochs else 0.0

    def eta(self) -> float | None:
        if self._seg_start is None or not self.epochs or self.ended:
            return None
        start_time, start_done = self._seg_start
        progressed, elapsed = self.done - start_done, self._last_time - start_time
        if progressed <= 0 or elapsed <= 0:
            return None
        return elapsed / progressed * max(0.0, self.epochs - self.done)

    def text(self) -> str:
        if not self.epochs:
            return ""
        where = f"Epoch {self.epoch}/{self.epochs}"
        if self.batches:
            where += f" · batch {self.batch}/{self.batches}"
        eta = self.eta()
        return where + (f" · {format_duration(eta)} left" if eta is not None else "")


class SummaryCard(QFrame):
    """A coloured card: the outcome of the last (or opened) run, with the weights path and its actions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryCard")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        text = QVBoxLayout()
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600; font-size: 11pt;")
        self.body = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.title)
        text.addWidget(self.body)
        layout.addLayout(text, 1)
        self.copy_button = QPushButton("Copy path", clicked=self._copy)
        self.open_button = QPushButton("Open folder", clicked=self._open)
        for button in (self.copy_button, self.open_button):
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.weights: Path | None = None
        self.run_dir: Path | None = None
        self.kind = ""
        self.resumable = False
        self.hide()

    def _show(self, kind: str, title: str, body: str, weights: Path | None, run_dir: Path | None) -> None:
        background, accent = STYLES[kind]
        self.setStyleSheet(f"#summaryCard {{ background: {background}; border: 1px solid {accent};"
                           f" border-radius: 6px; }} #summaryCard QLabel {{ background: transparent; }}")
        self.title.setStyleSheet(f"font-weight: 600; font-size: 11pt; color: {accent};")
        self.kind = kind
        self.title.setText(title)
        self.body.setText(body)
        self.weights, self.run_dir = weights, run_dir
        self.copy_button.setVisible(weights is not None)
        self.open_button.setVisible(run_dir is not None)
        self.show()

    def show_finished(self, event: Finished, run_dir: Path | None) -> None:
        body = (f"best.pt: <b>mAP50 {_num(event.map50)}</b> · <b>mAP50-95 {_num(event.map50_95)}</b> · "
                f"precision {_num(event.precision)} · recall {_num(event.recall)}<br>"
                f"best epoch {event.best_epoch} of {event.epochs_done} · training time "
                f"{format_duration(event.elapsed)}<br>weights: {html.escape(event.weights)}")
        self.resumable = False
        self._show("finished", "Training finished", body, Path(event.weights) if event.weights else None, run_dir)

    def show_stopped(self, event: Stopped, run_dir: Path | None) -> None:
        body = (f"Stopped after epoch {event.epoch}. "
                + ("Resume continues in the same run folder." if event.resumable
                   else "No resumable checkpoint was saved: start the run again."))
        if event.checkpoint:
            body += f"<br>checkpoint: {html.escape(event.checkpoint)}"
        self.resumable = event.resumable
        self._show("stopped" if event.resumable else "info", "Training stopped", body,
                   Path(event.checkpoint) if event.checkpoint else None, run_dir)

    def show_failed(self, message: str, hint: str = "", run_dir: Path | None = None,
                    event: Failed | None = None) -> None:
        self.resumable = bool(event is not None and event.checkpoint)
        body = html.escape(message) + (f"<br><i>{html.escape(hint)}</i>" if hint else "")
        if run_dir is not None:
            body += "<br>The log below shows the details."
        self._show("failed", "Training failed", body, None, run_dir)

    def show_summary(self, summary: RunSummary) -> None:
        """A run opened from the history."""
        kind = {"finished": "finished", "failed": "failed", "stopped": "stopped"}.get(summary.status, "info")
        body = (f"<b>mAP50 {_num(summary.map50)}</b> · <b>mAP50-95 {_num(summary.map50_95)}</b> · best epoch "
                f"{summary.best_epoch} · epochs {summary.epochs_done}/{summary.epochs or '?'}")
        if summary.message:
            body += f"<br>{html.escape(summary.message)}"
        if summary.weights:
            body += f"<br>weights: {html.escape(str(summary.weights))}"
        self.resumable = (summary.run_dir / "weights" / "last.pt").is_file() and summary.status in (
            "stopped", "interrupted", "failed")
        self._show(kind, f"{summary.name}: {summary.status}", body, summary.weights, summary.run_dir)

    def _copy(self) -> None:
        if self.weights is not None:
            QGuiApplication.clipboard().setText(str(self.weights))

    def _open(self) -> None:
        if self.run_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run_dir)))
