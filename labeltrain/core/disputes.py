"""Label disputes: where a trained detector disagrees with an image's labels, scored, and images ranked by it.

Pure numpy, no model: the caller (labeltrain.training.mining) supplies each image's labels and the model's
predictions. Labels are rows (class, x1, y1, x2, y2) in image pixels, in the order the editor lists the boxes
(a dispute about a labelled box carries that index); predictions are detector rows (x1, y1, x2, y2, score,
class). Predictions below `conf_low` (0.01) are ignored. IoU is the boxes' intersection over union.

Calibration (once per dataset, from the same predictions): models differ a lot in how high their scores go (a
short YOLO26 training may top out at 0.2 while ranking well), so fixed confidence thresholds misfire. Two numbers
describe the model on these labels:
- r, its label recall: the fraction of labelled boxes that some kept prediction (any class) overlaps by IoU >=
  `loc_low` (0.1);
- s_ref, its typical confidence: the median, over the labelled boxes it finds, of its best same-class score at
  IoU >= `match_iou` (0.5).
"Confident" means score >= conf: the given `Thresholds.conf`, or by default (conf=None) s_ref / 2, i.e. at least
half as sure as the model usually is about a correct label (never below conf_low).

The four kinds of dispute and their scores (higher = more suspicious; s is a prediction's score):
- WRONG_CLASS, for a labelled box: a confident prediction of another class lies on it (IoU >= `match_iou`) and
  no label of that class explains the prediction as well. Score = s_other - s_same, the margin by which the model
  prefers the other class (s_same: its best same-class score on the box at IoU >= 0.5, 0 when none); reported
  only when positive. Why: a model that also sees the labelled class is unsure rather than in disagreement.
- POOR_LOCALISATION, for a labelled box: a confident same-class prediction overlaps it only partly
  (`loc_low` 0.1 <= IoU < `loc_high` 0.6), no confident same-class prediction overlaps it well (IoU >= 0.6), and
  no other label overlaps that prediction more. Score = s * (0.6 - IoU) / (0.6 - 0.1): the confidence, scaled
  from full at IoU 0.1 to 0 at IoU 0.6, where it meets "no dispute" (a trained model places boxes at IoU
  0.7-0.9, so 0.6 leaves room for its own imprecision).
- SPURIOUS, for a labelled box: no kept prediction of any class overlaps it by IoU >= 0.1, even at conf_low.
  Score = r * s_ref * (1 - reach / 0.1), reach being the best such IoU. Why: "the model sees nothing here" weighs
  as much as a typical detection of this model, and only as far as the model usually sees labelled objects;
  a weak model's misses score low.
- MISSING, for a prediction: confident, no label of its class overlaps it (IoU < 0.1) and no label of any class
  lies under it (IoU < 0.5, else it is the WRONG_CLASS case). Score = s. Predictions of one unlabelled object
  are merged (class-agnostic, IoU >= `dedup_iou` 0.5, the most confident kept).

Image score: noisy-or of its disputes, 1 - prod(1 - score_i): one strong dispute ranks the image high, several
weaker ones add up, and it stays in [0, 1]; an image without disputes scores 0. The queue is the images by
descending score (ties: path order), each with its disputes by descending score.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from labeltrain.core.atomic import atomic_write_text
from labeltrain.core.iou import iou_matrix

MISSING, SPURIOUS, WRONG_CLASS, POOR_LOCALISATION = "missing", "spurious", "wrong_class", "poor_localisation"
KINDS = (WRONG_CLASS, MISSING, SPURIOUS, POOR_LOCALISATION)
KIND_TITLES = {WRONG_CLASS: "wrong class", MISSING: "missing box", SPURIOUS: "spurious box",
               POOR_LOCALISATION: "poor localisation"}
RESULT_VERSION = 1


@dataclass(frozen=True)
class Thresholds:
    """The thresholds (see the module docstring). conf None: calibrated, half the model's typical confidence."""

    conf: float | None = None  # a confident prediction (missing, wrong class, poor localisation); None: auto
    conf_low: float = 0.01  # predictions kept at all; spurious means none of these near a label
    match_iou: float = 0.5  # a prediction lies on a labelled box
    loc_low: float = 0.1  # below: no overlap (missing / spurious)
    loc_high: float = 0.6  # at or above: well placed
    dedup_iou: float = 0.5  # missing: predictions of one unlabelled object merged

    def problems(self) -> list[str]:
        out = []
        if not 0 < self.conf_low <= (self.conf if self.conf is not None else self.conf_low) <= 1:
            out.append("the thresholds need 0 < conf_low <= conf <= 1")
        if not 0 < self.loc_low < self.loc_high <= 1 or not 0 < self.match_iou <= 1 or not 0 < self.dedup_iou <= 1:
            out.append("the IoU thresholds need 0 < loc_low < loc_high <= 1 and match/dedup IoU in (0, 1]")
        return out


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class DisputeBox:
    """A labelled or predicted box: class id and name, pixel corners, confidence (predictions only)."""

    cls: int
    name: str
    x1: float
    y1: float
    x2: float
    y2: float
    conf: float | None = None

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class Dispute:
    """One disagreement. `box_index`: the labelled box's index in the editor's list (None for MISSING)."""

    kind: str
    score: float
    box_index: int | None
    label: DisputeBox | None
    prediction: DisputeBox | None
    iou: float | None
    message: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dispute:
        kw = {f.name: data.get(f.name) for f in fields(cls)}
        for key in ("label", "prediction"):
            kw[key] = DisputeBox(**kw[key]) if kw[key] is not None else None
        return cls(**kw)


