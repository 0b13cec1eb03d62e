"""Label errors tab (placeholder until the mining engine lands)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from labeltrain.core.dataset import Dataset


class MiningView(QWidget):
    openInEditor = Signal(str, object)
    queueChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights: Path | None = None
        self.dataset: Dataset | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Label-error mining", self))

    def set_dataset(self, dataset: Dataset | None) -> None:
        self.dataset = dataset

    def set_weights(self, weights: Path | None) -> None:
        self.weights = weights

    def close_jobs(self) -> None:
        pass
