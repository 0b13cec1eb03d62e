"""The editable boxes of the image on screen, with undo.

Every edit replaces the box tuple of one image through a QUndoCommand on that image's own QUndoStack, so
undo/redo works for every kind of edit, a whole mouse drag is one step, and a run of arrow-key nudges of the
same box merges into one step. Stacks are kept per image (the most recent `KEEP_HISTORY_OF` images), so
switching away and back, or saving, keeps the history. "Modified" is `not stack.isClean()`: an edit that is
undone brings the image back to clean, and saving marks the current state clean.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from labeltrain.core.model import Box

KEEP_HISTORY_OF = 30      # images whose undo history is kept while browsing
NUDGE_MERGE_ID = 0x4E55   # QUndoCommand.id() of nudges: consecutive nudges of one box merge into one step


class ImageEdits:
    """One image's editable state: its boxes (full-resolution pixels, EXIF applied) and its undo stack."""

    def __init__(self, key: str, size: tuple[int, int], boxes: Sequence[Box], group: QUndoGroup) -> None:
        self.key = key
        self.size = size
        self.boxes: tuple[Box, ...] = tuple(boxes)
        self.selected: int | None = None
        self.stack = QUndoStack()
        group.addStack(self.stack)


class ReplaceBoxes(QUndoCommand):
    """Replace the boxes of one image; undo restores them (and the selection of the time)."""

    def __init__(self, doc: LabelDocument, edits: ImageEdits, after: Sequence[Box], text: str,
                 select_after: int | None, merge_key: tuple | None = None) -> None:
        super().__init__(text)
        self._doc = doc
        self._edits = edits
        self._before = edits.boxes
        self._after = tuple(after)
        self._select_before = edits.selected
        self._select_after = select_after
        self._merge_key = merge_key

    def id(self) -> int:
        return NUDGE_MERGE_ID if self._merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ReplaceBoxes) or other._merge_key != self._merge_key:
            return False
        self._after = other._after
        self._select_after = other._select_after
        return True

    def redo(self) -> None:
        self._doc._set(self._edits, self._after, self._select_after)

    def undo(self) -> None:
        self._doc._set(self._edits, self._before, self._select_before)


class LabelDocument(QObject):
    """The boxes of the current image and the undo history of recently edited images."""

    changed = Signal()              # the current image's boxes changed (edit, undo, redo, load)
    selectionChanged = Signal(object)  # index of the selected box or None
    dirtyChanged = Signal(str, bool)   # image key, has unsaved edits

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_group = QUndoGroup(self)
        self._images: OrderedDict[str, ImageEdits] = OrderedDict()
        self._current: ImageEdits | None = None

    # --- loading ---------------------------------------------------------------------------------------------
    def load(self, key: str, size: tuple[int, int], boxes: Sequence[Box], *, keep_history: bool = True) -> None:
        """Show image `key` with `boxes` (as read from disk). Its undo history is kept when its last state is
        exactly these boxes (e.g. it was saved and we came back), otherwise it starts fresh."""
        boxes = tuple(boxes)
        edits = self._images.get(key)
        if edits is None or not keep_history or edits.boxes != boxes or edits.size != size:
            if edits is not None:
                self._drop(key)
            edits = ImageEdits(key, size, boxes, self.undo_group)
            edits.stack.cleanChanged.connect(lambda clean, k=key: self.dirtyChanged.emit(k, not clean))
            self._images[key] = edits
        self._images.move_to_end(key)
        while len(self._images) > KEEP_HISTORY_OF:
            oldest = next(iter(self._images))
            if oldest == key or not self._images[oldest].stack.isClean():
                break  # never forget unsaved edits (the session saves before switching anyway)
            self._drop(oldest)
        self._current = edits
        self.undo_group.setActiveStack(edits.stack)
        self.changed.emit()
        self.selectionChanged.emit(edits.selected)

    def unload(self) -> None:
        """Nothing on screen (dataset closed or an unreadable image)."""
        self._current = None
        self.undo_group.setActiveStack(None)
        self.changed.emit()
        self.selectionChanged.emit(None)

    def forget_all(self) -> None:
        """Drop every undo history (after class ids changed on disk, or a new dataset)."""
        for key in list(self._images):
            self._drop(key)
        self._current = None
        self.changed.emit()

    def _drop(self, key: str) -> None:
        edits = self._images.pop(key)
        self.undo_group.removeStack(edits.stack)
        edits.stack.blockSignals(True)  # its destruction clears it: that must not read as "saved"
        edits.stack.deleteLater()

    # --- queries ---------------------------------------------------------------------------------------------
    @property
    def key(self) -> str | None:
        return self._current.key if self._current is not None else None

    @property
    def size(self) -> tuple[int, int] | None:
        return self._current.size if self._current is not None else None

    @property
    def boxes(self) -> tuple[Box, ...]:
        return self._current.boxes if self._current is not None else ()

    @property
    def selected(self) -> int | None:
        return self._current.selected if self._current is not None else None

    @property
    def stack(self) -> QUndoStack | None:
        return self._current.stack if self._current is not None else None

    def selected_box(self) -> Box | None:
        i = self.selected
        return self.boxes[i] if i is not None and 0 <= i < len(self.boxes) else None

    def is_dirty(self, key: str | None = None) -> bool:
        edits = self._images.get(key) if key is not None else self._current
        return edits is not None and not edits.stack.isClean()

    def dirty_keys(self) -> list[str]:
        return [k for k, e in self._images.items() if not e.stack.isClean()]

    def boxes_of(self, key: str) -> tuple[Box, ...] | None:
        edits = self._images.get(key)
        return edits.boxes if edits is not None else None

    # --- editing ---------------------------------------------------------------------------------------------
    def select(self, index: int | None) -> None:
        if self._current is None:
            return
        if index is not None and not 0 <= index < len(self._current.boxes):
            index = None
        if index != self._current.selected:
            self._current.selected = index
            self.selectionChanged.emit(index)

    def apply(self, boxes: Sequence[Box], text: str, *, select: int | None = None,
              merge_key: tuple | None = None) -> bool:
        """Replace the current image's boxes as one undoable step. No-op (no phantom edit) when nothing
        changes. Returns whether a step was pushed."""
        if self._current is None:
            return False
        boxes = tuple(boxes)
        if boxes == self._current.boxes:
            self.select(select)
            return False
        self._current.stack.push(ReplaceBoxes(self, self._current, boxes, text, select, merge_key))
        return True

    def mark_saved(self, key: str | None = None) -> None:
        edits = self._images.get(key) if key is not None else self._current
        if edits is not None:
            edits.stack.setClean()

    def _set(self, edits: ImageEdits, boxes: tuple[Box, ...], selected: int | None) -> None:
        edits.boxes = boxes
        edits.selected = selected if selected is not None and 0 <= selected < len(boxes) else None
        if edits is self._current:
            self.changed.emit()
            self.selectionChanged.emit(edits.selected)
