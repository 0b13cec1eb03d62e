"""A model chooser: the .pt files of the dataset's runs (newest first) and any file the user browses to."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QToolButton, QWidget


def model_title(path: Path) -> str:
    """'train3 · best.pt' for a run's weights or exports, the file name otherwise."""
    parent = path.parent
    run = parent.parent.name if parent.name in ("weights", "export") else parent.name
    return f"{run} · {path.name}"


class ModelPicker(QWidget):
    changed = Signal(object)  # Path | None

    def __init__(self, label: str = "Model", suffixes: tuple[str, ...] = (".pt",), parent: QWidget | None = None,
                 min_chars: int = 28):
        super().__init__(parent)
        self.suffixes = suffixes
        self.combo = QComboBox(self)
        self.combo.setMinimumContentsLength(min_chars)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setPlaceholderText("no trained model yet: train one, or choose a file" if min_chars > 20
                                      else "no model yet")
        self.combo.setToolTip("The trained model to use (a run's best.pt" + (", or an exported .onnx)"
                                                                           if ".onnx" in suffixes else ")"))
        self.combo.activated.connect(lambda _i: self.changed.emit(self.path()))
        browse = QToolButton(self, text="…", toolTip="Choose a model file")
        browse.clicked.connect(self.browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(label, self))
        layout.addWidget(self.combo, 1)
        layout.addWidget(browse)

    def set_models(self, paths: list[Path], keep_current: bool = True) -> None:
        """Offer `paths` (newest first). The current choice stays (and stays offered) if `keep_current`, else the
        newest is chosen: another dataset's model is not kept."""
        current = self.path() if keep_current else None
        self.combo.clear()
        for p in paths:
            if p.suffix in self.suffixes:
                self._add(p)
        if current is not None:
            self.set_path(current, emit=False)
        elif self.combo.count():
            self.combo.setCurrentIndex(0)
        self.changed.emit(self.path())

    def set_path(self, path: Path, emit: bool = True) -> None:
        i = self.combo.findData(str(path))
        if i < 0:
            self._add(path, first=True)
            i = 0
        self.combo.setCurrentIndex(i)
        if emit:
            self.changed.emit(path)

    def path(self) -> Path | None:
        data = self.combo.currentData()
        return Path(data) if data else None

    def browse(self) -> None:
        start = str(self.path().parent) if self.path() else ""
        patterns = " ".join(f"*{s}" for s in self.suffixes)
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model", start, f"Models ({patterns});;All files (*)")
        if path:
            self.set_path(Path(path))

    def _add(self, path: Path, first: bool = False) -> None:
        if first:
            self.combo.insertItem(0, model_title(path), str(path))
            self.combo.setItemData(0, str(path), Qt.ItemDataRole.ToolTipRole)
        else:
            self.combo.addItem(model_title(path), str(path))
            self.combo.setItemData(self.combo.count() - 1, str(path), Qt.ItemDataRole.ToolTipRole)
