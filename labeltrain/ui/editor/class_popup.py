"""The searchable class popup shown at the cursor (`Ctrl+E`, double-click on a box, or after drawing a box
when no sticky class is set).

Type to filter (substring, case-insensitive; the best match is highlighted), Up/Down to move, Enter to pick,
Esc to cancel, or a digit with an empty filter to pick by hotkey. A name that matches no class can be
entered as a new class ("Add class 'bus'"). The popup is non-modal: it emits `chosen(name)` or `cancelled`.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from labeltrain.core.model import ClassNames
from labeltrain.ui.colors import class_color
from labeltrain.ui.panels import swatch

NEW_CLASS_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_ROWS = 12


def digit_for(cls_id: int) -> str:
    """The hotkey of a class id: 1..9 for ids 0..8, 0 for id 9."""
    return str((cls_id + 1) % 10) if cls_id < 10 else ""


class ClassPopup(QFrame):
    chosen = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("class_popup")
        self._classes = ClassNames()
        self._done = False
        self.title = QLabel("Class")
        self.title.setStyleSheet("font-weight: 600; padding: 2px 2px 0 2px;")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Type to search or add a class…")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._refilter)
        self.filter.installEventFilter(self)
        self.list.itemClicked.connect(self._pick_item)
        self.setFixedWidth(260)

    def open_at(self, pos: QPoint, classes: ClassNames, current: int | None = None, title: str = "Class") -> None:
        self._classes = classes
        self._done = False
        self.title.setText(title)
        self.filter.clear()
        self._refilter("")
        if current is not None and 0 <= current < self.list.count():
            self.list.setCurrentRow(current)
        screen = (self.parentWidget().screen() if self.parentWidget() else self.screen()).availableGeometry()
        x = min(max(pos.x(), screen.left()), screen.right() - self.width())
        y = min(max(pos.y(), screen.top()), screen.bottom() - self.height())
        self.move(x, y)
        self.show()
        self.raise_()
        self.activateWindow()
        self.filter.setFocus()

    # --- filtering -------------------------------------------------------------------------------------------
    def _refilter(self, text: str) -> None:
        needle = text.strip().lower()
        self.list.clear()
        best = None
        for cls_id, name in enumerate(self._classes):
            if needle and needle not in name.lower():
                continue
            hint = digit_for(cls_id)
            item = QListWidgetItem(swatch(class_color(cls_id, len(self._classes))),
                                   f"{name}" + (f"    [{hint}]" if hint else ""))
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(item)
            if best is None or (name.lower().startswith(needle) and
                                not str(self.list.item(best).data(Qt.ItemDataRole.UserRole)).lower()
                                .startswith(needle)):
                best = self.list.count() - 1
        typed = text.strip()
        if typed and typed not in self._classes:
            item = QListWidgetItem(f"＋ Add class “{typed}”")
            item.setData(Qt.ItemDataRole.UserRole, typed)
            item.setData(NEW_CLASS_ROLE, True)
            self.list.addItem(item)
            if best is None:
                best = self.list.count() - 1
        if best is not None:
            self.list.setCurrentRow(best)
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its rows (up to MAX_ROWS), so a short class list gives a small popup."""
        rows = min(max(self.list.count(), 1), MAX_ROWS)
        row_h = self.list.sizeHintForRow(0) if self.list.count() else self.list.fontMetrics().height() + 6
        self.list.setFixedHeight(rows * row_h + 2 * self.list.frameWidth() + 2)
        self.adjustSize()

    # --- keys ------------------------------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:
        if watched is self.filter and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
                self.list.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._pick_item(self.list.currentItem())
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
            if not self.filter.text() and event.text().isdigit():
                cls_id = (int(event.text()) - 1) % 10
                if cls_id < len(self._classes):
                    self._finish(self._classes.names[cls_id])
                    return True
        return super().eventFilter(watched, event)

    def _pick_item(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self._finish(str(item.data(Qt.ItemDataRole.UserRole)))

    def _finish(self, name: str) -> None:
        self._done = True
        self.hide()
        self.chosen.emit(name)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        if not self._done:
            self._done = True
            self.cancelled.emit()
