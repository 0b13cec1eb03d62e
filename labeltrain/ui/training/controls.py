"""The row above the curves: Train / Stop / Resume, the progress bar (epoch, batch, ETA), "Monitor a run
folder…", and a status line underneath. It only shows state; TrainingPanel decides what the buttons do."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from labeltrain.ui.training.summary import ProgressTracker

TRAIN_STYLE = ("QPushButton { background: #2f6fde; color: white; font-weight: 600; padding: 5px 18px; "
               "border-radius: 4px; border: 1px solid #2a62c6; } QPushButton:hover { background: #2a62c6; } "
               "QPushButton:disabled { background: #b6c8ee; border-color: #b6c8ee; }")


class RunControls(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train_button = QPushButton("Train", toolTip="Start a new training run with these settings")
        self.train_button.setStyleSheet(TRAIN_STYLE)
        self.stop_button = QPushButton("Stop", toolTip="Stop after the current batch; the last finished epoch "
                                       "stays resumable")
        self.resume_button = QPushButton("Resume", toolTip="Continue the stopped run in its own folder")
        self.watch_button = QPushButton("Monitor a run folder…", toolTip="Follow a run that another process or "
                                        "machine writes (for example on a shared disk)")
        self.progress = QProgressBar(minimum=0, maximum=1000, textVisible=True)
        self.progress.setFormat("")
        self.status = QLabel("Ready.", wordWrap=True)
        self.status.setStyleSheet("color: #57606a;")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for button in (self.train_button, self.stop_button, self.resume_button):
            row.addWidget(button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.watch_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.status)

    def show_progress(self, tracker: ProgressTracker, done: bool = False) -> None:
        self.progress.setValue(1000 if done else int(tracker.fraction * 1000))
        self.progress.setFormat(tracker.text())

    def clear_progress(self) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("")

    def set_state(self, *, busy: bool, active: bool, watching: bool, preparing: bool, resumable: bool) -> None:
        self.train_button.setEnabled(not busy)
        self.stop_button.setEnabled(active or preparing)
        self.resume_button.setEnabled(not busy and resumable)
        self.watch_button.setText("Stop monitoring" if watching else "Monitor a run folder…")
        self.watch_button.setEnabled(not preparing and (watching or not active))
