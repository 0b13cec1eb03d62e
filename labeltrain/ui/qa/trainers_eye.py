"""The trainer's eye (Darknet's -show_imgs): a batch from the real Ultralytics training dataloader with the boxes it
carries after augmentation, drawn in the class colours; "Another batch", augmentation on/off and the main
augmentation sliders. Built on a worker thread (ultralytics/torch are imported there on first use, ~1 s)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from labeltrain.core.dataset import Dataset
from labeltrain.training.presets import AUGMENTATION_PRESETS
from labeltrain.training.show_imgs import AUGMENT_KNOBS, AugmentSettings, TrainerBatch, TrainersEye
from labeltrain.ui.qa.batch_view import BatchView, data_yaml_for
from labeltrain.ui.qa.workers import TaskSlot

IMGSZ_CHOICES = (160, 320, 416, 512, 640, 960, 1280)
STEPS = 100


class TrainersEyePanel(QWidget):
    """Controls on the left, the batch on the right. `batchShown(TrainerBatch)` after each batch."""

    batchShown = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self._eye: TrainersEye | None = None  # used by one worker at a time
        self._wanted: AugmentSettings | None = None
        self._task = TaskSlot(self)
        self.view = BatchView(self)
        self.augment = QCheckBox("Augmentation", self)
        self.augment.setChecked(True)
        self.augment.setToolTip("Off: the images letterboxed to the training size, as labelled")
        self.preset = QComboBox(self)
        for name, preset in AUGMENTATION_PRESETS.items():
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.imgsz = QComboBox(self)
        for s in IMGSZ_CHOICES:
            self.imgsz.addItem(str(s), s)
        self.imgsz.setCurrentIndex(IMGSZ_CHOICES.index(640))
        self.batch = QSpinBox(self)
        self.batch.setRange(1, 36)
        self.batch.setValue(9)
        self.sliders: dict[str, tuple[QSlider, QLabel, float]] = {}
        form = QFormLayout()
        form.addRow(self.augment)
        form.addRow("Preset", self.preset)
        form.addRow("Image size", self.imgsz)
        form.addRow("Batch", self.batch)
        for name, text, top in AUGMENT_KNOBS:
            slider = QSlider(Qt.Orientation.Horizontal, self)
            slider.setRange(0, STEPS)
            value = QLabel(self)
            value.setMinimumWidth(34)
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(value)
            form.addRow(text, row)
            self.sliders[name] = (slider, value, top)
            slider.valueChanged.connect(lambda _v, n=name: self._slider_moved(n))
        self.another = QPushButton("Another batch", self)
        self.another.setDefault(True)
        self.another.clicked.connect(self.next_batch)
        self.grid_box = QCheckBox("Ultralytics' rendering", self)
        self.grid_box.setToolTip("Show the batch as Ultralytics draws it (train_batch*.jpg)")
        self.grid_box.toggled.connect(self._grid_toggled)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        controls = QWidget(self)
        side = QVBoxLayout(controls)
        side.addLayout(form)
        side.addWidget(self.another)
        side.addWidget(self.grid_box)
        side.addWidget(self.status)
        side.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFixedWidth(300)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(scroll)
        layout.addWidget(self.view, 1)
        self._debounce = QTimer(self, singleShot=True, interval=350)
        self._debounce.timeout.connect(self.next_batch)
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        for w in (self.imgsz, ):
            w.currentIndexChanged.connect(lambda _i: self._debounce.start())
        self.batch.valueChanged.connect(lambda _v: self._debounce.start())
        self.augment.toggled.connect(self._augment_toggled)
        self.set_settings(AugmentSettings(imgsz=640, batch=9))
        self.status.setText("Open a dataset, then press “Another batch”.")

    # --- public --------------------------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show batches of this dataset's training split (nothing is computed until the panel asks)."""
        self.dataset = dataset
        self._eye = None
        self._task.cancel()
        self.view.set_batch(None)
        self.status.setText("Press “Another batch” to see what the trainer sees." if dataset else "No dataset.")

    def settings(self) -> AugmentSettings:
        values = {name: slider.value() / STEPS * top for name, (slider, _l, top) in self.sliders.items()}
        preset = AUGMENTATION_PRESETS[self.preset.currentData()].overrides
        known = set(values) | {"imgsz", "batch", "augment"}
        return AugmentSettings(imgsz=int(self.imgsz.currentData()), batch=self.batch.value(),
                               augment=self.augment.isChecked(),
                               extra={k: v for k, v in preset.items() if k not in known}, **values)

    def set_settings(self, settings: AugmentSettings) -> None:
        for name, (slider, _label, top) in self.sliders.items():
            slider.blockSignals(True)
            slider.setValue(round(getattr(settings, name) / top * STEPS))
            slider.blockSignals(False)
            self._show_value(name)
        self.imgsz.blockSignals(True)
        pos = self.imgsz.findData(settings.imgsz)
        if pos < 0:
            self.imgsz.addItem(str(settings.imgsz), settings.imgsz)
            pos = self.imgsz.count() - 1
        self.imgsz.setCurrentIndex(pos)
        self.imgsz.blockSignals(False)
        self.batch.blockSignals(True)
        self.batch.setValue(settings.batch)
        self.batch.blockSignals(False)
        self.augment.blockSignals(True)
        self.augment.setChecked(settings.augment)
        self.augment.blockSignals(False)
        self._augment_toggled(settings.augment, refresh=False)

    def next_batch(self) -> None:
        """Compute the next batch with the current settings (in the background; the latest request wins)."""
        if self.dataset is None:
            return
        self._wanted = self.settings()
        if self._task.busy():
            return  # picked up when the running batch is done
        self._start(self._wanted)

    def is_busy(self) -> bool:
        return self._task.busy()

    def close_workers(self) -> None:
        self._task.close()

    # --- internals -----------------------------------------------------------------------------------------
    def _start(self, settings: AugmentSettings) -> None:
        dataset = self.dataset
        assert dataset is not None
        self._wanted = None
        self.another.setEnabled(False)
        self.status.setText("Loading the training dataloader…" if self._eye is None else "Augmenting…")

        eye = self._eye

        def work(progress, cancelled):
            nonlocal eye
            if eye is None:
                eye = TrainersEye(data_yaml_for(dataset))
            return dataset, eye, eye.next_batch(settings)

        self._task.start(work, self._shown, self._failed)

    def _shown(self, result: tuple[Dataset, TrainersEye, TrainerBatch]) -> None:
        dataset, eye, batch = result
        self.another.setEnabled(True)
        if dataset is not self.dataset:
            return
        self._eye = eye
        self.view.set_batch(batch)
        s = batch.settings
        n = sum(len(x.boxes) for x in batch.samples)
        self.status.setText(f"{len(batch.samples)} images, {n} boxes at {s.imgsz} px from "
                            f"{Path(batch.split_path).name or 'train'}"
                            f" · augmentation {'on' if s.augment else 'off'} · {batch.seconds:.2f} s")
        self.batchShown.emit(batch)
        if self._wanted is not None:
            self._start(self._wanted)

    def _failed(self, message: str) -> None:
        self.another.setEnabled(True)
        self.status.setText(f"Could not build the training dataloader: {message}")

    def _preset_chosen(self) -> None:
        s = AugmentSettings.from_preset(self.preset.currentData(), imgsz=int(self.imgsz.currentData()),
                                        batch=self.batch.value(), augment=self.augment.isChecked())
        self.set_settings(s)
        self._debounce.start()

    def _slider_moved(self, name: str) -> None:
        self._show_value(name)
        self._debounce.start()

    def _show_value(self, name: str) -> None:
        slider, label, top = self.sliders[name]
        value = slider.value() / STEPS * top
        label.setText(f"{value:.0f}" if top >= 10 else f"{value:.2f}")

    def _augment_toggled(self, on: bool, refresh: bool = True) -> None:
        for slider, label, _top in self.sliders.values():
            slider.setEnabled(on)
            label.setEnabled(on)
        self.preset.setEnabled(on)
        if refresh:
            self._debounce.start()

    def _grid_toggled(self, on: bool) -> None:
        self.view.ultralytics_grid = on
        self.view.update()

