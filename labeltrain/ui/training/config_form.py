"""The training settings form: a TrainConfig edited field by field, each problem shown in plain words under
the field it concerns, YAML load/save, and the sample project's proposed settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from labeltrain.core.dataset import Dataset
from labeltrain.training.config import TrainConfig, defaults_for_sample
from labeltrain.training.presets import AUGMENTATION_PRESETS
from labeltrain.training.validation import OPTIMIZERS, architectures
from labeltrain.ui.training.advanced import AdvancedTable
from labeltrain.ui.training.data_source import is_sample_project, runs_folder
from labeltrain.ui.training.form_rules import HELP, field_problems, parse_batch, sentence

ERROR_STYLE = "color: #cf222e;"
NOTE_STYLE = "color: #57606a;"
BATCH_CHOICES = ("auto", "8", "16", "32", "64")
DEVICE_CHOICES = ("", "cpu", "cuda:0", "0,1", "mps")


class ConfigForm(QWidget):
    """Edits a TrainConfig. `config()` reads it back (data is the dataset folder when training on the open
    dataset); `check()` validates and shows the problems inline."""

    changed = Signal()
    validityChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self._errors: dict[str, QLabel] = {}
        self._valid = True
        self._debounce = QTimer(self, singleShot=True, interval=250, timeout=self.check)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        _, form = self._group(outer, "Model and data")
        self.model = QComboBox(editable=True)
        self.model.addItems(architectures())
        self._field(form, "Model", self._with_button(self.model, "…", self._browse_model), "model")
        self.weights = QLineEdit(placeholderText="none (optional .pt)")
        self._field(form, "Start from", self._with_button(self.weights, "…", self._browse_weights), "weights")
        self.data = QComboBox()
        self._field(form, "Data", self._with_button(self.data, "…", self._browse_data), "data")
        self.data_note = QLabel(wordWrap=True, styleSheet=NOTE_STYLE)
        form.addRow("", self.data_note)

        _, form = self._group(outer, "Training")
        self.epochs = self._spin(1, 100_000)
        self._field(form, "Epochs", self.epochs, "epochs")
        self.imgsz = self._spin(0, 8192, step=32)
        self._field(form, "Image size", self.imgsz, "imgsz")
        self.batch = QComboBox(editable=True)
        self.batch.addItems(BATCH_CHOICES)
        self._field(form, "Batch", self.batch, "batch")
        self.device = QComboBox(editable=True)
        self.device.addItems(DEVICE_CHOICES)
        self.device.lineEdit().setPlaceholderText("automatic")
        self._field(form, "Device", self.device, "device")
        self.workers = self._spin(0, 256)
        self._field(form, "Workers", self.workers, "workers")
        self.patience = self._spin(0, 100_000)
        self._field(form, "Patience", self.patience, "patience")
        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self._field(form, "Optimizer", self.optimizer, "optimizer")
        self.lr0 = QDoubleSpinBox(decimals=5, minimum=0.0, maximum=10.0, singleStep=0.001)
        self._field(form, "Learning rate", self.lr0, "lr0")
        self.augment = QComboBox()
        for preset in AUGMENTATION_PRESETS.values():
            self.augment.addItem(preset.name)
            self.augment.setItemData(self.augment.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self._field(form, "Augmentation", self.augment, "augment")
        self.project = QLineEdit()
        self._field(form, "Runs folder", self._with_button(self.project, "…", self._browse_project), "project")

        self.advanced_toggle = QToolButton(text="Advanced settings", checkable=True, autoRaise=True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._show_advanced)
        outer.addWidget(self.advanced_toggle)
        self.advanced = AdvancedTable()
        self.advanced.setVisible(False)
        outer.addWidget(self.advanced)
        self._errors["extra"] = self._error_label()
        outer.addWidget(self._errors["extra"])
        self.general_error = self._error_label()
        outer.addWidget(self.general_error)

        buttons = QHBoxLayout()
        self.load_button = QPushButton("Load…", clicked=self.load_dialog, toolTip="Load settings from a YAML file")
        self.save_button = QPushButton("Save…", clicked=self.save_dialog, toolTip="Save these settings as YAML")
        self.sample_button = QPushButton("Sample defaults", clicked=self.apply_sample_defaults,
                                         toolTip="Settings proposed for the bundled sample project")
        for button in (self.load_button, self.save_button, self.sample_button):
            buttons.addWidget(button)
        outer.addLayout(buttons)
        outer.addStretch(1)

        self.sample_button.setEnabled(False)
        self.set_config(TrainConfig())
        for signal in (self.model.currentTextChanged, self.weights.textChanged, self.data.currentIndexChanged,
                       self.epochs.valueChanged, self.imgsz.valueChanged, self.batch.currentTextChanged,
                       self.device.currentTextChanged, self.workers.valueChanged, self.patience.valueChanged,
                       self.optimizer.currentTextChanged, self.lr0.valueChanged, self.augment.currentTextChanged,
                       self.project.textChanged, self.advanced.changed):
            signal.connect(self._on_changed)

    # ---- building ----
    def _group(self, outer: QVBoxLayout, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(4)
        outer.addWidget(box)
        return box, form

    def _error_label(self) -> QLabel:
        label = QLabel(wordWrap=True, styleSheet=ERROR_STYLE)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()
        return label

    def _field(self, form: QFormLayout, label: str, widget: QWidget, key: str) -> None:
        widget.setToolTip(HELP.get(key, ""))
        form.addRow(label, widget)
        self._errors[key] = self._error_label()
        form.addRow("", self._errors[key])

    @staticmethod
    def _spin(low: int, high: int, step: int = 1) -> QSpinBox:
        return QSpinBox(minimum=low, maximum=high, singleStep=step)

    @staticmethod
    def _with_button(widget: QWidget, text: str, slot) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget, 1)
        button = QPushButton(text, clicked=slot, toolTip="Choose a file")
        button.setFixedWidth(button.fontMetrics().horizontalAdvance(text) + 22)
        row.addWidget(button)
        return box

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # ---- dataset ----
    def set_dataset(self, dataset: Dataset | None) -> None:
        """The open dataset becomes the default data (a chosen data.yaml stays selectable)."""
        self.dataset = dataset
        current = self.data.currentData()
        self.data.blockSignals(True)
        self.data.clear()
        if dataset is not None:
            self.data.addItem(f"Open dataset ({len(dataset.items):,} images)", str(dataset.root))
            self.data.setItemData(0, str(dataset.root), Qt.ItemDataRole.ToolTipRole)
        if current and (dataset is None or current != str(dataset.root)):
            self.data.addItem(current, current)
        self.data.setCurrentIndex(0)
        self.data.blockSignals(False)
        self.sample_button.setEnabled(is_sample_project(dataset))
        self.data_note.setText("")
        self._on_changed()

    def uses_dataset(self) -> bool:
        return self.dataset is not None and self.data.currentData() == str(self.dataset.root)

    def set_data_path(self, path: str) -> None:
        index = self.data.findData(path)
        if index < 0:
            self.data.addItem(path, path)
            index = self.data.count() - 1
        self.data.setCurrentIndex(index)

    def default_project(self) -> Path | None:
        if self.uses_dataset():
            return runs_folder(self.dataset)
        data = self.data.currentData()
        return TrainConfig(data=data).default_project() if data else None

    # ---- config <-> widgets ----
    def config(self) -> TrainConfig:
        project = self.project.text().strip() or str(self.default_project() or "")
        return TrainConfig(
            data=self.data.currentData() or "", model=self.model.currentText().strip(),
            weights=self.weights.text().strip(), epochs=self.epochs.value(), imgsz=self.imgsz.value(),
            batch=parse_batch(self.batch.currentText()), device=self.device.currentText().strip(),
            workers=self.workers.value(), patience=self.patience.value(), optimizer=self.optimizer.currentText(),
            lr0=round(self.lr0.value(), 6), augment=self.augment.currentText(), extra=self.advanced.values(),
            project=project)

    def set_config(self, cfg: TrainConfig) -> None:
        self.model.setCurrentText(cfg.model)
        self.weights.setText(cfg.weights)
        if cfg.data and not (self.dataset is not None and Path(cfg.data) == Path(self.dataset.root)):
            self.set_data_path(cfg.data)
        elif self.dataset is not None:
            self.data.setCurrentIndex(0)
        self.epochs.setValue(cfg.epochs)
        self.imgsz.setValue(cfg.imgsz)
        self.batch.setCurrentText("auto" if cfg.batch == -1 else str(cfg.batch))
        self.device.setCurrentText(cfg.device)
        self.workers.setValue(cfg.workers)
        self.patience.setValue(cfg.patience)
        self.optimizer.setCurrentText(cfg.optimizer)
        self.lr0.setValue(cfg.lr0)
        self.augment.setCurrentText(cfg.augment)
        self.advanced.set_values(cfg.extra)
        if cfg.extra:
            self.advanced_toggle.setChecked(True)
        self.project.setText(cfg.project if cfg.project and Path(cfg.project) != self.default_project() else "")
        self._on_changed()

    def apply_sample_defaults(self) -> None:
        keep = self.config()
        self.set_config(defaults_for_sample(keep.data).with_changes(device=keep.device, workers=keep.workers))

    # ---- validation ----
    def _on_changed(self) -> None:
        self.lr0.setEnabled(self.optimizer.currentText() != "auto")
        self.lr0.setToolTip(HELP["lr0"] + (" Ignored while the optimizer is 'auto'." if not self.lr0.isEnabled()
                                           else ""))
        self.project.setPlaceholderText(str(self.default_project() or "next to the data"))
        self._debounce.start()
        self.changed.emit()

    def field_problems(self) -> dict[str, list[str]]:
        """Problems per field key ('general' for the rest), worded for users."""
        dataset = self.dataset if self.uses_dataset() else None
        return field_problems(self.config(), dataset)

    def check(self) -> list[str]:
        """Validate now and show every problem under its field; returns them all."""
        self._debounce.stop()
        problems = self.field_problems()
        labels = {**self._errors, "general": self.general_error}
        for key, label in labels.items():
            text = "\n".join(sentence(p) for p in problems.get(key, []))
            label.setText(text)
            label.setVisible(bool(text))
        valid = not problems
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)
        return [p for found in problems.values() for p in found]

    def show_problems(self, problems: list[str]) -> None:
        """Problems reported from elsewhere (the runner refused the config): shown at the bottom."""
        self.general_error.setText("\n".join(sentence(p) for p in problems))
        self.general_error.setVisible(bool(problems))

    # ---- files ----
    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model", "", "Models (*.pt *.yaml *.yml)")
        if path:
            self.model.setCurrentText(path)

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Start from weights", "", "PyTorch weights (*.pt)")
        if path:
            self.weights.setText(path)

    def _browse_data(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a data.yaml", "", "Dataset YAML (*.yaml *.yml)")
        if path:
            self.set_data_path(path)

    def _browse_project(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the runs", self.project.text())
        if path:
            self.project.setText(path)

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load training settings", "", "YAML (*.yaml *.yml)")
        if path:
            self.load(path)

    def load(self, path: str | Path) -> bool:
        try:
            self.set_config(TrainConfig.load(path))
        except (OSError, ValueError, TypeError) as exc:
            self.show_problems([f"cannot load {Path(path).name}: {exc}"])
            return False
        return True

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save training settings", "train.yaml", "YAML (*.yaml)")
        if path:
            self.config().save(path)
