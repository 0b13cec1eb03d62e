"""One evaluated image drawn for review: ground truth and predictions coloured as the matching decided —
TP green (the label solid, the prediction dashed over it), FN orange (a label nothing found), FP red dashed (a
prediction no label supports), each prediction with its confidence."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from labeltrain.training.eval_types import ImageEval

TP, FN, FP = QColor(26, 127, 55), QColor(230, 126, 0), QColor(207, 34, 46)
LEGEND = (f"<span style='color:{TP.name()}'>■</span> true positive &nbsp; "
          f"<span style='color:{FN.name()}'>■</span> missed label (FN) &nbsp; "
          f"<span style='color:{FP.name()}'>■</span> false prediction (FP)")


def read_image(ev: ImageEval) -> QImage:
    """The image as the trainer saw it (EXIF applied); a grey frame of its size when it cannot be read."""
    reader = QImageReader(ev.image)
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        image = QImage(max(ev.width, 1), max(ev.height, 1), QImage.Format.Format_RGB32)
        image.fill(QColor(60, 60, 60))
    return image


def render(ev: ImageEval, names: dict[int, str], fit: QSize, image: QImage | None = None) -> QPixmap:
    """The image scaled to fit `fit` (device-independent pixels), with the boxes drawn at that size, so the
    tags stay readable whatever the image's resolution."""
    image = image if image is not None else read_image(ev)
    pixmap = QPixmap.fromImage(image.scaled(fit, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
    sx = pixmap.width() / max(ev.width, 1)
    sy = pixmap.height() / max(ev.height, 1)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont(painter.font())
    font.setPointSizeF(8.5)
    font.setWeight(QFont.Weight.DemiBold)
    painter.setFont(font)

    def rect(x1: float, y1: float, x2: float, y2: float) -> QRectF:
        return QRectF(x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy)

    def draw(r: QRectF, color: QColor, dashed: bool, text: str, below: bool = False) -> None:
        pen = QPen(color, 2.0)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(r)
        if text:
            metrics = painter.fontMetrics()
            w, h = metrics.horizontalAdvance(text) + 6, metrics.height() + 2
            y = r.bottom() if below else r.top() - h
            tag = QRectF(r.left(), max(0.0, min(y, pixmap.height() - h)), w, h)
            painter.fillRect(tag, color)
            painter.setPen(QColor("white"))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    missed = set(ev.fn)
    for i, (c, x1, y1, x2, y2) in enumerate(ev.ground_truth):
        fn = i in missed
        draw(rect(x1, y1, x2, y2), FN if fn else TP, False, names.get(int(c), str(c)) if fn else "")
    matched = {d for d, _g, _iou in ev.tp}
    for i, (c, x1, y1, x2, y2, conf) in enumerate(ev.predictions):
        tp = i in matched
        draw(rect(x1, y1, x2, y2), TP if tp else FP, True, f"{names.get(int(c), str(c))} {conf:.2f}", below=tp)
    painter.end()
    return pixmap


class EvalImageView(QLabel):
    """Shows one rendered ImageEval, refitted when resized."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #2b2d30; color: #c9ccd1;")
        self._eval: ImageEval | None = None
        self._names: dict[int, str] = {}
        self._image: QImage | None = None
        self.setText("Select an image in the list")

    def show_eval(self, ev: ImageEval | None, names: dict[int, str]) -> None:
        self._eval, self._names = ev, names
        self._image = read_image(ev) if ev is not None else None
        if ev is None:
            self.setText("Select an image in the list")
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._eval is None:
            self.setPixmap(QPixmap())
            return
        self.setPixmap(render(self._eval, self._names, self.size() - QSize(12, 12), self._image))
