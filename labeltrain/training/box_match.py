"""Matching boxes to boxes: detections to ground truth (TP / FP / FN) and one model's detections to another's.

Pure numpy. A detection array is (K, 6): x1, y1, x2, y2, score, class. Ground truth uses the same layout with
score 1. Matching is greedy by descending score, one-to-one, within a class (unless `same_class=False`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labeltrain.core.iou import iou_matrix


@dataclass(frozen=True)
class Matching:
    """Pairs (detection index, target index, IoU) and what stayed unmatched on either side."""

    pairs: tuple[tuple[int, int, float], ...]
    unmatched_dets: tuple[int, ...]
    unmatched_targets: tuple[int, ...]


def match(dets: np.ndarray, targets: np.ndarray, iou_thres: float = 0.5, same_class: bool = True) -> Matching:
    """Greedy one-to-one matching: each detection, highest score first, takes the free target (of its class)
    with the highest IoU, if that IoU is >= iou_thres."""
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 6)
    targets = np.asarray(targets, dtype=np.float64).reshape(-1, 6)
    iou = iou_matrix(dets[:, :4], targets[:, :4])
    if same_class and iou.size:
        iou = np.where(dets[:, None, 5] == targets[None, :, 5], iou, 0.0)
    free = np.ones(len(targets), dtype=bool)
    pairs: list[tuple[int, int, float]] = []
    unmatched: list[int] = []
    for d in np.argsort(-dets[:, 4], kind="stable"):
        if free.any():
            row = np.where(free, iou[d], -1.0)
            t = int(row.argmax())
            if row[t] >= iou_thres and row[t] > 0:
                free[t] = False
                pairs.append((int(d), t, float(row[t])))
                continue
        unmatched.append(int(d))
    return Matching(tuple(pairs), tuple(sorted(unmatched)), tuple(int(t) for t in np.flatnonzero(free)))


@dataclass(frozen=True)
class Agreement:
    """How well detections of a model under test agree with reference detections (e.g. ONNX vs PyTorch).

    Reference or test detections left unmatched count as IoU 0 in `min_iou`, except `borderline` ones whose
    score is within `score_margin` of the confidence threshold (they may fall either side of it legitimately).
    """

    reference: int
    test: int
    matched: int
    borderline: int
    min_iou: float
    mean_iou: float
    max_score_diff: float

    def merged(self, other: Agreement) -> Agreement:
        matched = self.matched + other.matched
        mean = ((self.mean_iou * self.matched + other.mean_iou * other.matched) / matched) if matched else 1.0
        return Agreement(self.reference + other.reference, self.test + other.test, matched,
                         self.borderline + other.borderline, min(self.min_iou, other.min_iou), mean,
                         max(self.max_score_diff, other.max_score_diff))


EMPTY_AGREEMENT = Agreement(0, 0, 0, 0, 1.0, 1.0, 0.0)


def agreement(reference: np.ndarray, test: np.ndarray, conf: float, score_margin: float = 1e-3,
              iou_thres: float = 0.3) -> Agreement:
    """Match test detections to reference detections (same class, IoU >= iou_thres) and summarise."""
    reference = np.asarray(reference, dtype=np.float64).reshape(-1, 6)
    test = np.asarray(test, dtype=np.float64).reshape(-1, 6)
    m = match(test, reference, iou_thres=iou_thres)
    ious = [iou for _, _, iou in m.pairs]
    score_diff = max((abs(test[d, 4] - reference[t, 4]) for d, t, _ in m.pairs), default=0.0)
    leftovers = [reference[t, 4] for t in m.unmatched_targets] + [test[d, 4] for d in m.unmatched_dets]
    borderline = sum(1 for s in leftovers if s <= conf + score_margin)
    missing = len(leftovers) - borderline
    min_iou = min(ious + [0.0] * missing, default=1.0)
    return Agreement(len(reference), len(test), len(ious), borderline, float(min_iou),
                     float(np.mean(ious)) if ious else 1.0, float(score_diff))
