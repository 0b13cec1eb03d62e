"""The editing canvas: ImageView plus mouse and keyboard gestures on the boxes of a LabelDocument.

Gestures (a gesture changes only a preview; the document gets one undoable step when it ends):
- create mode (`w`; stays on when "keep create mode" is set): left-drag draws a box with crosshair guides
  and its size shown; a click (smaller than MIN_DRAW_SCREEN_PX on screen) is ignored.
- otherwise: click selects the smallest box under the cursor; drag inside moves it; drag a corner or an edge
  (within HANDLE_PX of it) resizes; double-click asks for its class.
- middle-drag, or Space+drag, pans; Ctrl+wheel zooms around the cursor (ImageView).
- arrows nudge the selected box 1 px (Shift: 10 px); Esc cancels a gesture, leaves create mode, deselects.
- a Space tap (press and release without panning) emits `spaceTapped` (the window toggles "verified").
Coordinates are full-resolution image pixels; edited sides snap to whole pixels (see core.box_geometry for
the clamp policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFont, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QWidget

from labeltrain.core.box_geometry import drawn_box, moved_box, resized_box
from labeltrain.core.model import Box, ClassNames
from labeltrain.ui.colors import class_color
from labeltrain.ui.editor.document import LabelDocument
from labeltrain.ui.editor.proposal_overlay import ProposalOverlay
from labeltrain.ui.image_view import ImageView

HANDLE_PX = 6.0            # how close (screen px) to an edge or corner a press grabs it
HANDLE_DRAW_PX = 7.0       # side of the drawn handle squares
MIN_DRAW_SCREEN_PX = 4.0   # a drag smaller than this on screen is a click, not a box
NUDGE_SMALL, NUDGE_LARGE = 1.0, 10.0

_CURSORS = {"nw": Qt.CursorShape.SizeFDiagCursor, "se": Qt.CursorShape.SizeFDiagCursor,
            "ne": Qt.CursorShape.SizeBDiagCursor, "sw": Qt.CursorShape.SizeBDiagCursor,
            "n": Qt.CursorShape.SizeVerCursor, "s": Qt.CursorShape.SizeVerCursor,
            "e": Qt.CursorShape.SizeHorCursor, "w": Qt.CursorShape.SizeHorCursor,
            "move": Qt.CursorShape.SizeAllCursor}
_NUDGE_KEYS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}


class Gesture(Enum):
    NONE = auto()
    DRAW = auto()
    MOVE = auto()
    RESIZE = auto()
    PAN = auto()


@dataclass
class _Drag:
    gesture: Gesture
    start: QPointF                 # scene position of the press
    index: int | None = None       # box being moved / resized
    handle: str = ""
    original: Box | None = None
    preview: Box | None = None
    last_view_pos: QPointF | None = None


def _snap(v: float) -> float:
    return float(round(v))


class EditorView(ImageView):
    """ImageView that edits the boxes of `document`."""

    boxDrawn = Signal(object)       # Box (cls = -1: the window picks the class), already clamped
    boxActivated = Signal(int)      # double-click on a box: ask for its class
    spaceTapped = Signal()
    createModeChanged = Signal(bool)
    boxMenuRequested = Signal(int, QPoint)  # right-click on a box: index, global position
    proposalClicked = Signal(int)   # a model proposal (ProposalOverlay index) clicked where no box is
    proposalActivated = Signal(int)  # double-click on a proposal: accept it

    def __init__(self, document: LabelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.classes = ClassNames()
        self.keep_create_mode = False
        self.draw_class: int | None = None   # colour of the rubber band (the class the next box will get)
        self._create_mode = False
        self._drag: _Drag | None = None
        self._cursor_scene: QPointF | None = None
        self._space_down = False
        self._space_used = False
        self._pending: Box | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._size_font = QFont(self.font())
        self._size_font.setWeight(QFont.Weight.DemiBold)
        self.proposals = ProposalOverlay(self, self.scene(), self._tag_font)
        document.changed.connect(self._sync_boxes)
        document.selectionChanged.connect(self._sync_selection)

    # --- state -----------------------------------------------------------------------------------------------
    @property
    def create_mode(self) -> bool:
        return self._create_mode

    def set_create_mode(self, on: bool) -> None:
        if self._drag is not None and self._drag.gesture is Gesture.DRAW and not on:
            self._drag = None
        if on != self._create_mode:
            self._create_mode = on
            self.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
            self.viewport().update()
            self.createModeChanged.emit(on)

    def set_classes(self, classes: ClassNames) -> None:
        self.classes = classes
        self._sync_boxes()

    def set_pending_box(self, box: Box | None) -> None:
        """A drawn box waiting for its class (outlined dashed until the class popup answers)."""
        self._pending = box
        self.viewport().update()

    def begin_image(self, size: tuple[int, int] | None) -> None:
        self._drag = None
        self._pending = None
        self.proposals.clear()
        super().begin_image(size)
        self._sync_boxes()  # the document was loaded first; ImageView.begin_image cleared its items

    def set_boxes_visible(self, visible: bool) -> None:
        super().set_boxes_visible(visible)
        self.proposals.set_visible(visible)

    def gesture(self) -> Gesture:
        return self._drag.gesture if self._drag is not None else Gesture.NONE

    def _sync_boxes(self) -> None:
        self.set_boxes(self.document.boxes, self.classes)
        self._sync_selection(self.document.selected)

    def _sync_selection(self, index: int | None) -> None:
        self.set_highlighted_box(index)
        self.viewport().update()

    # --- geometry helpers --------------------------------------------------------------------------------------
    def scene_pos(self, view_pos: QPointF) -> QPointF:
        """Viewport position -> scene (image pixel) position, with sub-pixel precision."""
        inverted, _ok = self.viewportTransform().inverted()
        return inverted.map(QPointF(view_pos))

    def view_rect(self, box: Box) -> QRectF:
        b = box.normalized()
        return self.viewportTransform().mapRect(QRectF(b.x1, b.y1, b.width, b.height))

    def hit_test(self, view_pos: QPointF) -> tuple[int, str] | None:
        """(box index, handle or 'move') under a viewport position. The selected box's handles win, then
        edges of any box, then the smallest box containing the point."""
        boxes = self.document.boxes
        if not boxes or not self.boxes_visible():
            return None
        order = list(range(len(boxes)))
        sel = self.document.selected
        if sel is not None:
            order.remove(sel)
            order.insert(0, sel)
        for i in order:
            handle = self._handle_at(self.view_rect(boxes[i]), view_pos)
            if handle:
                return i, handle
        inside = [i for i in order if self.view_rect(boxes[i]).contains(view_pos)]
        if inside:
            return min(inside, key=lambda i: boxes[i].area), "move"
        return None

    @staticmethod
    def _handle_at(rect: QRectF, p: QPointF) -> str:
        grow = rect.adjusted(-HANDLE_PX, -HANDLE_PX, HANDLE_PX, HANDLE_PX)
        if not grow.contains(p):
            return ""
        near_w, near_e = abs(p.x() - rect.left()) <= HANDLE_PX, abs(p.x() - rect.right()) <= HANDLE_PX
        near_n, near_s = abs(p.y() - rect.top()) <= HANDLE_PX, abs(p.y() - rect.bottom()) <= HANDLE_PX
        if rect.width() < 3 * HANDLE_PX:  # tiny on screen: prefer moving from the middle
            near_w, near_e = near_w and p.x() < rect.left() + 2, near_e and p.x() > rect.right() - 2
        if rect.height() < 3 * HANDLE_PX:
            near_n, near_s = near_n and p.y() < rect.top() + 2, near_s and p.y() > rect.bottom() - 2
        vertical = "n" if near_n else "s" if near_s else ""
        horizontal = "w" if near_w else "e" if near_e else ""
        return vertical + horizontal

    # --- mouse -------------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        size = self.document.size
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space_down):
            self._space_used = self._space_down
            self._drag = _Drag(Gesture.PAN, self.scene_pos(pos), last_view_pos=pos)
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() == Qt.MouseButton.RightButton and size is not None and not self._create_mode:
            hit = self.hit_test(pos)
            if hit is not None:
                self.document.select(hit[0])
                self.boxMenuRequested.emit(hit[0], event.globalPosition().toPoint())
                return
        if event.button() != Qt.MouseButton.LeftButton or size is None:
            super().mousePressEvent(event)
            return
        scene = self.scene_pos(pos)
        if self._create_mode:
            self._drag = _Drag(Gesture.DRAW, scene)
            self._cursor_scene = scene
            return
        hit = self.hit_test(pos)
        if hit is None:
            self.document.select(None)
            proposal = self.proposals.index_at(pos)
            if proposal is not None:
                self.proposalClicked.emit(proposal)
            return
        index, handle = hit
        self.document.select(index)
        box = self.document.boxes[index]
        gesture = Gesture.MOVE if handle == "move" else Gesture.RESIZE
        self._drag = _Drag(gesture, scene, index, handle, box, box)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        scene = self.scene_pos(pos)
        self._cursor_scene = scene
        drag, size = self._drag, self.document.size
        if drag is None:
            self._update_hover_cursor(pos)
            if self._create_mode:
                self.viewport().update()
            super().mouseMoveEvent(event)
            return
        if drag.gesture is Gesture.PAN and drag.last_view_pos is not None:
            delta = pos - drag.last_view_pos
            drag.last_view_pos = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
        elif drag.gesture is Gesture.MOVE and drag.original is not None and size is not None:
            dx, dy = _snap(scene.x() - drag.start.x()), _snap(scene.y() - drag.start.y())
            drag.preview = moved_box(drag.original, dx, dy, *size)
            self._show_preview(drag)
        elif drag.gesture is Gesture.RESIZE and drag.original is not None and size is not None:
            drag.preview = resized_box(drag.original, drag.handle, _snap(scene.x()), _snap(scene.y()), *size)
            self._show_preview(drag)
        self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        if drag is None:
            super().mouseReleaseEvent(event)
            return
        size = self.document.size
        if drag.gesture is Gesture.PAN:
            self._update_hover_cursor(event.position())
        elif drag.gesture is Gesture.DRAW and size is not None:
            end = self.scene_pos(event.position())
            min_size = MIN_DRAW_SCREEN_PX / max(self.scale_factor(), 1e-6)
            box = drawn_box(-1, _snap(drag.start.x()), _snap(drag.start.y()), _snap(end.x()), _snap(end.y()),
                            *size, min_size=min_size)
            if not self.keep_create_mode and box is not None:
                self.set_create_mode(False)
            if box is not None:
                self.boxDrawn.emit(box)
        elif drag.index is not None and drag.preview is not None and drag.preview != drag.original:
            boxes = list(self.document.boxes)
            boxes[drag.index] = drag.preview
            verb = "Move" if drag.gesture is Gesture.MOVE else "Resize"
            self.document.apply(boxes, f"{verb} box", select=drag.index)
        self.viewport().update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self.hit_test(event.position()) if not self._create_mode else None
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.document.select(hit[0])
            self.boxActivated.emit(hit[0])
            return
        proposal = self.proposals.index_at(event.position()) if not self._create_mode else None
        if proposal is not None and event.button() == Qt.MouseButton.LeftButton:
            self.proposalActivated.emit(proposal)
            return
        super().mouseDoubleClickEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._cursor_scene = None
        self.viewport().update()
        super().leaveEvent(event)

    def _update_hover_cursor(self, pos: QPointF) -> None:
        if self._create_mode:
            shape = Qt.CursorShape.CrossCursor
        elif self._space_down:
            shape = Qt.CursorShape.OpenHandCursor
        else:
            hit = self.hit_test(pos)
            shape = _CURSORS.get(hit[1], Qt.CursorShape.ArrowCursor) if hit else Qt.CursorShape.ArrowCursor
        if self.viewport().cursor().shape() != shape:
            self.viewport().setCursor(QCursor(shape))

    def _show_preview(self, drag: _Drag) -> None:
        """Move the dragged box's item without touching the document (one undo step at release)."""
        for item in self.box_items():
            if item.index == drag.index and drag.preview is not None:
                b = drag.preview
                item.setRect(QRectF(b.x1, b.y1, b.width, b.height))
                item.tag.setPos(QPointF(b.x1, b.y1))

    # --- keyboard ----------------------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # Space and the arrows belong to the canvas when it has focus (not to window shortcuts)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            plain = not (event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
                         & ~Qt.KeyboardModifier.KeypadModifier)
            if plain and (event.key() == Qt.Key.Key_Space or event.key() in _NUDGE_KEYS
                          or event.key() == Qt.Key.Key_Escape):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_down, self._space_used = True, False
            return
        if key in _NUDGE_KEYS:
            if not self._nudge(*_NUDGE_KEYS[key], event.modifiers()):
                super().keyPressEvent(event)
            return
        if key == Qt.Key.Key_Escape:
            self.cancel_gesture()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            tapped = self._space_down and not self._space_used
            self._space_down = False
            if tapped:
                self.spaceTapped.emit()
            return
        super().keyReleaseEvent(event)

    def cancel_gesture(self) -> None:
        """Esc: abandon a drag (the box snaps back), else leave create mode, else deselect."""
        if self._drag is not None:
            self._drag = None
            self._sync_boxes()
        elif self._create_mode:
            self.set_create_mode(False)
        else:
            self.document.select(None)
        self.viewport().update()

    def _nudge(self, sx: int, sy: int, modifiers: Qt.KeyboardModifier) -> bool:
        index, box, size = self.document.selected, self.document.selected_box(), self.document.size
        if index is None or box is None or size is None:
            return False
        step = NUDGE_LARGE if modifiers & Qt.KeyboardModifier.ShiftModifier else NUDGE_SMALL
        boxes = list(self.document.boxes)
        boxes[index] = moved_box(box, sx * step, sy * step, *size)
        self.document.apply(boxes, "Nudge box", select=index, merge_key=("nudge", self.document.key, index))
        return True

    # --- painting ----------------------------------------------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if self.document.size is None:
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._paint_handles(painter)
        if self._pending is not None:
            painter.setPen(QPen(QColor(255, 255, 255), 2, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(255, 255, 255, 40))
            painter.drawRect(self.view_rect(self._pending))
        if self._create_mode or (self._drag is not None and self._drag.gesture is Gesture.DRAW):
            self._paint_guides(painter)
        painter.restore()

    def _paint_handles(self, painter: QPainter) -> None:
        box = self.document.selected_box()
        if box is None or not self.boxes_visible():
            return
        if self._drag is not None and self._drag.preview is not None:
            box = self._drag.preview
        r = self.view_rect(box)
        s = HANDLE_DRAW_PX
        painter.setPen(QPen(QColor(20, 20, 20), 1))
        painter.setBrush(QColor(255, 255, 255))
        xs = (r.left(), r.center().x(), r.right())
        ys = (r.top(), r.center().y(), r.bottom())
        for i, x in enumerate(xs):
            for j, y in enumerate(ys):
                if i == 1 and j == 1:
                    continue
                painter.drawRect(QRectF(x - s / 2, y - s / 2, s, s))

    def _paint_guides(self, painter: QPainter) -> None:
        """Crosshair through the cursor; while drawing, the rubber band and its size in image pixels."""
        drag, cursor = self._drag, self._cursor_scene
        color = class_color(self.draw_class, len(self.classes)) if self.draw_class is not None \
            else QColor(0, 200, 255)
        if cursor is not None:
            c = self.viewportTransform().map(cursor)
            guide = QPen(QColor(255, 255, 255, 170), 1, Qt.PenStyle.DashLine)
            painter.setPen(guide)
            vr = self.viewport().rect()
            painter.drawLine(QPointF(vr.left(), c.y()), QPointF(vr.right(), c.y()))
            painter.drawLine(QPointF(c.x(), vr.top()), QPointF(c.x(), vr.bottom()))
        if drag is None or drag.gesture is not Gesture.DRAW or cursor is None:
            return
        size = self.document.size
        assert size is not None
        box = drawn_box(-1, _snap(drag.start.x()), _snap(drag.start.y()), _snap(cursor.x()), _snap(cursor.y()),
                        *size, min_size=0.0) or Box(-1, drag.start.x(), drag.start.y(), drag.start.x(),
                                                    drag.start.y())
        r = self.view_rect(box)
        fill = QColor(color)
        fill.setAlpha(40)
        painter.setBrush(fill)
        painter.setPen(QPen(color, 2))
        painter.drawRect(r)
        text = f"{box.width:.0f} × {box.height:.0f}"
        painter.setFont(self._size_font)
        metrics = painter.fontMetrics()
        tw, th = metrics.horizontalAdvance(text) + 10, metrics.height() + 4
        c = self.viewportTransform().map(cursor)
        label = QRectF(c.x() + 14, c.y() + 14, tw, th)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 20, 20, 200))
        painter.drawRoundedRect(label, 3, 3)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(label, int(Qt.AlignmentFlag.AlignCenter), text)
