"""The Model page (the workspace's "model" mode): one model picker for its tabs — Evaluate, Export, Label
errors. Every tab runs the matching `labeltrain` command in a child process."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from labeltrain.core.dataset import Dataset
from labeltrain.training.runs import model_files
from labeltrain.ui.model.evaluate_view import EvaluateView
from labeltrain.ui.model.export_view import ExportView
from labeltrain.ui.model.mining_view import MiningView
from labeltrain.ui.model.picker import ModelPicker


class ModelPage(QWidget):
    openInEditor = Signal(str, object)  # image, editor box index or None
    queueChanged = Signal(object)  # list[(image, box index or None)]: the label-error review queue

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.picker = ModelPicker("Model", (".pt",), self)
        self.evaluate = EvaluateView(self)
        self.export = ExportView(self)
        self.mining = MiningView(self)
        self.tabs = QTabWidget(self, documentMode=True)
        self.tabs.addTab(self.evaluate, "Evaluate")
        self.tabs.addTab(self.export, "Export")
        self.tabs.addTab(self.mining, "Label errors")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.picker)
        layout.addWidget(self.tabs, 1)
        self.picker.changed.connect(self._model_changed)
        self.evaluate.openInEditor.connect(self.openInEditor)
        self.mining.openInEditor.connect(self.openInEditor)
        self.mining.queueChanged.connect(self.queueChanged)
        self.export.exported.connect(lambda _report: self._refresh_models())

    def set_dataset(self, dataset: Dataset | None) -> None:
        self.dataset = dataset
        self.mining.set_dataset(dataset)
        self._refresh_models(keep_current=False)

    def set_weights(self, weights: str | Path) -> None:
        """A training just wrote these weights: offer and choose them."""
        self._refresh_models()
        self.picker.set_path(Path(weights))

    def shutdown(self) -> None:
        for view in (self.evaluate, self.export, self.mining):
            view.close_jobs()

    def _refresh_models(self, keep_current: bool = True) -> None:
        runs = Path(self.dataset.root) / "runs" if self.dataset is not None else None
        self.picker.set_models(model_files(runs) if runs is not None else [], keep_current)

    def _model_changed(self, path: Path | None) -> None:
        for view in (self.evaluate, self.export, self.mining):
            view.set_weights(path)
