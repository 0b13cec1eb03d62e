"""Paints one previewer tile: the thumbnail, the boxes parsed from the label file (class colours and names), a
badge with the number of findings in the colour of the worst, a verified mark, and a red frame plus "ignored by
the trainer" when the trainer would reject the image."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from labeltrain.core.dataset import Dataset
from labeltrain.core.problems import Severity
from labeltrain.ui.qa.paint import (
    IMAGE_BACKGROUND,
    SEVERITY_COLORS,
    box_at,
    draw_badge,
    draw_boxes,
    draw_check,
    fitted_rect,
    font,
)
from labeltrain.ui.qa.records import TileBox, TileRecord, worst
from labeltrain.ui.qa.thumbs import ThumbnailProvider
from labeltrain.ui.qa.tile_model import FindingsRole, RecordRole, VerifiedRole

CAPTION = 20
MARGIN = 4
_Index = QModelIndex | QPersistentModelIndex


class TileDelegate(QStyledItemDelegate):
    def __init__(self, thumbs: ThumbnailProvider, parent=None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.side = 160
        self.dataset_of: Callable[[], Dataset | None] = lambda: None  # set by the view: names are read at paint

    def tile_size(self) -> QSize:
        return QSize(self.side + 2 * MARGIN, self.side + CAPTION + 2 * MARGIN)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return self.tile_size()

    def image_area(self, tile: QRectF | object) -> QRectF:
        r = QRectF(tile)  # type: ignore[arg-type]
        return QRectF(r.x() + MARGIN, r.y() + MARGIN, r.width() - 2 * MARGIN, r.width() - 2 * MARGIN)

    def image_rect(self, tile, record: TileRecord | None) -> QRectF:
        area = self.image_area(tile)
        if record is None or record.width <= 0:
            return area
        return fitted_rect(area, record.width, record.height)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        record: TileRecord | None = index.data(RecordRole)
        name = index.data(Qt.ItemDataRole.DisplayRole) or ""
        tile = QRectF(option.rect)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.save()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if selected:
            p.fillRect(tile.adjusted(1, 1, -1, -1), option.palette.highlight())
        area = self.image_area(tile)
        p.fillRect(area, IMAGE_BACKGROUND)
        image = self._image(index, record)
        target = self.image_rect(tile, record)
        if image is not None:
            p.drawImage(target if record is not None and record.width > 0
                        else fitted_rect(area, image.width(), image.height()), image)
        else:
            err = self.thumbs.error(record.image) if record is not None else None
            p.setPen(QColor(200, 200, 200))
            p.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "cannot read image" if err else "…")
        if record is not None:
            self._overlay(p, area, target, record, index)
        self._caption(p, option, tile, name, record, selected)
        p.restore()

    def _image(self, index: _Index, record: TileRecord | None):
        if record is None:
            return None
        return self.thumbs.get(record.image)

    def _overlay(self, p: QPainter, area: QRectF, target: QRectF, record: TileRecord, index: _Index) -> None:
        dataset = self.dataset_of()  # readers of some formats add class names as they go: read them now
        names = dataset.classes if dataset is not None else None
        draw_boxes(p, target, record.boxes, names, tags=self.side >= 120 and len(record.boxes) <= 12,
                   width=2.0 if self.side >= 120 else 1.5, font_px=10 if self.side < 200 else 11)
        findings = index.data(FindingsRole) or []
        if findings:
            draw_badge(p, QPointF(area.right() - 3, area.top() + 3), str(len(findings)),
                       worst(f.severity for f in findings))
        if index.data(VerifiedRole):
            draw_check(p, QPointF(area.left() + 3, area.top() + 3))
        if record.rejected:
            red = SEVERITY_COLORS[Severity.ERROR]
            p.setPen(QPen(red, 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(area.adjusted(1.5, 1.5, -1.5, -1.5))
            strip = QRectF(area.left(), area.bottom() - 18, area.width(), 18)
            p.fillRect(strip, QColor(red.red(), red.green(), red.blue(), 225))
            p.setFont(font(11, True)[0])
            p.setPen(QColor(255, 255, 255))
            p.drawText(strip, Qt.AlignmentFlag.AlignCenter, "ignored by the trainer")
        elif record.label_state == "missing" and record.yolo:
            self._corner_note(p, area, "no label file")

    def _corner_note(self, p: QPainter, area: QRectF, text: str) -> None:
        small, fm = font(10)
        p.setFont(small)
        r = QRectF(area.left() + 3, area.bottom() - fm.height() - 5, fm.horizontalAdvance(text) + 8, fm.height() + 2)
        p.fillRect(r, QColor(0, 0, 0, 170))
        p.setPen(QColor(230, 230, 230))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

    def _caption(self, p: QPainter, option: QStyleOptionViewItem, tile: QRectF, name: str,
                 record: TileRecord | None, selected: bool) -> None:
        rect = QRectF(tile.x() + MARGIN, tile.bottom() - CAPTION - MARGIN + 2, tile.width() - 2 * MARGIN, CAPTION)
        caption, fm = font(11)
        p.setFont(caption)
        split = record.split if record is not None and record.split else ""
        split_w = fm.horizontalAdvance(split) + 8 if split else 0
        color = option.palette.highlightedText().color() if selected else option.palette.text().color()
        p.setPen(color)
        p.drawText(rect.adjusted(0, 0, -split_w, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(name, Qt.TextElideMode.ElideMiddle, int(rect.width() - split_w)))
        if split:
            tag = QRectF(rect.right() - split_w + 2, rect.center().y() - fm.height() / 2, split_w - 2, fm.height())
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(128, 128, 128, 60))
            p.drawRoundedRect(tag, 4, 4)
            p.setPen(color)
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, split)

    def box_at(self, tile, record: TileRecord | None, pos: QPointF) -> TileBox | None:
        if record is None:
            return None
        return box_at(self.image_rect(tile, record), record.boxes, pos)