@dataclass(frozen=True)
class ImageDisputes:
    """One image in the queue: its score, disputes (most serious first), and what was compared."""

    image: str
    label_file: str | None
    score: float
    disputes: tuple[Dispute, ...]
    labels: int  # labelled boxes
    predictions: int  # predictions kept (score >= conf_low)
    fold: int | None = None  # the k-fold model that predicted it (None: the given model)
    error: str | None = None  # the image or its labels could not be read

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageDisputes:
        kw = {f.name: data.get(f.name) for f in fields(cls)}
        kw["disputes"] = tuple(Dispute.from_dict(d) for d in data.get("disputes", ()))
        return cls(**kw)


def _arrays(labels: Any, preds: Any, conf_low: float) -> tuple[np.ndarray, np.ndarray]:
    lab = np.asarray(labels, dtype=np.float64).reshape(-1, 5)
    pre = np.asarray(preds, dtype=np.float64).reshape(-1, 6)
    return lab, pre[pre[:, 4] >= conf_low]


@dataclass(frozen=True)
class Calibration:
    """How this model scores these labels: r (label recall), s_ref (typical confidence) and the conf in force."""

    recall: float = 1.0
    typical: float = 1.0
    conf: float = 0.5


def calibrate(pairs: Iterable[tuple[Any, Any]], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Calibration:
    """r, s_ref and conf (see the module docstring) over (labels, predictions) pairs of the whole dataset.
    Without labels r = 1 and s_ref = 1 (nothing to learn from)."""
    t = thresholds
    seen = total = 0
    found: list[float] = []
    for labels, preds in pairs:
        lab, pre = _arrays(labels, preds, t.conf_low)
        total += len(lab)
        if not len(lab) or not len(pre):
            continue
        u = iou_matrix(lab[:, 1:5], pre[:, :4])
        seen += int((u.max(axis=1) >= t.loc_low).sum())
        on = (u >= t.match_iou) & (lab[:, 0][:, None] == pre[:, 5][None, :])
        best = np.where(on, pre[:, 4][None, :], 0.0).max(axis=1)
        found.extend(best[best > 0].tolist())
    recall = seen / total if total else 1.0
    typical = float(np.median(found)) if found else (1.0 if not total else 0.0)
    conf = t.conf if t.conf is not None else max(t.conf_low, typical / 2)
    return Calibration(round(recall, 6), round(typical, 6), round(conf, 6))


def _name(names: Mapping[int, str] | Sequence[str], cls: int) -> str:
    if isinstance(names, Mapping):
        return str(names.get(cls, f"class {cls}"))
    return str(names[cls]) if 0 <= cls < len(names) else f"class {cls}"


def score_image(labels: Any, preds: Any, names: Mapping[int, str] | Sequence[str] = (),
                thresholds: Thresholds = DEFAULT_THRESHOLDS,
                calibration: Calibration | None = None) -> tuple[Dispute, ...]:
    """The disputes of one image, most serious first. `calibration`: calibrate() over the whole dataset
    (default: r = s_ref = 1 and conf = thresholds.conf or 0.5)."""
    t = thresholds
    cal = calibration or Calibration(conf=t.conf if t.conf is not None else 0.5)
    lab, pre = _arrays(labels, preds, t.conf_low)
    n, k = len(lab), len(pre)
    u = iou_matrix(lab[:, 1:5], pre[:, :4]) if n and k else np.zeros((n, k))
    same = lab[:, 0][:, None] == pre[:, 5][None, :]
    confident = pre[:, 4] >= cal.conf
    scores = pre[:, 4]

    def label_box(i: int) -> DisputeBox:
        c = int(lab[i, 0])
        return DisputeBox(c, _name(names, c), *(float(v) for v in lab[i, 1:5]))

    def pred_box(j: int) -> DisputeBox:
        c = int(pre[j, 5])
        return DisputeBox(c, _name(names, c), *(float(v) for v in pre[j, :4]), conf=round(float(pre[j, 4]), 4))

    # For every prediction: the best IoU with a label of its own class (explains it, when >= the IoU at hand).
    own_label_iou = np.where(same, u, 0.0).max(axis=0) if n and k else np.zeros(k)
    out: list[Dispute] = []
    for i in range(n):
        row, srow = u[i], same[i]
        name = _name(names, int(lab[i, 0]))
        # WRONG_CLASS: margin of the best unexplained other-class prediction over the labelled class.
        on_box = row >= t.match_iou
        s_same = float(scores[on_box & srow].max(initial=0.0))
        other = np.flatnonzero(on_box & ~srow & confident & (own_label_iou < row))
        if len(other):
            j = int(other[np.argmax(scores[other])])
            margin = float(scores[j]) - s_same
            if margin > 0:
                p = pred_box(j)
                extra = f"; '{name}' {s_same:.2f}" if s_same > 0 else ""
                out.append(Dispute(WRONG_CLASS, margin, i, label_box(i), p, float(row[j]),
                                   f"model sees a '{p.name}' ({p.conf:.2f}) here, labelled '{name}'{extra}"))
        # POOR_LOCALISATION: a confident same-class prediction overlapping only partly, none overlapping well.
        if not (srow & confident & (row >= t.loc_high)).any():
            others = np.delete(u, i, axis=0).max(axis=0) if n > 1 else np.zeros(k)
            cand = np.flatnonzero(srow & confident & (row >= t.loc_low) & (row < t.loc_high) & (others <= row))
            if len(cand):
                loc = scores[cand] * (t.loc_high - row[cand]) / (t.loc_high - t.loc_low)
                j = int(cand[np.argmax(loc)])
                p = pred_box(j)
                out.append(Dispute(POOR_LOCALISATION, float(loc.max()), i, label_box(i), p, float(row[j]),
                                   f"model puts the '{name}' ({p.conf:.2f}) elsewhere: it overlaps the label by "
                                   f"IoU {row[j]:.2f} only"))
        # SPURIOUS: nothing of any class overlaps the label, even at conf_low.
        reach = float(row.max(initial=0.0))
        if reach < t.loc_low:
            score = cal.recall * cal.typical * (1 - reach / t.loc_low)
            message = f"labelled '{name}', but the model sees nothing here (not even at {t.conf_low:g})"
            out.append(Dispute(SPURIOUS, score, i, label_box(i), None, reach, message))
    # MISSING: confident predictions no label accounts for, one per unlabelled object.
    lab_any = u.max(axis=0) if n and k else np.zeros(k)
    cand = np.flatnonzero(confident & (own_label_iou < t.loc_low) & (lab_any < t.match_iou))
    kept: list[int] = []
    for j in cand[np.argsort(-scores[cand], kind="stable")]:
        if kept and iou_matrix(pre[[j], :4], pre[kept, :4]).max() >= t.dedup_iou:
            continue
        kept.append(int(j))
        p = pred_box(int(j))
        out.append(Dispute(MISSING, float(scores[j]), None, None, p, float(lab_any[j]),
                           f"model sees a '{p.name}' ({p.conf:.2f}) here with no label"))
    out = [d for d in out if d.score > 1e-9]  # a spurious box of a model that sees nothing at all: no evidence
    out.sort(key=lambda d: (-d.score, KINDS.index(d.kind), -1 if d.box_index is None else d.box_index))
    return tuple(out)


def image_score(disputes: Iterable[Dispute]) -> float:
    """Noisy-or of the dispute scores: 1 - prod(1 - s); 0 without disputes."""
    keep = 1.0
    for d in disputes:
        keep *= 1.0 - min(max(d.score, 0.0), 1.0)
    return 1.0 - keep


def rank_images(images: Iterable[ImageDisputes]) -> tuple[ImageDisputes, ...]:
    """The queue: highest image score first; ties in path order."""
    return tuple(sorted(images, key=lambda im: (-im.score, im.image)))


def _finite(value: Any) -> Any:
    """NaN/inf are not JSON: null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@dataclass(frozen=True)
class MiningResult:
    """A ranked queue of images the model disputes, with how it was made. JSON via to_dict/from_dict, save/load.

    mode: "k-fold" (each image predicted by a model that never trained on it) or "in-sample" (one given model,
    probably trained on these very images: it has learnt their mistakes and under-reports them)."""

    data: str
    mode: str
    folds: int
    seed: int
    models: tuple[str, ...]
    thresholds: Thresholds
    names: tuple[str, ...]
    calibration: Calibration
    images: tuple[ImageDisputes, ...]
    notes: tuple[str, ...] = ()
    train_seconds: float = 0.0
    elapsed: float = 0.0
    created: float = 0.0
    fold_map50: tuple[float, ...] = ()  # k-fold: each fold model's mAP50 on its held-out fold (NaN: unknown)
    work_dir: str = ""  # k-fold: the folder of the fold runs (the result is saved there as mining.json)
    version: int = RESULT_VERSION

    @property
    def in_sample(self) -> bool:
        return self.mode == "in-sample"

    def disputed(self) -> tuple[ImageDisputes, ...]:
        """The images with at least one dispute, in queue order."""
        return tuple(im for im in self.images if im.disputes)

    def all_disputes(self) -> list[tuple[ImageDisputes, Dispute]]:
        """Every dispute with its image, by descending score (ties: queue order)."""
        pairs = [(im, d) for im in self.images for d in im.disputes]
        return sorted(pairs, key=lambda p: -p[1].score)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(KINDS, 0)
        for im in self.images:
            for d in im.disputes:
                out[d.kind] = out.get(d.kind, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return _finite(asdict(self))

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MiningResult:
        kw = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        kw["thresholds"] = Thresholds(**data.get("thresholds", {}))
        kw["calibration"] = Calibration(**data.get("calibration", {}))
        kw["images"] = tuple(ImageDisputes.from_dict(i) for i in data.get("images", ()))
        for key in ("models", "names", "notes"):
            kw[key] = tuple(data.get(key, ()))
        kw["fold_map50"] = tuple(math.nan if v is None else float(v) for v in data.get("fold_map50", ()))
        return cls(**kw)

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, self.to_json(indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MiningResult:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "images" not in data:
            raise ValueError(f"{path}: not a label-mining result")
        return cls.from_dict(data)


RESULT_FILE = "mining.json"  # the result's name next to the run (or in the k-fold folder)
__all__ = ["MISSING", "SPURIOUS", "WRONG_CLASS", "POOR_LOCALISATION", "KINDS", "KIND_TITLES", "Thresholds",
           "DEFAULT_THRESHOLDS", "DisputeBox", "Dispute", "ImageDisputes", "MiningResult", "RESULT_FILE", "score_image",
           "image_score", "rank_images", "Calibration", "calibrate", "iou_matrix"]
