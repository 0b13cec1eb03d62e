"""An image with coloured marks drawn over it, fitted to the widget, for review on the Model page: an evaluated
image (TP green: the label solid, the prediction dashed over it; FN orange: a label nothing found; FP red dashed:
a prediction no label supports) or the disputes of a mined image (the label solid, the model's box dashed)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from labeltrain.training.eval_types import ImageEval

TP, FN, FP = QColor(26, 127, 55), QColor(230, 126, 0), QColor(207, 34, 46)
LEGEND = (f"<span style='color:{TP.name()}'>■</span> true positive &nbsp; "
          f"<span style='color:{FN.name()}'>■</span> missed label (FN) &nbsp; "
          f"<span style='color:{FP.name()}'>■</span> false prediction (FP)")


@dataclass(frozen=True)
class Mark:
    """A box to draw: image pixel corners, colour, dashed or solid, an optional tag (below the box if `below`)."""

    x1: float
    y1: float
    x2: float
    y2: float
    color: QColor
    dashed: bool = False
    text: str = ""
    below: bool = False


def eval_marks(ev: ImageEval, names: dict[int, str]) -> list[Mark]:
    """TP / FN / FP marks of an evaluated image."""
    missed = set(ev.fn)
    marks = [Mark(x1, y1, x2, y2, FN if i in missed else TP, False, names.get(int(c), str(c)) if i in missed else "")
             for i, (c, x1, y1, x2, y2) in enumerate(ev.ground_truth)]
    matched = {d for d, _g, _iou in ev.tp}
    marks += [Mark(x1, y1, x2, y2, TP if i in matched else FP, True, f"{names.get(int(c), str(c))} {conf:.2f}",
                   below=i in matched)
              for i, (c, x1, y1, x2, y2, conf) in enumerate(ev.predictions)]
    return marks


def read_image(path: str, width: int, height: int) -> QImage:
    """The image as the trainer saw it (EXIF applied); a grey frame of its size when it cannot be read."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        image = QImage(max(width, 1), max(height, 1), QImage.Format.Format_RGB32)
        image.fill(QColor(60, 60, 60))
    return image


def render(image: QImage, size: tuple[int, int], marks: list[Mark], fit: QSize) -> QPixmap:
    """`image` (of oriented `size` in pixels) scaled to fit `fit`, with the marks drawn at that size, so the tags
    stay readable whatever the image's resolution."""
    pixmap = QPixmap.fromImage(image.scaled(fit, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
    sx, sy = pixmap.width() / max(size[0], 1), pixmap.height() / max(size[1], 1)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(painter.font())
    font.setPointSizeF(8.5)
    font.setWeight(QFont.Weight.DemiBold)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    for m in marks:
        r = QRectF(m.x1 * sx, m.y1 * sy, (m.x2 - m.x1) * sx, (m.y2 - m.y1) * sy)
        pen = QPen(m.color, 2.0)
        if m.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(r)
        if m.text:
            w, h = metrics.horizontalAdvance(m.text) + 6, metrics.height() + 2
            y = r.bottom() if m.below else r.top() - h
            tag = QRectF(max(0.0, min(r.left(), pixmap.width() - w)), max(0.0, min(y, pixmap.height() - h)), w, h)
            painter.fillRect(tag, m.color)
            painter.setPen(QColor("white"))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, m.text)
    painter.end()
    return pixmap


class AnnotatedImageView(QLabel):
    """Shows one image with marks, re-rendered to fit when resized."""

    def __init__(self, parent: QWidget | None = None, hint: str = "Select an image in the list") -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #2b2d30; color: #c9ccd1;")
        self.hint = hint
        self._image: QImage | None = None
        self._size = (0, 0)
        self._marks: list[Mark] = []
        self.setText(hint)

    def show_image(self, path: str | None, size: tuple[int, int] = (0, 0), marks: list[Mark] | None = None) -> None:
        self._image = read_image(path, *size) if path else None
        if self._image is not None and not all(size):
            size = (self._image.width(), self._image.height())
        self._size, self._marks = size, list(marks or [])
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._image is None:
            self.setText(self.hint)  # (also drops a pixmap)
            return
        self.setPixmap(render(self._image, self._size, self._marks, self.size() - QSize(12, 12)))
