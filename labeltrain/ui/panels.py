"""The side panels of the main window: the boxes of the current image and the dataset's classes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.ui.colors import class_color


def swatch(color: QColor, size: int = 12) -> QIcon:
    """A small rounded colour square with a slightly darker rim, for list rows."""
    icon = QIcon()
    for ratio in (1, 2):
        pixmap = QPixmap(size * ratio, size * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color.darker(130), 1))
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 2.5, 2.5)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


class BoxList(QTreeWidget):
    """The boxes of the current image: class (with colour) and size in pixels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Class", "Size (px)"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

    def show_annotation(self, annotation: Annotation | None, classes: ClassNames) -> None:
        self.show_boxes(annotation.boxes if annotation is not None else (), classes)

    def show_boxes(self, boxes: Sequence[Box], classes: ClassNames) -> None:
        self.blockSignals(True)
        self.clear()
        rows = []
        for i, box in enumerate(boxes):
            row = QTreeWidgetItem([classes.name(box.cls), f"{abs(box.width):.0f} × {abs(box.height):.0f}"])
            row.setIcon(0, swatch(class_color(box.cls, len(classes))))
            row.setData(0, Qt.ItemDataRole.UserRole, i)
            row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            rows.append(row)
        self.addTopLevelItems(rows)
        self.blockSignals(False)

    def select_index(self, index: int | None) -> None:
        """Select the row of box `index` (None: no selection) without emitting selection signals."""
        self.blockSignals(True)
        item = self.topLevelItem(index) if index is not None else None
        self.setCurrentItem(item)
        if item is None:
            self.clearSelection()
        else:
            self.scrollToItem(item)
        self.blockSignals(False)


class ClassList(QTreeWidget):
    """The dataset's classes: digit key, colour and name, and boxes per class in the whole dataset."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Key", "Class", "Boxes"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self._counts: Counter[int] | None = None
        self._classes = ClassNames()

    def count(self) -> int:
        """Number of named classes shown (rows for unknown ids found in the files come after them)."""
        return min(len(self._classes), self.topLevelItemCount())

    def show_classes(self, classes: ClassNames, counts: Counter[int] | None = None) -> None:
        if counts is not None:
            self._counts = Counter(counts)
        self._classes = classes
        current = self.currentRow()
        self.clear()
        rows = []
        for cls_id, name in enumerate(classes):
            key = str((cls_id + 1) % 10) if cls_id < 10 else ""
            n = self._counts.get(cls_id, 0) if self._counts is not None else None
            row = QTreeWidgetItem([key, name, f"{n:,}" if n is not None else "…"])
            row.setIcon(1, swatch(class_color(cls_id, len(classes))))
            row.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            row.setData(0, Qt.ItemDataRole.UserRole, cls_id)
            rows.append(row)
        unknown = sorted(c for c in (self._counts or {}) if not 0 <= c < len(classes) and self._counts[c] > 0)
        for cls_id in unknown:
            row = QTreeWidgetItem(["", f"<unknown class {cls_id}>", f"{self._counts[cls_id]:,}"])
            row.setIcon(1, swatch(class_color(cls_id, len(classes))))
            row.setToolTip(1, "Boxes with this class id have no class name: fix them in the checker or rename")
            row.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            rows.append(row)
        self.addTopLevelItems(rows)
        if 0 <= current < len(rows):
            self.setCurrentItem(rows[current])

    def add_counts(self, delta: Counter[int]) -> None:
        if self._counts is None:
            return
        self._counts.update(delta)
        self.show_classes(self._classes)

    def counts(self) -> Counter[int] | None:
        return self._counts

    def currentRow(self) -> int:
        item = self.currentItem()
        return self.indexOfTopLevelItem(item) if item is not None else -1
