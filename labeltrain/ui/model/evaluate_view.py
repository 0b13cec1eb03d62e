"""Evaluate tab: `labeltrain evaluate` on a split in a child process, then the per-class table, the PR curves,
a confusion matrix at a readable confidence, and a per-image list (most errors first) with a TP / FP / FN view.
Double-click an image to fix its labels in the editor."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from labeltrain.training.evaluate import EvaluationResult
from labeltrain.ui.cli_job import CliJob
from labeltrain.ui.colors import class_color
from labeltrain.ui.model.annotated import LEGEND, AnnotatedImageView, eval_marks
from labeltrain.ui.model.tables import make_table, table_item


class EvaluateView(QWidget):
    openInEditor = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights: Path | None = None
        self.result: EvaluationResult | None = None
        self.job = CliJob(self)
        self.split = QComboBox(self)
        self.split.addItems(["val", "test", "train"])
        self.conf = QDoubleSpinBox(self, decimals=2, minimum=0.01, maximum=0.99, singleStep=0.05, value=0.25)
        self.conf.setToolTip("Confidence of the confusion matrix and of the per-image TP / FP / FN")
        self.run_button = QPushButton("Evaluate", self)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.status = QLabel("Choose a model and press Evaluate.", self)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.classes = make_table(["class", "images", "boxes", "P", "R", "AP50", "AP50-95"], stretch=0)
        self.confusion = make_table([], stretch=0)
        self.pr = pg.PlotWidget(background="w")
        self.pr.setLabel("bottom", "recall")
        self.pr.setLabel("left", "precision")
        self.pr.setXRange(0, 1)
        self.pr.setYRange(0, 1.02)
        self.pr.showGrid(x=True, y=True, alpha=0.2)
        self.pr.setMenuEnabled(False)
        self.pr_legend = self.pr.addLegend(offset=(10, -10), labelTextColor="k")
        self.images = make_table(["image", "errors", "FP", "FN", "TP"], stretch=0)
        self.images.setSortingEnabled(True)
        self.images.itemSelectionChanged.connect(self._image_selected)
        self.images.itemDoubleClicked.connect(self._open)
        self.viewer = AnnotatedImageView(self)
        legend = QLabel(LEGEND + " &nbsp; · double-click an image to edit its labels", self)
        legend.setTextFormat(Qt.TextFormat.RichText)

        top = QHBoxLayout()
        for w in (QLabel("Split", self), self.split, QLabel("Confidence", self), self.conf, self.run_button):
            top.addWidget(w)
        top.addWidget(self.status, 1)
        tabs = QTabWidget(self, documentMode=True)
        tabs.addTab(self.pr, "PR curves")
        tabs.addTab(self.confusion, "Confusion matrix")
        numbers = QSplitter(Qt.Orientation.Horizontal, self)
        numbers.addWidget(self.classes)
        numbers.addWidget(tabs)
        numbers.setSizes([520, 720])
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.summary)
        left_layout.addWidget(numbers, 1)
        right = QSplitter(Qt.Orientation.Horizontal, self)
        right.addWidget(self.images)
        right.addWidget(self.viewer)
        right.setSizes([420, 820])
        right_box = QWidget(self)
        right_layout = QVBoxLayout(right_box)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(right, 1)
        right_layout.addWidget(legend)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(left)
        split.addWidget(right_box)
        split.setSizes([320, 420])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.job.line.connect(lambda text: self.status.setText(text[:160]))
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(lambda reason: self._finish(f"Evaluation failed: {reason}"))

    def set_weights(self, weights: Path | None) -> None:
        self.weights = weights
        self.run_button.setEnabled(weights is not None and not self.job.running)

    def run(self) -> None:
        if self.weights is None or self.job.running:
            return
        self.run_button.setEnabled(False)
        self.status.setText(f"Evaluating {self.weights.name} on the {self.split.currentText()} split…")
        self.job.start(["evaluate", str(self.weights), "--split", self.split.currentText(), "--conf",
                        f"{self.conf.value():.2f}", "--json"])

    def show_result(self, result: EvaluationResult) -> None:
        self.result = result
        names = {c.cls: c.name for c in result.classes}
        self.summary.setText(
            f"<b>{Path(result.weights).name}</b> on {result.images} {result.split} images, {result.instances} boxes: "
            f"<b>mAP50 {result.map50:.3f}</b> · mAP50-95 {result.map50_95:.3f} · P {result.precision:.3f} · "
            f"R {result.recall:.3f} · imgsz {result.imgsz}")
        self._fill_classes(result)
        self._fill_pr(result, names)
        self._fill_confusion(result)
        self._fill_images(result)

    def close_jobs(self) -> None:
        self.job.close()

    # --- internals ---------------------------------------------------------------------------------------
    def _done(self, data: dict) -> None:
        try:
            result = EvaluationResult.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            self._finish(f"Evaluation answered something unexpected: {exc}")
            return
        self.show_result(result)
        self._finish(f"Evaluated in the background: {result.images} images, confusion matrix at conf {result.conf:g}")

    def _finish(self, text: str) -> None:
        self.status.setText(text)
        self.run_button.setEnabled(self.weights is not None)

    def _fill_classes(self, r: EvaluationResult) -> None:
        rows = [("all", r.images, r.instances, r.precision, r.recall, r.map50, r.map50_95)]
        rows += [(c.name, c.images, c.instances, c.precision, c.recall, c.ap50, c.ap50_95) for c in r.classes]
        self.classes.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                self.classes.setItem(i, j, table_item(round(v, 3) if isinstance(v, float) else v, j > 0))

    def _fill_pr(self, r: EvaluationResult, names: dict[int, str]) -> None:
        self.pr.clear()
        self.pr_legend.clear()
        for c in r.pr_curves:
            color = QColor(40, 40, 40) if c.cls < 0 else class_color(c.cls, len(names))
            pen = pg.mkPen(color, width=3 if c.cls < 0 else 1.6)
            item = self.pr.plot(list(c.recall), list(c.precision), pen=pen)
            self.pr_legend.addItem(item, f"{c.name} {c.ap50:.3f}")

    def _fill_confusion(self, r: EvaluationResult) -> None:
        cm = r.confusion
        n = len(cm.names)
        self.confusion.clear()
        self.confusion.setRowCount(n)
        self.confusion.setColumnCount(n)
        self.confusion.setHorizontalHeaderLabels([f"true {name}" for name in cm.names])
        self.confusion.setVerticalHeaderLabels([f"predicted {name}" for name in cm.names])
        self.confusion.verticalHeader().setVisible(True)
        col_totals = [sum(cm.matrix[i][j] for i in range(n)) or 1 for j in range(n)]
        for i, row in enumerate(cm.matrix):
            for j, v in enumerate(row):
                item = table_item(int(v), True)
                share = v / col_totals[j]
                good = i == j
                base = QColor(26, 127, 55) if good else QColor(207, 34, 46)
                tint = QColor(base)
                tint.setAlphaF(min(0.85, 0.1 + 0.75 * share) if v else 0.0)
                item.setBackground(tint)
                if share > 0.5:
                    item.setForeground(QColor("white"))
                self.confusion.setItem(i, j, item)
        self.confusion.setToolTip(f"Counts at confidence {cm.conf:g}, IoU {cm.iou:g}; columns are the labels, "
                                  "rows what the model said ('background': nothing)")

    def _fill_images(self, r: EvaluationResult) -> None:
        self.images.setSortingEnabled(False)
        self.images.setRowCount(len(r.per_image))
        for i, ev in enumerate(r.per_image):
            name = table_item(Path(ev.image).name)
            name.setData(Qt.ItemDataRole.UserRole, i)
            name.setToolTip(ev.image)
            self.images.setItem(i, 0, name)
            for j, v in enumerate((ev.errors, len(ev.fp), len(ev.fn), len(ev.tp)), start=1):
                self.images.setItem(i, j, table_item(v, True))
        self.images.setSortingEnabled(True)
        self.images.sortItems(1, Qt.SortOrder.DescendingOrder)
        if r.per_image:
            self.images.selectRow(0)

    def _selected_eval(self):
        rows = self.images.selectionModel().selectedRows() if self.result else []
        if not rows:
            return None
        index = self.images.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        return self.result.per_image[index]

    def _image_selected(self) -> None:
        ev = self._selected_eval()
        if ev is None:
            self.viewer.show_image(None)
            return
        names = {c.cls: c.name for c in self.result.classes} if self.result else {}
        self.viewer.show_image(ev.image, (ev.width, ev.height), eval_marks(ev, names))

    def _open(self, _cell: QTableWidgetItem) -> None:
        ev = self._selected_eval()
        if ev is not None:
            self.openInEditor.emit(ev.image, ev.fn[0] if ev.fn else None)
