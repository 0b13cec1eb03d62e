"""The annotation model shared by every part of labeltrain: boxes in full-resolution pixels.

Pixel coordinates refer to the image *as the trainer sees it*, i.e. after EXIF orientation is applied.
Everything is immutable; editing produces new objects (the UI keeps them in an undo stack).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Box:
    """One axis-aligned box: class id and pixel corners (x1, y1) top-left, (x2, y2) bottom-right.

    `attrs` holds per-box extras that some formats carry (VOC `difficult`, `truncated`, `pose`,
    a COCO annotation id, a model confidence for proposals...). It does not take part in hashing.
    """

    cls: int
    x1: float
    y1: float
    x2: float
    y2: float
    attrs: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_xywh_norm(cls, cls_id: int, xc: float, yc: float, w: float, h: float,
                       width: int, height: int, **attrs: Any) -> Box:
        """Build from YOLO's normalised centre/size (the trainer's coordinates)."""
        return cls(cls_id, (xc - w / 2) * width, (yc - h / 2) * height,
                   (xc + w / 2) * width, (yc + h / 2) * height, dict(attrs))

    @classmethod
    def from_xywh(cls, cls_id: int, x: float, y: float, w: float, h: float, **attrs: Any) -> Box:
        """Build from a top-left corner and a size in pixels (COCO)."""
        return cls(cls_id, x, y, x + w, y + h, dict(attrs))

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def xywh_norm(self, width: int, height: int) -> tuple[float, float, float, float]:
        """YOLO's normalised (x centre, y centre, width, height)."""
        return ((self.x1 + self.x2) / 2 / width, (self.y1 + self.y2) / 2 / height,
                (self.x2 - self.x1) / width, (self.y2 - self.y1) / height)

    def is_finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.x1, self.y1, self.x2, self.y2))

    def normalized(self) -> Box:
        """The same box with corners ordered so that x1 <= x2 and y1 <= y2."""
        x1, x2 = sorted((self.x1, self.x2))
        y1, y2 = sorted((self.y1, self.y2))
        return replace(self, x1=x1, y1=y1, x2=x2, y2=y2)

    def clamped(self, width: int, height: int) -> Box:
        """Clamp policy: corners are ordered, then limited to [0, width] x [0, height]."""
        b = self.normalized()
        return replace(b, x1=min(max(b.x1, 0.0), width), y1=min(max(b.y1, 0.0), height),
                       x2=min(max(b.x2, 0.0), width), y2=min(max(b.y2, 0.0), height))

    def with_class(self, cls_id: int) -> Box:
        return replace(self, cls=cls_id)

    def moved(self, dx: float, dy: float) -> Box:
        return replace(self, x1=self.x1 + dx, y1=self.y1 + dy, x2=self.x2 + dx, y2=self.y2 + dy)

    def iou(self, other: Box) -> float:
        ix = max(0.0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0.0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Annotation:
    """All boxes of one image. `width`/`height` are the oriented (EXIF-applied) size in pixels."""

    image_path: Path
    width: int
    height: int
    boxes: tuple[Box, ...] = ()
    verified: bool = False
    attrs: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def with_boxes(self, boxes: Iterable[Box]) -> Annotation:
        return replace(self, boxes=tuple(boxes))

    def with_verified(self, verified: bool) -> Annotation:
        return replace(self, verified=verified)


@dataclass(frozen=True, slots=True)
class ClassNames:
    """The dataset's class registry: ordered names, class id = position."""

    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, names: Iterable[str]) -> ClassNames:
        return cls(tuple(str(n) for n in names))

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def name(self, cls_id: int) -> str:
        """Name for an id; unknown ids get a visible placeholder instead of an exception."""
        if 0 <= cls_id < len(self.names):
            return self.names[cls_id]
        return f"<unknown class {cls_id}>"

    def index(self, name: str) -> int | None:
        try:
            return self.names.index(name)
        except ValueError:
            return None

    def with_name(self, name: str) -> tuple[ClassNames, int]:
        """Return the registry containing `name` (appended if new) and its id."""
        idx = self.index(name)
        if idx is not None:
            return self, idx
        return ClassNames(self.names + (name,)), len(self.names)

    def extended_to(self, n: int) -> ClassNames:
        """Registry with at least `n` classes; missing names become `class<i>`."""
        if n <= len(self.names):
            return self
        return ClassNames(self.names + tuple(f"class{i}" for i in range(len(self.names), n)))

    def as_dict(self) -> dict[int, str]:
        return dict(enumerate(self.names))


def max_class_id(annotations: Sequence[Annotation]) -> int:
    """Largest class id used in the annotations, -1 when there are no boxes."""
    return max((b.cls for a in annotations for b in a.boxes), default=-1)
