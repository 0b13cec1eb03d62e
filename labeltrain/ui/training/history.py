"""The run history (every run in the project's runs folder with its key numbers, listed off the UI thread)
and the log view (the tail of the run's train.log)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from labeltrain.training.runs import RunSummary, list_runs
from labeltrain.ui.background import BackgroundJob

COLUMNS = ("Run", "Status", "Epochs", "Best epoch", "mAP50", "mAP50-95", "Model", "Started")
STATUS_COLORS = {"finished": "#1a7f37", "failed": "#cf222e", "stopped": "#9a6700", "running": "#0969da",
                 "interrupted": "#9a6700", "incomplete": "#57606a"}


def _num(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "–"


class RunHistory(QWidget):
    """Runs of one runs folder, newest first. Double-click (or Open) emits `runOpened(RunSummary)`."""

    runOpened = Signal(object)
    refreshed = Signal(int)  # number of runs listed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.runs: list[RunSummary] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        top = QHBoxLayout()
        self.caption = QLabel("No runs folder yet")
        self.caption.setStyleSheet("color: #57606a;")
        top.addWidget(self.caption, 1)
        self.refresh_button = QPushButton("Refresh", clicked=self.refresh)
        self.open_button = QPushButton("Show curves", clicked=self._open_selected, enabled=False)
        top.addWidget(self.refresh_button)
        top.addWidget(self.open_button)
        layout.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self._open(item))
        self.tree.itemSelectionChanged.connect(
            lambda: self.open_button.setEnabled(bool(self.tree.selectedItems())))
        layout.addWidget(self.tree)
        self._job = BackgroundJob(self)
        self._job.done.connect(self._show)

    def set_folder(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder else None
        self.refresh()

    def refresh(self) -> None:
        if self.folder is None:
            self.tree.clear()
            self.caption.setText("No runs folder yet")
            return
        folder = self.folder
        self.caption.setText(f"Reading {folder} …")
        self._job.start(lambda progress, cancelled: (folder, list_runs(folder)))

    def close_jobs(self) -> None:
        self._job.close()

    def _show(self, result: tuple[Path, list[RunSummary]]) -> None:
        folder, runs = result
        if folder != self.folder:
            return
        self.runs = runs
        self.tree.clear()
        for summary in runs:
            item = QTreeWidgetItem([
                summary.name, summary.status, f"{summary.epochs_done}/{summary.epochs or '?'}",
                str(summary.best_epoch or "–"), _num(summary.map50), _num(summary.map50_95),
                Path(summary.model).name if summary.model else "",
                time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.started)) if summary.started else ""])
            item.setData(0, Qt.ItemDataRole.UserRole, summary)
            item.setForeground(1, QColor(STATUS_COLORS.get(summary.status, "#1f2328")))
            item.setToolTip(0, str(summary.run_dir))
            if summary.message:
                item.setToolTip(1, summary.message)
            for col in (2, 3, 4, 5):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self.caption.setText(f"{len(runs)} run{'s' if len(runs) != 1 else ''} in {folder}")
        self.refreshed.emit(len(runs))

    def _open_selected(self) -> None:
        items = self.tree.selectedItems()
        if items:
            self._open(items[0])

    def _open(self, item: QTreeWidgetItem) -> None:
        self.runOpened.emit(item.data(0, Qt.ItemDataRole.UserRole))


class LogView(QPlainTextEdit):
    """Read-only, monospace, keeps the last lines; follows the end unless the user scrolled up."""

    def __init__(self, parent: QWidget | None = None, max_lines: int = 3000) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(8.5, QFont().pointSizeF() - 1))
        self.setFont(font)
        self.setPlaceholderText("The training log (train.log in the run folder) appears here.")

    def append_text(self, text: str) -> None:
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.appendPlainText(text.rstrip("\n"))
        if at_end:
            bar.setValue(bar.maximum())
