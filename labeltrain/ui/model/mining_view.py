"""Label errors tab: `labeltrain mine` in a child process — with the chosen model (in-sample, seconds) or k-fold
(models trained here with the Train page's settings, each image judged by a model that never saw it) — then the
ranked queue of images with their disputes and a view of the disputed boxes. Double-click (or Enter) opens the
image in the editor at the disputed box; F8 / Shift+F8 in the editor walk the same queue."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from labeltrain.core.dataset import Dataset
from labeltrain.core.disputes import KIND_TITLES, MISSING, Dispute, ImageDisputes, MiningResult
from labeltrain.training.config import TrainConfig
from labeltrain.training.mining import result_path
from labeltrain.ui.cli_job import CliJob
from labeltrain.ui.model.annotated import FN, FP, AnnotatedImageView, Mark
from labeltrain.ui.model.tables import make_table, table_item


def dispute_marks(image: ImageDisputes) -> list[Mark]:
    """The label in question solid orange, the model's box dashed red, for every dispute of the image."""
    marks = []
    for d in image.disputes:
        if d.label is not None:
            marks.append(Mark(*d.label.xyxy, FN, False, f"label: {d.label.name}" if d.kind != MISSING else ""))
        if d.prediction is not None:
            conf = f" {d.prediction.conf:.2f}" if d.prediction.conf is not None else ""
            marks.append(Mark(*d.prediction.xyxy, FP, True, f"model: {d.prediction.name}{conf}", below=True))
    return marks


