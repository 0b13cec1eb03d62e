"""Model proposals drawn over the image, apart from the boxes: a dashed outline in the class colour, no fill, and
a tag with the class name and the confidence ("circle 0.87"). They are not labels: the document never sees
them until the user accepts one (an ordinary, undoable edit)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsScene, QGraphicsView

from labeltrain.core.model import ClassNames
from labeltrain.core.proposals import Proposal
from labeltrain.ui.colors import class_color
from labeltrain.ui.image_view import BOX_PEN_WIDTH, BoxTag


class ProposalItem(QGraphicsRectItem):
    def __init__(self, index: int, proposal: Proposal, classes: ClassNames, font: QFont,
                 parent: QGraphicsItem) -> None:
        super().__init__(QRectF(proposal.x1, proposal.y1, proposal.x2 - proposal.x1, proposal.y2 - proposal.y1),
                         parent)
        self.index = index
        self.proposal = proposal
        self.color = QColor(class_color(proposal.cls, len(classes)))
        self._highlighted = False
        self._apply_pen()
        self.setBrush(Qt.BrushStyle.NoBrush)
        tag_color = QColor(self.color)
        tag_color.setAlpha(200)
        self.tag = BoxTag(f"{classes.name(proposal.cls)} {proposal.score:.2f}", tag_color, font, self)
        self.tag.setPos(QPointF(proposal.x1, proposal.y1))

    def _apply_pen(self) -> None:
        pen = QPen(self.color, BOX_PEN_WIDTH * (2 if self._highlighted else 1))
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine)
        pen.setDashPattern([4, 3])
        self.setPen(pen)

    def set_highlighted(self, on: bool) -> None:
        self._highlighted = on
        self._apply_pen()
        self.setZValue(1 if on else 0)


class ProposalOverlay:
    """The proposals layer of one view (above the boxes)."""

    def __init__(self, view: QGraphicsView, scene: QGraphicsScene, font: QFont) -> None:
        self.view = view
        self.font = font
        self.layer = QGraphicsRectItem()
        self.layer.setPen(Qt.PenStyle.NoPen)
        self.layer.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self.layer.setZValue(2)
        scene.addItem(self.layer)
        self.items: list[ProposalItem] = []

    def show(self, proposals: Sequence[Proposal], classes: ClassNames, highlighted: int | None = None) -> None:
        scene = self.layer.scene()
        for item in self.items:
            scene.removeItem(item)
        self.items = [ProposalItem(i, p, classes, self.font, self.layer) for i, p in enumerate(proposals)]
        self.highlight(highlighted)

    def clear(self) -> None:
        self.show((), ClassNames())

    def highlight(self, index: int | None) -> None:
        for item in self.items:
            item.set_highlighted(item.index == index)
        self.view.viewport().update()

    def proposals(self) -> list[Proposal]:
        return [item.proposal for item in self.items]

    def index_at(self, view_pos: QPointF) -> int | None:
        """The smallest visible proposal containing a viewport position."""
        if not self.layer.isVisible():
            return None
        transform = self.view.viewportTransform()
        inside = [it for it in self.items if transform.mapRect(it.rect()).contains(view_pos)]
        if not inside:
            return None
        return min(inside, key=lambda it: it.rect().width() * it.rect().height()).index

    def set_visible(self, on: bool) -> None:
        self.layer.setVisible(on)
