"""The side panels of the main window: the boxes of the current image and the dataset's classes."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHeaderView, QListWidget, QListWidgetItem, QTreeWidget, QTreeWidgetItem, QWidget

from labeltrain.core.model import Annotation, ClassNames
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
        self.clear()
        if annotation is None:
            return
        rows = []
        for i, box in enumerate(annotation.boxes):
            row = QTreeWidgetItem([classes.name(box.cls), f"{abs(box.width):.0f} × {abs(box.height):.0f}"])
            row.setIcon(0, swatch(class_color(box.cls, len(classes))))
            row.setData(0, Qt.ItemDataRole.UserRole, i)
            row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            rows.append(row)
        self.addTopLevelItems(rows)


class ClassList(QListWidget):
    """The dataset's classes: id, colour and name."""

    def show_classes(self, classes: ClassNames) -> None:
        self.clear()
        for cls_id, name in enumerate(classes):
            item = QListWidgetItem(swatch(class_color(cls_id, len(classes))), f"{cls_id}   {name}")
            self.addItem(item)