class MiningView(QWidget):
    openInEditor = Signal(str, object)
    queueChanged = Signal(object)  # list[(image path, Dispute)], most suspicious first

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights: Path | None = None
        self.dataset: Dataset | None = None
        self.result: MiningResult | None = None
        self.config_provider: Callable[[], TrainConfig] = TrainConfig
        self._config_file: str | None = None
        self.job = CliJob(self)
        self.in_sample = QRadioButton("the chosen model (in-sample: seconds)", self)
        self.in_sample.setToolTip("Fast, but a model trained on these images has learnt some of their mistakes "
                                  "and under-reports them")
        self.kfold = QRadioButton("k-fold models trained here:", self)
        self.in_sample.setChecked(True)
        self.folds = QSpinBox(self, minimum=2, maximum=10, value=3)
        self.kfold_note = QLabel(self)
        self.kfold_note.setWordWrap(True)
        self.run_button = QPushButton("Find label errors", self)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel", self, visible=False)
        self.cancel_button.clicked.connect(self._cancel)
        self.status = QLabel("Rank the images by how much a model disputes their labels.", self)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setWordWrap(True)
        self.table = make_table(["#", "image", "score", "disputes", "most serious"], stretch=4)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.itemActivated.connect(self._open)
        self.table.itemDoubleClicked.connect(self._open)
        self.viewer = AnnotatedImageView(self)
        legend = QLabel(f"<span style='color:{FN.name()}'>■</span> the label in question &nbsp; "
                        f"<span style='color:{FP.name()}'>■</span> what the model sees &nbsp; · double-click to fix "
                        "it in the editor (F8 / Shift+F8 there: next / previous disputed box)", self)
        legend.setTextFormat(Qt.TextFormat.RichText)

        how = QHBoxLayout()
        how.addWidget(QLabel("Judge with", self))
        how.addWidget(self.in_sample)
        how.addWidget(self.kfold)
        how.addWidget(self.folds)
        how.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.status, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.table)
        split.addWidget(self.viewer)
        split.setSizes([640, 600])
        layout = QVBoxLayout(self)
        layout.addLayout(how)
        layout.addWidget(self.kfold_note)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)
        layout.addWidget(legend)
        self.kfold.toggled.connect(lambda _on: self._update())
        self.folds.valueChanged.connect(lambda _v: self._update())
        self.job.line.connect(lambda text: self.status.setText(text[:200]))
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(lambda reason: self._finish(f"Label-error mining failed: {reason}"))
        self._update()

    # --- API ---------------------------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None) -> None:
        """Another dataset: the queue of the last one goes (its images are not this dataset's)."""
        if dataset is not self.dataset and self.result is not None:
            self.result = None
            self.table.setRowCount(0)
            self.viewer.show_image(None)
            self.queueChanged.emit([])
        self.dataset = dataset
        self._update()

    def set_weights(self, weights: Path | None) -> None:
        self.weights = weights
        saved = result_path(weights) if weights is not None else None
        if self.result is None and saved is not None and saved.is_file():
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                self.show_result(MiningResult.load(saved))
                self.status.setText(f"Last result for this model, from {saved}")
        self._update()

    def run(self) -> None:
        if self.dataset is None or self.job.running:
            return
        data = str(self.dataset.data_yaml or self.dataset.root)
        args = ["mine", data, "--json"]
        if self.kfold.isChecked():
            fd, path = tempfile.mkstemp(prefix="labeltrain-mine-", suffix=".yaml")
            os.close(fd)
            self.config_provider().save(path)
            self._config_file = path
            args += ["--folds", str(self.folds.value()), "--config", path]
        elif self.weights is not None:
            args += ["--weights", str(self.weights)]
        else:
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.status.setText("Training the fold models…" if self.kfold.isChecked() else "Predicting every image…")
        self.job.start(args)

    def show_result(self, result: MiningResult) -> None:
        self.result = result
        queue = result.disputed()
        self.table.setRowCount(len(queue))
        for row, im in enumerate(queue):
            kinds = ", ".join(sorted({KIND_TITLES.get(d.kind, d.kind) for d in im.disputes}))
            cells = [row + 1, Path(im.image).name, round(im.score, 3), f"{len(im.disputes)}: {kinds}",
                     im.disputes[0].message]
            for col, value in enumerate(cells):
                item = table_item(value, col in (0, 2))
                item.setToolTip(im.image if col == 1 else "\n".join(d.message for d in im.disputes))
                if col == 2:
                    item.setForeground(QColor(207, 34, 46) if im.score >= 0.5 else QColor(154, 103, 0))
                self.table.setItem(row, col, item)
        if queue:
            self.table.selectRow(0)
        self.queueChanged.emit([(im.image, d) for im, d in result.all_disputes()])

    def close_jobs(self) -> None:
        self.job.close()
        self._drop_config()

    # --- internals ---------------------------------------------------------------------------------------
    def _update(self) -> None:
        cfg = self.config_provider()
        self.kfold_note.setText(f"k-fold: {self.folds.value()} models, each trained on the other folds with the Train "
                                f"page's settings ({cfg.epochs} epochs at {cfg.imgsz} px), judge the images they never "
                                "saw: slower, but nothing they learnt by heart hides a mistake.")
        self.kfold_note.setStyleSheet("color: #57606a;")
        can = self.dataset is not None and (self.kfold.isChecked() or self.weights is not None)
        self.run_button.setEnabled(can and not self.job.running)

    def _done(self, data: dict) -> None:
        try:
            result = MiningResult.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            self._finish(f"Mining answered something unexpected: {exc}")
            return
        self.show_result(result)
        counts = ", ".join(f"{n} {KIND_TITLES[k]}" for k, n in result.counts().items() if n)
        method = f"k-fold ({result.folds} models)" if not result.in_sample else "in-sample"
        self._finish(f"{len(result.disputed())} disputed images ({counts or 'nothing'}), {method}, "
                     f"{result.elapsed:.0f} s")

    def _finish(self, text: str) -> None:
        self.status.setText(text)
        self.cancel_button.setVisible(False)
        self._drop_config()
        self._update()

    def _cancel(self) -> None:
        self.job.cancel()
        self._finish("Cancelled.")

    def _drop_config(self) -> None:
        if self._config_file:
            with contextlib.suppress(OSError):
                os.unlink(self._config_file)
            self._config_file = None

    def _current(self) -> ImageDisputes | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.result is None:
            return None
        queue = self.result.disputed()
        return queue[rows[0].row()] if rows[0].row() < len(queue) else None

    def _selected(self) -> None:
        im = self._current()
        self.viewer.show_image(im.image if im else None, (0, 0), dispute_marks(im) if im else [])

    def _open(self, _cell: QTableWidgetItem) -> None:
        im = self._current()
        if im is not None:
            top: Dispute = im.disputes[0]
            self.openInEditor.emit(im.image, top.box_index)
