"""The image canvas: a QGraphicsView showing one image and its boxes, in full-resolution pixel coordinates.

Scene coordinates are the image's pixels as the trainer sees them (EXIF applied), whatever resolution was
actually decoded: a reduced decode is scaled up by its pixmap item's transform. Boxes are drawn with a
cosmetic (zoom-independent) class-coloured outline and a name tag that ignores the view transform, so both
stay readable at any zoom. The view only displays; it never changes annotations.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from labeltrain.core.model import Box, ClassNames
from labeltrain.ui.colors import class_color, text_color_on
from labeltrain.ui.image_loader import LoadedImage

CANVAS_BACKGROUND = QColor(43, 45, 48)
ZOOM_STEP = 1.25
MAX_SCALE = 40.0           # screen pixels per image pixel
SHARP_PIXELS_FROM = 3.0    # from this zoom on, show image pixels as crisp squares instead of smoothing them
BOX_PEN_WIDTH = 2.0
TAG_PADDING = (5.0, 2.0)


class BoxTag(QGraphicsItem):
    """The class-name label of a box: a filled rounded rectangle in the class colour, drawn in device pixels
    (ItemIgnoresTransformations) above the box's top-left corner, or inside it when there is no room."""

    def __init__(self, text: str, color: QColor, font: QFont, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._text = text
        self._color = color
        self._font = font
        metrics = QFontMetricsF(font)
        self._size = (metrics.horizontalAdvance(text) + 2 * TAG_PADDING[0], metrics.height() + 2 * TAG_PADDING[1])
        self._ascent = metrics.ascent()
        self._inside = False

    @property
    def text(self) -> str:
        return self._text

    @property
    def height(self) -> float:
        return self._size[1]

    def set_inside(self, inside: bool) -> None:
        if inside != self._inside:
            self.prepareGeometryChange()
            self._inside = inside

    def boundingRect(self) -> QRectF:
        w, h = self._size
        offset = BOX_PEN_WIDTH / 2
        return QRectF(-offset, 0 if self._inside else -h, w, h)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect = self.boundingRect()
        path = QPainterPath()
        path.addRoundedRect(rect, 3, 3)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillPath(path, self._color)
        painter.setPen(text_color_on(self._color))
        painter.setFont(self._font)
        painter.drawText(QPointF(rect.left() + TAG_PADDING[0], rect.top() + TAG_PADDING[1] + self._ascent),
                         self._text)


class BoxItem(QGraphicsRectItem):
    """One box: class-coloured cosmetic outline, faint fill, and a BoxTag child."""

    def __init__(self, index: int, box: Box, classes: ClassNames, font: QFont,
                 parent: QGraphicsItem | None = None) -> None:
        b = box.normalized()
        super().__init__(QRectF(b.x1, b.y1, b.width, b.height), parent)
        self.index = index
        self.box = box
        self.known_class = 0 <= box.cls < len(classes)
        self.color = class_color(box.cls, len(classes))
        self.class_name = classes.name(box.cls)
        pen = QPen(self.color, BOX_PEN_WIDTH)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if not self.known_class:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        fill = QColor(self.color)
        fill.setAlpha(28)
        self.setBrush(QBrush(fill))
        self.tag = BoxTag(self.class_name, self.color, font, self)
        self.tag.setPos(QPointF(b.x1, b.y1))

    def set_highlighted(self, on: bool) -> None:
        pen = self.pen()
        pen.setWidthF(BOX_PEN_WIDTH * 2 if on else BOX_PEN_WIDTH)
        self.setPen(pen)
        fill = QColor(self.color)
        fill.setAlpha(70 if on else 28)
        self.setBrush(QBrush(fill))
        self.setZValue(1 if on else 0)


class ImageView(QGraphicsView):
    """Shows one image with its boxes. Mouse wheel scrolls; Ctrl+wheel zooms around the cursor."""

    zoomChanged = Signal(float)  # screen pixels per full-resolution image pixel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setBackgroundBrush(CANVAS_BACKGROUND)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
                            | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMouseTracking(True)

        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self._pixmap_item.setZValue(0)
        self._scene.addItem(self._pixmap_item)
        self._boxes_layer = QGraphicsRectItem()  # an empty parent: hiding it hides every box at once
        self._boxes_layer.setPen(Qt.PenStyle.NoPen)
        self._boxes_layer.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self._boxes_layer.setZValue(1)
        self._scene.addItem(self._boxes_layer)
        self._box_items: list[BoxItem] = []

        self._image_size: tuple[int, int] | None = None
        self._loaded: LoadedImage | None = None
        self._placeholder: str | None = None
        self._fit_mode = True
        self._tag_font = QFont(self.font())
        self._tag_font.setPointSizeF(max(8.0, self.font().pointSizeF() * 0.92))
        self._tag_font.setWeight(QFont.Weight.DemiBold)

    # --- content -----------------------------------------------------------------------------------------
    def begin_image(self, size: tuple[int, int] | None) -> None:
        """Start showing a new image of oriented `size` (None if unknown yet): clears pixmap, boxes and
        placeholder, and fits the view."""
        self._pixmap_item.setPixmap(QPixmap())
        self._loaded = None
        self._placeholder = None
        self.set_boxes((), ClassNames())
        self._set_image_size(size)
        self.zoom_fit()

    def set_pixels(self, loaded: LoadedImage) -> None:
        """Show decoded pixels, scaled so that scene units stay full-resolution pixels. Keeps the current zoom
        when only the resolution changes (same image decoded finer)."""
        same_image = self._loaded is not None and self._loaded.path == loaded.path
        self._loaded = loaded
        self._placeholder = None
        pixmap = QPixmap.fromImage(loaded.image)
        self._pixmap_item.setPixmap(pixmap)
        w, h = loaded.full_size
        self._pixmap_item.setTransform(QTransform.fromScale(w / max(1, pixmap.width()), h / max(1, pixmap.height())))
        if self._image_size != (w, h):
            self._set_image_size((w, h))
            if not same_image:
                self.zoom_fit()
        self._update_pixel_mode()
        self.viewport().update()

    def set_boxes(self, boxes: Sequence[Box], classes: ClassNames) -> None:
        """Replace the drawn boxes (an unknown class id draws in the warning colour, never raises)."""
        for item in self._box_items:
            self._scene.removeItem(item)
        self._box_items = [BoxItem(i, box, classes, self._tag_font, self._boxes_layer)
                           for i, box in enumerate(boxes) if box.is_finite()]
        self._place_tags()

    def show_placeholder(self, message: str) -> None:
        """Replace the image with a centred message (unreadable image, empty dataset...)."""
        self._pixmap_item.setPixmap(QPixmap())
        self._loaded = None
        self.set_boxes((), ClassNames())
        self._placeholder = message
        self._set_image_size(None)
        self.viewport().update()

    def clear(self) -> None:
        self.show_placeholder("")
        self._placeholder = None

    # --- queries (for the window and tests) ----------------------------------------------------------------
    def box_items(self) -> list[BoxItem]:
        return list(self._box_items)

    def placeholder_text(self) -> str | None:
        return self._placeholder

    def loaded_image(self) -> LoadedImage | None:
        return self._loaded

    def image_size(self) -> tuple[int, int] | None:
        return self._image_size

    def pixels_rect(self) -> QRectF:
        """Where the decoded pixels are drawn, in scene (full-resolution pixel) coordinates."""
        return self._pixmap_item.sceneBoundingRect()

    def boxes_visible(self) -> bool:
        return self._boxes_layer.isVisible()

    def scale_factor(self) -> float:
        """Screen (device-independent) pixels per full-resolution image pixel."""
        return self.transform().m11()

    def display_target(self) -> tuple[int, int]:
        """Size in device pixels the whole image occupies at the current zoom: what a decode needs."""
        ratio = self.devicePixelRatioF()
        if self._image_size is None:
            return int(self.viewport().width() * ratio), int(self.viewport().height() * ratio)
        s = self.scale_factor() * ratio
        return max(1, int(self._image_size[0] * s)), max(1, int(self._image_size[1] * s))

    # --- view state ----------------------------------------------------------------------------------------
    def set_boxes_visible(self, visible: bool) -> None:
        self._boxes_layer.setVisible(visible)

    def set_highlighted_box(self, index: int | None) -> None:
        for item in self._box_items:
            item.set_highlighted(item.index == index)

    def zoom_fit(self) -> None:
        """Whole image in the window (and keep fitting when the window is resized)."""
        self._fit_mode = True
        if self._image_size is None:
            self._set_scale(1.0)
            return
        w, h = self._image_size
        view = self.viewport().rect()
        margin = 8
        scale = min((view.width() - 2 * margin) / max(1, w), (view.height() - 2 * margin) / max(1, h))
        self._set_scale(max(scale, 1e-3))
        self.centerOn(QPointF(w / 2, h / 2))

    def zoom_actual(self) -> None:
        """100 %: one full-resolution image pixel per screen pixel."""
        self._zoom_to(1.0, None)

    def zoom_in(self) -> None:
        self._zoom_to(self.scale_factor() * ZOOM_STEP, None)

    def zoom_out(self) -> None:
        self._zoom_to(self.scale_factor() / ZOOM_STEP, None)

    # --- events --------------------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y() or event.angleDelta().x()
            if delta:
                self._zoom_to(self.scale_factor() * (ZOOM_STEP ** (delta / 120.0)), event.position())
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.zoom_fit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """The placeholder message, in viewport pixels: first line as a title, the rest as detail."""
        super().drawForeground(painter, rect)
        if not self._placeholder:
            return
        title, _, detail = self._placeholder.partition("\n")
        painter.save()
        painter.resetTransform()
        area = QRectF(self.viewport().rect()).adjusted(32, 32, -32, -32)
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)
        title_font = QFont(self.font())
        title_font.setPointSizeF(self.font().pointSizeF() * 1.3)
        title_font.setWeight(QFont.Weight.DemiBold)
        body_font = QFont(self.font())
        title_rect = QFontMetricsF(title_font).boundingRect(area, flags, title)
        body_rect = QFontMetricsF(body_font).boundingRect(area, flags, detail) if detail else QRectF()
        gap = 10.0 if detail else 0.0
        top = area.top() + (area.height() - title_rect.height() - gap - body_rect.height()) / 2
        painter.setFont(title_font)
        painter.setPen(QColor(230, 230, 230))
        painter.drawText(QRectF(area.left(), top, area.width(), title_rect.height()), flags, title)
        if detail:
            painter.setFont(body_font)
            painter.setPen(QColor(170, 174, 180))
            painter.drawText(QRectF(area.left(), top + title_rect.height() + gap, area.width(),
                                    body_rect.height()), flags, detail)
        painter.restore()

    # --- internals -----------------------------------------------------------------------------------------
    def _set_image_size(self, size: tuple[int, int] | None) -> None:
        self._image_size = size
        if size is None:
            self._scene.setSceneRect(QRectF(0, 0, 1, 1))
        else:
            self._scene.setSceneRect(QRectF(0, 0, size[0], size[1]))

    def _min_scale(self) -> float:
        if self._image_size is None:
            return 0.05
        view = self.viewport().rect()
        fit = min(view.width() / max(1, self._image_size[0]), view.height() / max(1, self._image_size[1]))
        return min(fit * 0.5, 1.0)

    def _zoom_to(self, scale: float, anchor: QPointF | None) -> None:
        """Zoom keeping the scene point under `anchor` (viewport coordinates; centre if None) in place."""
        scale = min(max(scale, self._min_scale()), MAX_SCALE)
        pos = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        before = self.mapToScene(pos.toPoint())
        self._fit_mode = False
        self._set_scale(scale)
        after = self.mapFromScene(before)
        moved = after - pos.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())

    def _set_scale(self, scale: float) -> None:
        if abs(scale - self.scale_factor()) < 1e-12:
            return
        self.setTransform(QTransform.fromScale(scale, scale))
        self._update_pixel_mode()
        self._place_tags()
        self.zoomChanged.emit(scale)

    def _update_pixel_mode(self) -> None:
        """Smooth when zoomed out (no aliasing), crisp squares when zoomed in (annotators want to see edges)."""
        reduce = self._loaded.reduce if self._loaded is not None else 1
        sharp = self.scale_factor() * reduce >= SHARP_PIXELS_FROM
        mode = Qt.TransformationMode.FastTransformation if sharp else Qt.TransformationMode.SmoothTransformation
        if self._pixmap_item.transformationMode() != mode:
            self._pixmap_item.setTransformationMode(mode)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not sharp)

    def _place_tags(self) -> None:
        """Tags go above their box unless that would leave the image; then inside the box's top-left."""
        scale = self.scale_factor() or 1.0
        for item in self._box_items:
            top = item.rect().top()
            item.tag.set_inside(top * scale < item.tag.height)
