"""Drawing shared by the QA views: boxes over an image in class colours with name tags, finding badges, the
colours of severities. Geometry helpers map normalised YOLO boxes to widget rectangles and back."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen

from labeltrain.core.model import ClassNames
from labeltrain.core.problems import Severity
from labeltrain.ui.colors import UNKNOWN_CLASS_COLOR, class_color, text_color_on
from labeltrain.ui.qa.records import DROPPED, IGNORED, REJECTED, TileBox

SEVERITY_COLORS = {Severity.ERROR: QColor(211, 47, 47), Severity.WARNING: QColor(245, 166, 35),
                   Severity.INFO: QColor(25, 118, 210)}
IMAGE_BACKGROUND = QColor(32, 33, 36)
VERIFIED_COLOR = QColor(46, 160, 67)


@cache
def font(px: int, bold: bool = False) -> tuple[QFont, QFontMetrics]:
    """The application font at `px` pixels, with its metrics (made once: building metrics is slow)."""
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f, QFontMetrics(f)


def fitted_rect(area: QRectF, width: int, height: int) -> QRectF:
    """The rectangle an image of width x height takes when fitted (centred) into `area`."""
    if width <= 0 or height <= 0:
        return QRectF(area)
    scale = min(area.width() / width, area.height() / height)
    w, h = width * scale, height * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


def box_rect(image: QRectF, box: TileBox) -> QRectF:
    return QRectF(image.x() + (box.xc - box.w / 2) * image.width(), image.y() + (box.yc - box.h / 2) * image.height(),
                  box.w * image.width(), box.h * image.height())


def box_at(image: QRectF, boxes: Sequence[TileBox], pos: QPointF, slack: float = 3.0) -> TileBox | None:
    """The smallest box containing `pos` (with a few pixels of slack for thin boxes)."""
    hits = [b for b in boxes if box_rect(image, b).adjusted(-slack, -slack, slack, slack).contains(pos)]
    return min(hits, key=lambda b: b.w * b.h) if hits else None


def box_color(box: TileBox, nc: int | None) -> QColor:
    return QColor(UNKNOWN_CLASS_COLOR) if box.state == REJECTED else class_color(box.cls, nc)


_STYLES = {REJECTED: Qt.PenStyle.DashLine, IGNORED: Qt.PenStyle.DashLine, DROPPED: Qt.PenStyle.DotLine}


@cache
def _box_style(cls: int, nc: int | None, state: str, width: float) -> tuple[QColor, QPen, QPen, QColor]:
    """Colour, halo pen, pen and tag text colour of a box (cached: Qt objects are slow to make from Python)."""
    color = QColor(UNKNOWN_CLASS_COLOR) if state == REJECTED else class_color(cls, nc)
    halo = QPen(QColor(0, 0, 0, 110), width + 2)  # a dark halo keeps thin boxes visible on any image
    pen = QPen(color, width, _STYLES.get(state, Qt.PenStyle.SolidLine))
    return color, halo, pen, text_color_on(color)


def draw_boxes(p: QPainter, image: QRectF, boxes: Sequence[TileBox], names: ClassNames | None, *,
               tags: bool = True, width: float = 2.0, font_px: int = 10) -> None:
    """Boxes in class colours: kept solid; the row the trainer refuses dashed magenta, the other rows of an image
    it ignores dashed; dropped duplicates dotted. Class-name tags when `tags`."""
    if not boxes:
        return
    nc = len(names) if names is not None and len(names) else None
    p.save()
    p.setClipRect(image.adjusted(-1, -1, 1, 1))
    tag_font, fm = font(font_px)
    p.setFont(tag_font)
    p.setBrush(Qt.BrushStyle.NoBrush)
    x0, y0, iw, ih = image.x(), image.y(), image.width(), image.height()
    left, top, right = image.left(), image.top(), image.right()
    th = fm.height() + 1
    for box in boxes:
        color, halo, pen, ink = _box_style(box.cls, nc, box.state, width)
        bx, by = x0 + (box.xc - box.w / 2) * iw, y0 + (box.yc - box.h / 2) * ih
        r = QRectF(bx, by, box.w * iw, box.h * ih)
        p.setPen(halo)
        p.drawRect(r)
        p.setPen(pen)
        p.drawRect(r)
        if tags and names is not None:
            text = names.name(box.cls) if box.cls >= 0 else "?"
            tw = fm.horizontalAdvance(text) + 6
            ty = by - th if by - th >= top else by
            tag = QRectF(max(left, min(bx - width / 2, right - tw)), ty, tw, th)
            p.fillRect(tag, color)
            p.setPen(ink)
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
    p.restore()


def draw_badge(p: QPainter, anchor: QPointF, text: str, severity: Severity | None, font_px: int = 11) -> QRectF:
    """A pill with `text` whose top-right corner is `anchor`, coloured by severity."""
    color = SEVERITY_COLORS.get(severity, QColor(120, 120, 120)) if severity else QColor(120, 120, 120)
    badge_font, fm = font(font_px, True)
    h = fm.height() + 4
    w = max(h, fm.horizontalAdvance(text) + 10)
    rect = QRectF(anchor.x() - w, anchor.y(), w, h)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(255, 255, 255, 200), 1))
    p.setBrush(QBrush(color))
    p.drawRoundedRect(rect, h / 2, h / 2)
    p.setFont(badge_font)
    p.setPen(text_color_on(color))
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    p.restore()
    return rect


def draw_check(p: QPainter, anchor: QPointF, size: float = 16) -> None:
    """A green round 'verified' mark with its top-left corner at `anchor`."""
    rect = QRectF(anchor.x(), anchor.y(), size, size)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(255, 255, 255, 220), 1))
    p.setBrush(VERIFIED_COLOR)
    p.drawEllipse(rect)
    pen = QPen(QColor(255, 255, 255), max(1.5, size / 8))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    x, y, s = rect.x(), rect.y(), size
    p.drawPolyline([QPointF(x + s * 0.27, y + s * 0.52), QPointF(x + s * 0.44, y + s * 0.68),
                    QPointF(x + s * 0.74, y + s * 0.34)])
    p.restore()
