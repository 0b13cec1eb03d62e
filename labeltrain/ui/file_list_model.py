"""The file list: a virtual list model over the dataset's images (100k rows cost one Python list, no widgets).

Each row shows the image's path relative to the deepest folder holding every image, and a small state icon:
no label file, labelled, verified, unsaved changes (the name in italics too), or unreadable. States the editor
sets live in sets and dicts keyed by image path, so marking one image is O(1) and 100k rows cost nothing
until they are painted; display text, icon and tooltip are computed for the visible rows only.

Rows can grow while a folder is being listed (`append_items`) and the final listing can replace them without
disturbing the view (`replace_items`: same rows in the same order -> rows updated in place).

The model derives from QStandardItemModel, whose rows stay empty (null pointers: no QStandardItem is ever
created), only so that the row count lives on the C++ side: QListView lays out *every* row whenever rows are
added (calling model->index(), hence rowCount(), twice per row), and a rowCount() overridden in Python made
each layout of 100k rows take ~0.2 s on the UI thread. (QStringListModel would do too, but inserts rows one by
one at the same position: quadratic, 15 ms per 12,500 rows.) Everything shown comes from the Python `data()`
override, for the visible rows only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from enum import Enum

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap, QStandardItemModel

from labeltrain.core.dataset import ImageItem

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1       # the ImageItem of a row
STATE_ROLE = Qt.ItemDataRole.UserRole + 2      # its FileState (the one the icon shows)

_Index = QModelIndex | QPersistentModelIndex
_STATE_ROLES = [Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.FontRole, STATE_ROLE]


class FileState(Enum):
    """What the icon in front of a file name says, most important first."""

    UNREADABLE = "cannot be read"
    UNSAVED = "unsaved changes"
    VERIFIED = "verified"
    LABELLED = "labelled"
    NO_LABEL = "no label file"


_MARKER_SIZE = 12
_icons: dict[FileState, QIcon] = {}


def _marker(fill: QColor | None, outline: QColor, glyph: str = "") -> QIcon:
    """A small dot (filled) or ring (hollow), optionally with a white check or cross, at two pixel ratios."""
    icon = QIcon()
    for ratio in (1, 2):
        pixmap = QPixmap(_MARKER_SIZE * ratio, _MARKER_SIZE * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(outline, 1.5))
        painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
        inset = 0.75 if glyph else 2.5
        r = QRectF(0, 0, _MARKER_SIZE, _MARKER_SIZE).adjusted(inset, inset, -inset, -inset)
        painter.drawEllipse(r)
        if glyph:
            pen = QPen(QColor("white"), 1.6)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            path = QPainterPath()
            if glyph == "check":
                path.moveTo(QPointF(3.4, 6.2))
                path.lineTo(QPointF(5.2, 8.0))
                path.lineTo(QPointF(8.7, 4.2))
            else:  # cross
                path.moveTo(QPointF(4.0, 4.0))
                path.lineTo(QPointF(8.0, 8.0))
                path.moveTo(QPointF(8.0, 4.0))
                path.lineTo(QPointF(4.0, 8.0))
            painter.drawPath(path)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def state_icon(state: FileState) -> QIcon:
    if not _icons:
        _icons[FileState.NO_LABEL] = _marker(None, QColor(150, 150, 150))
        _icons[FileState.LABELLED] = _marker(QColor(46, 160, 67), QColor(36, 130, 54))
        _icons[FileState.VERIFIED] = _marker(QColor(47, 111, 222), QColor(37, 90, 190), "check")
        _icons[FileState.UNSAVED] = _marker(QColor(230, 140, 20), QColor(190, 110, 10))
        _icons[FileState.UNREADABLE] = _marker(QColor(207, 34, 46), QColor(170, 25, 35), "cross")
    return _icons[state]


def file_state(item: ImageItem) -> FileState:
    """The state a freshly listed image has: labelled if it has a label file."""
    return FileState.LABELLED if item.label is not None else FileState.NO_LABEL


def _common_folder(items: Iterable[ImageItem], start: str | None = None) -> str | None:
    """Deepest folder containing every image (and `start`, if given); None without images. One `startswith` per
    image: the folder only changes when an image lies outside it."""
    common = start
    prefix = None if common is None else (common if common.endswith(os.sep) else common + os.sep)
    for item in items:
        image = item.image
        if prefix is not None and image.startswith(prefix):
            continue
        folder = os.path.dirname(image)
        if common is None:
            common = folder
        else:
            try:
                common = os.path.commonpath([common, folder])
            except ValueError:  # different drives on Windows, or a relative path
                return ""
        prefix = common if common.endswith(os.sep) else common + os.sep
    return common


class FileListModel(QStandardItemModel):
    """Rows = the dataset's ImageItems, in dataset order, plus the editor's per-image state. Read-only."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 1, parent)
        self._items: list[ImageItem] = []
        self._root: str = ""
        self._hint = 0                             # where row_of found the last path (usually the current row)
        self._verified: set[str] = set()
        self._unsaved: set[str] = set()
        self._labelled: dict[str, bool] = {}       # overrides item.label (a label file written or removed)
        self._unreadable: dict[str, str] = {}      # image path -> why it cannot be read
        self._unsaved_font = QFont()
        self._unsaved_font.setItalic(True)

    # --- content -----------------------------------------------------------------------------------------
    def set_items(self, items: Sequence[ImageItem], root: str | os.PathLike[str] | None = None) -> None:
        """Replace all rows (a new dataset; per-image states are forgotten). Names are shown relative to the
        deepest folder holding all images (below `root`), so `images/` or `images/train/` prefixes shared by
        every row are left out."""
        self._verified.clear()
        self._unsaved.clear()
        self._labelled.clear()
        self._unreadable.clear()
        self._set_rows(list(items), self._base_folder(items, root))

    def append_items(self, items: Sequence[ImageItem]) -> None:
        """Add rows at the end (progressive listing)."""
        if not items:
            return
        first = len(self._items)
        common = _common_folder(items, self._root if first else None) or ""
        self._items.extend(items)
        super().insertRows(first, len(items))  # the C++ row count follows (rowsInserted)
        self._set_root(common)

    def replace_items(self, items: Sequence[ImageItem], root: str | os.PathLike[str] | None = None) -> bool:
        """The final listing of the dataset whose rows are shown (a progressive listing ends). If the rows shown
        are its first rows, in the same order, they are updated in place and the rest appended: current row,
        selection and scroll position stay. Otherwise all rows are replaced (removed, then inserted; the caller
        restores the current row, row_of is fast). Per-image states are kept either way. Returns True if the
        rows stayed in place."""
        items = list(items)
        n = len(self._items)
        if n and len(items) >= n:
            head = items[:n]
            identical = head == self._items  # the same objects: one C-level pass
            if identical or [i.image for i in head] == [i.image for i in self._items]:
                if not identical:  # labels or splits differ from the provisional rows
                    self._items[:n] = head
                    self.dataChanged.emit(self.index(0, 0), self.index(n - 1, 0), [*_STATE_ROLES, ITEM_ROLE])
                self.append_items(items[n:])  # widens the common folder if the new rows need it
                return True
        self._set_rows(items, self._base_folder(items, root))
        return False

    def item(self, row: int) -> ImageItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def items(self) -> list[ImageItem]:
        return self._items

    def row_of(self, image: str | os.PathLike[str]) -> int:
        """Row of an image path, -1 if absent. Looks near the last row found first (state changes are nearly
        always about the current image), else scans the rows (~5 ms at 100k; no index kept: it would cost
        ~5 MB at 100k rows)."""
        target = os.fspath(image)
        row = self._find(target)
        if row < 0:
            normal = os.path.normcase(os.path.abspath(target))
            if normal != target:
                row = self._find(normal)
            if row < 0 and os.path.normcase("A") != "A":  # case-insensitive file systems
                row = next((r for r, it in enumerate(self._items) if os.path.normcase(it.image) == normal), -1)
        return row

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

    # --- per-image state (the editor's) --------------------------------------------------------------------
    def set_verified_paths(self, paths: set[str]) -> None:
        """The verified images of the dataset (from its sidecar), replacing any before."""
        self._verified = set(paths)
        self._all_states_changed()

    def set_verified(self, path: str, on: bool) -> None:
        self._toggle(self._verified, path, on)

    def set_unsaved(self, path: str, on: bool) -> None:
        self._toggle(self._unsaved, path, on)

    def set_labelled(self, path: str, on: bool) -> None:
        """A label file was written (on) or removed (off) for this image since it was listed."""
        path = os.fspath(path)
        if self._labelled.get(path) != on:
            self._labelled[path] = bool(on)
            self._state_changed(path)

    def set_unreadable(self, path: str, reason: str) -> None:
        """Mark an image the trainer cannot read (shown with a red cross and the reason); an empty reason
        clears the mark."""
        path = os.fspath(path)
        if reason:
            if self._unreadable.get(path) == reason:
                return
            self._unreadable[path] = reason
        elif self._unreadable.pop(path, None) is None:
            return
        self._state_changed(path)

    def is_verified(self, path: str) -> bool:
        return os.fspath(path) in self._verified

    def is_unsaved(self, path: str) -> bool:
        return os.fspath(path) in self._unsaved

    def unreadable_reason(self, path: str) -> str | None:
        return self._unreadable.get(os.fspath(path))

    def is_labelled(self, item: ImageItem) -> bool:
        override = self._labelled.get(item.image)
        return override if override is not None else item.label is not None

    def state(self, item: ImageItem) -> FileState:
        """The state the row's icon shows (the most important one)."""
        path = item.image
        if path in self._unreadable:
            return FileState.UNREADABLE
        if path in self._unsaved:
            return FileState.UNSAVED
        if path in self._verified:
            return FileState.VERIFIED
        return FileState.LABELLED if self.is_labelled(item) else FileState.NO_LABEL

    def states(self, item: ImageItem) -> list[FileState]:
        """Every state that applies to the row, most important first."""
        path = item.image
        out = [FileState.UNREADABLE] if path in self._unreadable else []
        if path in self._unsaved:
            out.append(FileState.UNSAVED)
        if path in self._verified:
            out.append(FileState.VERIFIED)
        out.append(FileState.LABELLED if self.is_labelled(item) else FileState.NO_LABEL)
        return out

    # --- the model (rowCount() is QStandardItemModel's, in C++) ---------------------------------------------
    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren

    def setData(self, index: _Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        return False  # read-only: the rows are the dataset's

    def insertRows(self, row: int, count: int, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return False  # rows come from set_items / append_items / replace_items only

    def removeRows(self, row: int, count: int, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return False

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        row = index.row()
        if not index.isValid() or not 0 <= row < len(self._items):
            return None
        item = self._items[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display_name(item)
        if role == Qt.ItemDataRole.DecorationRole:
            return state_icon(self.state(item))
        if role == Qt.ItemDataRole.FontRole:
            return self._unsaved_font if item.image in self._unsaved else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item)
        if role == ITEM_ROLE:
            return item
        if role == STATE_ROLE:
            return self.state(item)
        return None

    # --- internals -------------------------------------------------------------------------------------------
    def _tooltip(self, item: ImageItem) -> str:
        lines = [item.image]
        reason = self._unreadable.get(item.image)
        if reason is not None:
            lines.append(f"cannot be read: {reason}")
        if self.is_labelled(item):
            lines.append(f"labels: {item.label}" if item.label is not None else "labels: saved")
        else:
            lines.append("labels: no label file")
        if item.split:
            lines.append(f"split: {item.split}")
        if item.image in self._verified:
            lines.append("verified")
        if item.image in self._unsaved:
            lines.append("unsaved changes")
        return "\n".join(lines)

    def _set_rows(self, items: list[ImageItem], root: str) -> None:
        """All rows replaced: the old ones removed, the new ones inserted (the view drops its selection)."""
        if self._items:
            super().removeRows(0, len(self._items))
        self._items = items
        self._root = root
        self._hint = 0
        if items:
            super().insertRows(0, len(items))

    def _find(self, path: str) -> int:
        items, hint = self._items, self._hint
        for row in (hint, hint + 1, hint - 1):
            if 0 <= row < len(items) and items[row].image == path:
                self._hint = row
                return row
        for row, item in enumerate(items):
            if item.image == path:
                self._hint = row
                return row
        return -1

    def _toggle(self, states: set[str], path: str, on: bool) -> None:
        path = os.fspath(path)
        if (path in states) == bool(on):
            return
        if on:
            states.add(path)
        else:
            states.discard(path)
        self._state_changed(path)

    def _state_changed(self, path: str) -> None:
        row = self.row_of(path)
        if row >= 0:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, _STATE_ROLES)

    def _all_states_changed(self) -> None:
        if self._items:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._items) - 1, 0), _STATE_ROLES)

    def _base_folder(self, items: Sequence[ImageItem], root: str | os.PathLike[str] | None) -> str:
        common = _common_folder(items)
        if common is None:
            return os.fspath(root) if root is not None else ""
        return common

    def _set_root(self, root: str) -> None:
        """Names are relative to the common folder: when it moves up (rows from another folder arrived), every
        visible name changes."""
        if root != self._root:
            self._root = root
            if self._items:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._items) - 1, 0),
                                      [Qt.ItemDataRole.DisplayRole])


__all__ = ["FileListModel", "FileState", "ITEM_ROLE", "STATE_ROLE", "file_state", "state_icon"]
