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


def _ious(props: Sequence[Proposal], boxes: Sequence[Box]) -> np.ndarray:
    a = np.array([[p.x1, p.y1, p.x2, p.y2] for p in props], dtype=np.float64).reshape(-1, 4)
    b = np.array([[x.x1, x.y1, x.x2, x.y2] for x in boxes], dtype=np.float64).reshape(-1, 4)
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def visible(proposals: Sequence[Proposal], human: Sequence[Box], conf: float,
            suppress_iou: float = SUPPRESS_IOU) -> list[Proposal]:
    """The proposals to show: score >= conf and no human box overlapping with IoU >= suppress_iou."""
    shown = [p for p in proposals if p.score >= conf]
    if not shown or not human:
        return shown
    overlap = _ious(shown, human).max(axis=1)
    return [p for p, o in zip(shown, overlap) if o < suppress_iou]
