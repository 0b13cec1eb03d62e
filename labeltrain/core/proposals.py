"""Model proposals for assisted labelling: boxes a model suggests, kept apart from the human labels until the
user accepts them. Pure data and rules (no Qt, no torch):

- a proposal that overlaps a human box (IoU >= SUPPRESS_IOU, any class) is not shown: the human box wins and
  is never changed by a proposal;
- only proposals at or above the confidence slider's value are shown;
- accepting turns a proposal into an ordinary box (clamped to the image); the caller records it as an edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from labeltrain.core.iou import iou_matrix
from labeltrain.core.model import Box

SUPPRESS_IOU = 0.45  # Ultralytics' NMS keeps boxes that overlap less than this much: treat more as "the same"


@dataclass(frozen=True)
class Proposal:
    cls: int
    x1: float
    y1: float
    x2: float
    y2: float
    score: float

    def as_box(self, width: int, height: int, source: str = "") -> Box:
        attrs = {"proposed_by": source, "score": round(self.score, 4)} if source else {}
        return Box(self.cls, self.x1, self.y1, self.x2, self.y2, attrs).clamped(width, height)


def from_rows(rows: Iterable[Sequence[float]]) -> tuple[Proposal, ...]:
    """Proposals from detection rows (cls, x1, y1, x2, y2, score), highest score first."""
    out = [Proposal(int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5])) for r in rows]
    return tuple(sorted(out, key=lambda p: -p.score))


def visible(proposals: Sequence[Proposal], human: Sequence[Box], conf: float,
            suppress_iou: float = SUPPRESS_IOU) -> list[Proposal]:
    """The proposals to show: score >= conf and no human box overlapping with IoU >= suppress_iou."""
    shown = [p for p in proposals if p.score >= conf]
    if not shown or not human:
        return shown
    overlap = iou_matrix(np.array([[p.x1, p.y1, p.x2, p.y2] for p in shown]),
                         np.array([[b.x1, b.y1, b.x2, b.y2] for b in human])).max(axis=1)
    return [p for p, o in zip(shown, overlap) if o < suppress_iou]
