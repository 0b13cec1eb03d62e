"""What the editing shortcuts do: one method per user intent, each one undoable step on the document.

Class choice: a selected box takes the class of a digit (`1`-`9` = ids 0-8, `0` = id 9) or of the popup
(`Ctrl+E`, double-click). With no box selected a digit sets the sticky *current class* the next boxes get.
When the current class is "ask" (None), the popup opens at the cursor right after a box is drawn; cancelling
it discards the new box.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QPoint, Signal
from PySide6.QtGui import QCursor

from labeltrain.core.box_geometry import shifted_copy
from labeltrain.core.model import Box
from labeltrain.ui.editor.canvas import EditorView
from labeltrain.ui.editor.class_popup import ClassPopup
from labeltrain.ui.editor.document import LabelDocument
from labeltrain.ui.editor.session import EditSession

DUPLICATE_OFFSET = 10.0


class EditorController(QObject):
    currentClassChanged = Signal(object)   # int or None ("ask")
    classesChanged = Signal()              # a class was added from the popup

    def __init__(self, document: LabelDocument, view: EditorView, session: EditSession,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.view = view
        self.session = session
        self.current_class: int | None = None
        self.popup = ClassPopup(view)
        self._popup_target: tuple[str, object] | None = None  # ('new', Box) or ('set', index)
        self.popup.chosen.connect(self._on_popup_chosen)
        self.popup.cancelled.connect(self._on_popup_cancelled)
        view.boxDrawn.connect(self.add_drawn_box)
        view.boxActivated.connect(lambda i: self.edit_class(index=i))

    # --- class choice --------------------------------------------------------------------------------------------
    def set_current_class(self, cls_id: int | None) -> None:
        if cls_id is not None and not 0 <= cls_id < len(self.session.classes):
            return
        self.current_class = cls_id
        self.view.draw_class = cls_id
        self.currentClassChanged.emit(cls_id)

    def digit(self, d: int) -> None:
        """Digit key: class id d-1 (0 -> 9) for the selected box, or the current class for the next boxes."""
        cls_id = (d - 1) % 10
        if cls_id >= len(self.session.classes):
            self.session.message.emit(f"No class {cls_id} (key {d}): the dataset has "
                                      f"{len(self.session.classes)} classes")
            return
        if self.doc.selected is not None:
            self.set_class_of(self.doc.selected, cls_id)
        else:
            self.set_current_class(cls_id)

    def set_class_of(self, index: int, cls_id: int) -> None:
        boxes = list(self.doc.boxes)
        if 0 <= index < len(boxes) and boxes[index].cls != cls_id:
            boxes[index] = boxes[index].with_class(cls_id)
            self.doc.apply(boxes, f"Set class to {self.session.classes.name(cls_id)}", select=index)

    def edit_class(self, index: int | None = None, pos: QPoint | None = None) -> None:
        """Ctrl+E: the popup for the selected box (or for the current class when nothing is selected)."""
        index = self.doc.selected if index is None else index
        if index is None:
            self._open_popup(("current", None), pos, self.current_class, "Current class")
            return
        self._open_popup(("set", index), pos, self.doc.boxes[index].cls, "Class of the selected box")

    def _open_popup(self, target: tuple[str, object], pos: QPoint | None, current: int | None, title: str) -> None:
        self._popup_target = target
        self.popup.open_at(pos or QCursor.pos(), self.session.classes, current, title)

    def _class_id_for(self, name: str) -> int:
        before = len(self.session.classes)
        cls_id = self.session.add_class(name)
        if len(self.session.classes) != before:
            self.view.set_classes(self.session.classes)
            self.classesChanged.emit()
        return cls_id

    def _on_popup_chosen(self, name: str) -> None:
        target, self._popup_target = self._popup_target, None
        self.view.set_pending_box(None)
        if target is None or not name.strip():
            return
        cls_id = self._class_id_for(name.strip())
        kind, payload = target
        if kind == "new" and isinstance(payload, Box):
            self._append(payload.with_class(cls_id), "Draw box")
        elif kind == "set" and isinstance(payload, int):
            self.set_class_of(payload, cls_id)
        elif kind == "current":
            self.set_current_class(cls_id)

    def _on_popup_cancelled(self) -> None:
        self._popup_target = None
        self.view.set_pending_box(None)

    # --- boxes ---------------------------------------------------------------------------------------------------
    def add_drawn_box(self, box: Box) -> None:
        if self.current_class is not None:
            self._append(box.with_class(self.current_class), "Draw box")
        else:
            self.view.set_pending_box(box)  # stays drawn while the class list is open
            self._open_popup(("new", box), None, None, "Class of the new box")

    def _append(self, box: Box, text: str) -> None:
        boxes = [*self.doc.boxes, box]
        self.doc.apply(boxes, text, select=len(boxes) - 1)

    def delete_selected(self) -> None:
        index = self.doc.selected
        if index is None:
            return
        boxes = list(self.doc.boxes)
        del boxes[index]
        self.doc.apply(boxes, "Delete box", select=min(index, len(boxes) - 1) if boxes else None)

    def duplicate_selected(self) -> None:
        box, size = self.doc.selected_box(), self.doc.size
        if box is None or size is None:
            return
        self._append(shifted_copy(box, DUPLICATE_OFFSET, *size), "Duplicate box")

    def paste_boxes(self, boxes: Sequence[Box], source_size: tuple[int, int]) -> int:
        """Ctrl+V: add the previous image's boxes (scaled when the sizes differ), skipping exact duplicates.
        Returns how many were added."""
        size = self.doc.size
        if size is None or not boxes:
            return 0
        sx, sy = size[0] / max(1, source_size[0]), size[1] / max(1, source_size[1])
        existing = set(self.doc.boxes)
        new = []
        for b in boxes:
            scaled = Box(b.cls, b.x1 * sx, b.y1 * sy, b.x2 * sx, b.y2 * sy, dict(b.attrs)) if (sx, sy) != (1, 1) \
                else b
            if scaled not in existing:
                new.append(scaled)
                existing.add(scaled)
        if new:
            self.doc.apply([*self.doc.boxes, *new], f"Paste {len(new)} boxes from the previous image")
        return len(new)
