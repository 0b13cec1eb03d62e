"""Class colours: one distinct, stable colour per class id (golden-ratio hue steps), and the warning colour
used for boxes whose class id is not in the class list."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QColor

GOLDEN_RATIO_CONJUGATE = 0.618033988749895
UNKNOWN_CLASS_COLOR = QColor(255, 0, 170)  # loud magenta: no real class gets this exact colour
_HUE_START = 0.02  # class 0 starts at a warm red-orange


@cache
def _rgb(cls_id: int) -> tuple[int, int, int]:
    """Hue walks the colour wheel by the golden ratio, so neighbouring ids never look alike; saturation and
    value alternate slightly so that ids whose hues come close again still differ."""
    hue = (_HUE_START + cls_id * GOLDEN_RATIO_CONJUGATE) % 1.0
    saturation = (0.85, 0.70, 0.95)[cls_id % 3]
    value = (0.95, 0.80, 0.88)[(cls_id // 3) % 3]
    color = QColor.fromHsvF(hue, saturation, value)
    return color.red(), color.green(), color.blue()


def class_color(cls_id: int, n_classes: int | None = None) -> QColor:
    """Colour of a class id; ids outside [0, n_classes) (when known) get UNKNOWN_CLASS_COLOR."""
    if cls_id < 0 or (n_classes is not None and cls_id >= n_classes):
        return QColor(UNKNOWN_CLASS_COLOR)
    return QColor(*_rgb(cls_id))


def text_color_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on `background` (relative luminance)."""
    luminance = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF()
    return QColor(20, 20, 20) if luminance > 0.55 else QColor(255, 255, 255)
