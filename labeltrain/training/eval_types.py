"""The plain records of an evaluation (frozen dataclasses of numbers, strings and tuples: JSON as they are),
with the little logic a viewer needs: error counts, boxes as core `Box`es, a text confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labeltrain.core.model import Annotation, Box


@dataclass(frozen=True)
class ClassMetrics:
    """One row of the per-class table (Ultralytics' values at its max-F1 confidence for P, R, F1).
    A class without ground truth in the split has instances 0 and zeros."""

    cls: int
    name: str
    images: int
    instances: int
    precision: float
    recall: float
    f1: float
    ap50: float
    ap50_95: float


@dataclass(frozen=True)
class PRCurve:
    """Precision at evenly spaced recall values at IoU 0.5 (cls -1: mean over classes)."""

    cls: int
    name: str
    recall: tuple[float, ...]
    precision: tuple[float, ...]
    ap50: float

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PRCurve:
        return cls(d["cls"], d["name"], tuple(d["recall"]), tuple(d["precision"]), d["ap50"])


@dataclass(frozen=True)
class ConfidenceCurve:
    """Mean precision, recall and F1 over classes as functions of the confidence threshold."""

    conf: tuple[float, ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConfidenceCurve:
        return cls(*(tuple(d[k]) for k in ("conf", "precision", "recall", "f1")))

    def best_f1_conf(self) -> float | None:
        """The confidence with the highest mean F1 (None without curves)."""
        if not self.f1:
            return None
        return self.conf[max(range(len(self.f1)), key=self.f1.__getitem__)]


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts [predicted][true] (Ultralytics' layout); the last name is 'background' (missed / spurious)."""

    names: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    conf: float
    iou: float

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConfusionMatrix:
        return cls(tuple(d["names"]), tuple(tuple(r) for r in d["matrix"]), d["conf"], d["iou"])

    def format_text(self, width: int = 10) -> str:
        names = [n[:width] for n in self.names]
        rows = [f"confusion matrix at conf {self.conf:g} (rows: predicted, columns: true)",
                " " * (width + 1) + " ".join(f"{n:>{width}}" for n in names)]
        rows += [f"{names[i]:>{width}} " + " ".join(f"{v:>{width}}" for v in row) for i, row in enumerate(self.matrix)]
        return "\n".join(rows)


@dataclass(frozen=True)
class ImageEval:
    """One image: ground truth (cls, x1, y1, x2, y2) and predictions (cls, x1, y1, x2, y2, conf) in original
    image pixels (predictions above the evaluation confidence, highest first); `tp` pairs (prediction index,
    ground-truth index, IoU); `fp` prediction indices; `fn` ground-truth indices."""

    image: str
    width: int
    height: int
    ground_truth: tuple[tuple[Any, ...], ...]
    predictions: tuple[tuple[Any, ...], ...]
    tp: tuple[tuple[int, int, float], ...]
    fp: tuple[int, ...]
    fn: tuple[int, ...]

    @property
    def errors(self) -> int:
        return len(self.fp) + len(self.fn)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageEval:
        return cls(d["image"], d["width"], d["height"], tuple(tuple(g) for g in d["ground_truth"]),
                   tuple(tuple(p) for p in d["predictions"]), tuple(tuple(t) for t in d["tp"]), tuple(d["fp"]),
                   tuple(d["fn"]))

    def gt_boxes(self) -> list[Box]:
        """Ground truth as core boxes, with attrs['match'] = 'tp' or 'fn'."""
        missed = set(self.fn)
        return [Box(int(c), x1, y1, x2, y2, {"match": "fn" if i in missed else "tp"})
                for i, (c, x1, y1, x2, y2) in enumerate(self.ground_truth)]

    def pred_boxes(self) -> list[Box]:
        """Predictions as core boxes, with attrs conf and match ('tp' or 'fp') and, for a TP, its IoU."""
        ious = {d: iou for d, _, iou in self.tp}
        return [Box(int(c), x1, y1, x2, y2, {"conf": conf, "match": "tp" if i in ious else "fp",
                                             **({"iou": ious[i]} if i in ious else {})})
                for i, (c, x1, y1, x2, y2, conf) in enumerate(self.predictions)]

    def annotation(self) -> Annotation:
        """The predictions as an Annotation of the image (for the editor's proposal layer)."""
        return Annotation(Path(self.image), self.width, self.height, tuple(self.pred_boxes()))
