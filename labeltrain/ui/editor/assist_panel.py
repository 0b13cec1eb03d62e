"""The Assist dock: which model pre-labels, the confidence slider, pre-label buttons with progress, and the
proposals of the image on screen with accept / reject. It shows and asks; AssistSession holds the proposals and
the window's Assisting glue turns an accept into a document edit."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from labeltrain.core.model import ClassNames
from labeltrain.core.proposals import Proposal
from labeltrain.ui.colors import class_color
from labeltrain.ui.editor.assist import PREDICT_FLOOR, AssistSession
from labeltrain.ui.model.picker import ModelPicker
from labeltrain.ui.panels import swatch

SLIDER_STEPS = 1000


class AssistPanel(QWidget):
    prelabelRequested = Signal(str)  # "image" | "unlabelled" | "all"
    acceptRequested = Signal(object)  # list[Proposal] of the image on screen
    rejectRequested = Signal(object)
    proposalSelected = Signal(object)  # index in the shown list, or None

    def __init__(self, session: AssistSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._shown: list[Proposal] = []
        self.picker = ModelPicker("Model", (".pt", ".onnx"), self, min_chars=8)
        self.picker.changed.connect(lambda path: session.set_model(path) if path is not None else None)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(round(PREDICT_FLOOR * SLIDER_STEPS), SLIDER_STEPS - 5)
        self.slider.setValue(round(session.conf * SLIDER_STEPS))
        self.slider.setToolTip("Show proposals with at least this confidence")
        self.slider.valueChanged.connect(lambda v: session.set_conf(v / SLIDER_STEPS))
        self.conf_label = QLabel(self)
        self.conf_label.setMinimumWidth(34)
        self.prelabel_button = QToolButton(self)
        self.prelabel_button.setText("Pre-label image")
        self.prelabel_button.setToolTip("Ask the model for proposals on the image on screen (Ctrl+L); the arrow "
                                        "offers the unlabelled images or all images")
        self.prelabel_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.prelabel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.prelabel_button.setStyleSheet(
            "QToolButton { padding: 4px 24px 4px 10px; border: 1px solid #c5cbd3; border-radius: 4px;"
            " background: #f6f7f9; }"
            " QToolButton:hover { background: #e4e8ee; }"
            " QToolButton::menu-button { width: 20px; border-left: 1px solid #c5cbd3; }")
        menu = QMenu(self.prelabel_button)
        for text, scope in (("This image", "image"), ("Every image without a label file", "unlabelled"),
                            ("Every image", "all")):
            menu.addAction(text, lambda s=scope: self.prelabelRequested.emit(s))
        self.prelabel_button.setMenu(menu)
        self.prelabel_button.clicked.connect(lambda: self.prelabelRequested.emit("image"))
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(session.cancel)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(16)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #57606a;")
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemActivated.connect(lambda _item: self.acceptRequested.emit(self.selected()))
        self.accept_button = QPushButton("Accept", self, toolTip="Make the selected proposals boxes "
                                         "(double-click a proposal on the image does the same)")
        self.accept_all_button = QPushButton("Accept all", self, toolTip="Accept every shown proposal (Ctrl+Return)")
        self.reject_button = QPushButton("Reject", self, toolTip="Drop the selected proposals")
        self.reject_all_button = QPushButton("Reject all", self,
                                             toolTip="Drop every proposal of this image (Ctrl+Shift+Backspace)")
        self.accept_button.clicked.connect(lambda: self.acceptRequested.emit(self.selected()))
        self.accept_all_button.clicked.connect(lambda: self.acceptRequested.emit(list(self._shown)))
        self.reject_button.clicked.connect(lambda: self.rejectRequested.emit(self.selected()))
        self.reject_all_button.clicked.connect(lambda: self.rejectRequested.emit(list(self._shown)))

        conf_row = QHBoxLayout()
        conf_row.addWidget(QLabel("Confidence", self))
        conf_row.addWidget(self.slider, 1)
        conf_row.addWidget(self.conf_label)
        run_row = QHBoxLayout()
        run_row.addWidget(self.prelabel_button)
        run_row.addStretch(1)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        decide = QGridLayout()
        for i, b in enumerate((self.accept_button, self.accept_all_button, self.reject_button, self.reject_all_button)):
            decide.addWidget(b, i // 2, i % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(5)
        layout.addWidget(self.picker)
        layout.addLayout(conf_row)
        layout.addLayout(run_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(decide)

        session.busyChanged.connect(self._busy)
        session.progress.connect(self._progress)
        session.finished.connect(self.status.setText)
        session.failed.connect(self.status.setText)
        session.confChanged.connect(self._conf_changed)
        session.modelChanged.connect(self._model_changed)
        self._busy(False)
        self._conf_changed(session.conf)
        self.show_proposals([], ClassNames())

    # --- models ------------------------------------------------------------------------------------------
    def set_models(self, paths: list[Path], keep_current: bool = True) -> None:
        """Offer these model files (newest first); the newest becomes the model unless one was chosen (and kept)."""
        self.picker.set_models(paths, keep_current)

    def _model_changed(self, path: Path | None) -> None:
        if path is not None and path != self.picker.path():
            self.picker.set_path(path, emit=False)

    # --- proposals ---------------------------------------------------------------------------------------
    def show_proposals(self, proposals: list[Proposal], classes: ClassNames) -> None:
        self._shown = list(proposals)
        self.list.blockSignals(True)
        self.list.clear()
        for p in proposals:
            item = QListWidgetItem(swatch(class_color(p.cls, len(classes))),
                                   f"{classes.name(p.cls)}   {p.score:.2f}   {p.x2 - p.x1:.0f} × {p.y2 - p.y1:.0f}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        for b in (self.accept_button, self.reject_button):
            b.setEnabled(False)
        for b in (self.accept_all_button, self.reject_all_button):
            b.setEnabled(bool(proposals))

    def select(self, index: int | None) -> None:
        self.list.clearSelection()
        if index is not None and 0 <= index < self.list.count():
            self.list.item(index).setSelected(True)
            self.list.scrollToItem(self.list.item(index))

    def selected(self) -> list[Proposal]:
        rows = sorted(self.list.row(i) for i in self.list.selectedItems())
        return [self._shown[r] for r in rows if r < len(self._shown)]

    def _selection_changed(self) -> None:
        rows = [self.list.row(i) for i in self.list.selectedItems()]
        for b in (self.accept_button, self.reject_button):
            b.setEnabled(bool(rows))
        self.proposalSelected.emit(rows[0] if len(rows) == 1 else None)

    # --- state -------------------------------------------------------------------------------------------
    def _busy(self, busy: bool) -> None:
        self.prelabel_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.progress.setVisible(busy)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done:,} / {total:,}")

    def _conf_changed(self, conf: float) -> None:
        self.conf_label.setText(f"{conf:.3f}" if conf < 0.1 else f"{conf:.2f}")
        value = round(conf * SLIDER_STEPS)
        if self.slider.value() != value:
            self.slider.blockSignals(True)
            self.slider.setValue(value)
            self.slider.blockSignals(False)
