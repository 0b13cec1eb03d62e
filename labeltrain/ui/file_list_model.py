"""The file list: a virtual list model over the dataset's images (100k rows cost one Python list, no widgets).

Each row shows the image's path relative to the dataset root and a small state marker (has a label file or
not). Display text is computed on demand for the visible rows only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import Enum

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from labeltrain.core.dataset import ImageItem

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1       # the ImageItem of a row
STATE_ROLE = Qt.ItemDataRole.UserRole + 2      # its FileState

_Index = QModelIndex | QPersistentModelIndex


class FileState(Enum):
    """What the marker in front of a file name says."""

    LABELLED = "labelled"
    NO_LABEL = "no label file"


_MARKER_SIZE = 12
_icons: dict[FileState, QIcon] = {}


def _marker(fill: QColor | None, outline: QColor) -> QIcon:
    """A small dot (filled) or ring (hollow), drawn once at two device pixel ratios."""
    icon = QIcon()
    for ratio in (1, 2):
        pixmap = QPixmap(_MARKER_SIZE * ratio, _MARKER_SIZE * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(outline, 1.5))
        painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
        r = QRectF(0, 0, _MARKER_SIZE, _MARKER_SIZE).adjusted(2.5, 2.5, -2.5, -2.5)
        painter.drawEllipse(r)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def state_icon(state: FileState) -> QIcon:
    if not _icons:
        _icons[FileState.LABELLED] = _marker(QColor(46, 160, 67), QColor(36, 130, 54))
        _icons[FileState.NO_LABEL] = _marker(None, QColor(150, 150, 150))
    return _icons[state]


def file_state(item: ImageItem) -> FileState:
    return FileState.LABELLED if item.label is not None else FileState.NO_LABEL


def _common_folder(items: Sequence[ImageItem], root: str) -> str:
    """Deepest folder containing every image (one pass over the distinct folders); `root` if none."""
    folders = {os.path.dirname(item.image) for item in items}
    if not folders:
        return root
    try:
        return os.path.commonpath(folders)
    except ValueError:  # different drives on Windows
        return root


class FileListModel(QAbstractListModel):
    """Rows = the dataset's ImageItems, in dataset order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[ImageItem] = []
        self._root: str = ""

    # --- content -----------------------------------------------------------------------------------------
    def set_items(self, items: Sequence[ImageItem], root: str | os.PathLike[str] | None = None) -> None:
        """Replace all rows (a new dataset). Names are shown relative to the deepest folder holding all
        images (below `root`), so `images/` or `images/train/` prefixes shared by every row are left out."""
        self.beginResetModel()
        self._items = list(items)
        self._root = _common_folder(self._items, os.fspath(root) if root is not None else "")
        self.endResetModel()

    def append_items(self, items: Sequence[ImageItem]) -> None:
        """Add rows at the end (progressive listing)."""
        if not items:
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
        self._items.extend(items)
        self.endInsertRows()

    def item(self, row: int) -> ImageItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def items(self) -> list[ImageItem]:
        return self._items

    def row_of(self, image: str | os.PathLike[str]) -> int:
        """Row of an image path, -1 if absent (linear; used once per open, not per paint)."""
        target = os.path.normcase(os.path.abspath(os.fspath(image)))
        for row, item in enumerate(self._items):
            if os.path.normcase(item.image) == target:
                return row
        return -1

    def display_name(self, item: ImageItem) -> str:
        """Path relative to the dataset root (just the file name for a flat folder)."""
        if self._root:
            try:
                rel = os.path.relpath(item.image, self._root)
            except ValueError:  # another drive on Windows
                rel = item.image
            if not rel.startswith(".."):
                return rel.replace(os.sep, "/")
        return os.path.basename(item.image)

    # --- QAbstractListModel ------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display_name(item)
        if role == Qt.ItemDataRole.DecorationRole:
            return state_icon(file_state(item))
        if role == Qt.ItemDataRole.ToolTipRole:
            state = file_state(item)
            label = item.label if item.label is not None else state.value
            split = f"\nsplit: {item.split}" if item.split else ""
            return f"{item.image}\nlabels: {label}{split}"
        if role == ITEM_ROLE:
            return item
        if role == STATE_ROLE:
            return file_state(item)
        return None


__all__ = ["FileListModel", "FileState", "ITEM_ROLE", "STATE_ROLE", "file_state", "state_icon"]
