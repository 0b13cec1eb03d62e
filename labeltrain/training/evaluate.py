"""Evaluate a detector (.pt) on a data.yaml split: Ultralytics' own validation numbers plus what a person needs
to judge the model: PR curves, a confusion matrix at a readable confidence, and per-image TP / FP / FN.

The metrics come from Ultralytics' DetectionValidator itself (same dataloader, NMS and AP code as `model.val()`,
so the numbers are equal); a small subclass also keeps, per image, the ground truth and the predictions above
`conf` in original image pixels, and fills a second confusion matrix at `conf` (Ultralytics' own is at the
validation confidence 0.001 and only with plots=True).

    result = evaluate("runs/train/weights/best.pt", "data.yaml", split="val", conf=0.25)
    result.map50, result.classes[0].ap50_95, result.per_image[0].errors, result.to_json()
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from labeltrain.training.box_match import match
from labeltrain.training.eval_types import ClassMetrics, ConfidenceCurve, ConfusionMatrix, ImageEval, PRCurve
from labeltrain.training.ultra import load_yolo, quiet, versions

__all__ = ["evaluate", "EvaluationResult", "EvaluationCancelled", "ClassMetrics", "PRCurve", "ConfidenceCurve",
           "ConfusionMatrix", "ImageEval", "image_eval"]

CURVE_POINTS = 101  # points kept per curve (Ultralytics computes 1000)
MATCH_IOU = 0.5  # per-image TP / FP / FN: same class and IoU >= 0.5
CM_IOU = 0.45  # Ultralytics' confusion-matrix matching threshold


class EvaluationCancelled(Exception):
    """`cancelled()` returned True during the evaluation."""


@dataclass(frozen=True)
class EvaluationResult:
    """Everything `evaluate` measured; plain data (JSON via to_dict/to_json, back via from_dict)."""

    weights: str
    data: str
    split: str
    imgsz: int
    conf: float  # confidence of the confusion matrix and the per-image lists
    images: int
    instances: int
    precision: float
    recall: float
    map50: float
    map50_95: float
    classes: tuple[ClassMetrics, ...]
    pr_curves: tuple[PRCurve, ...]
    confidence_curve: ConfidenceCurve
    confusion: ConfusionMatrix
    per_image: tuple[ImageEval, ...]  # most errors first
    speed_ms: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        kw = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        kw["classes"] = tuple(ClassMetrics(**c) for c in data["classes"])
        kw["pr_curves"] = tuple(PRCurve.from_dict(c) for c in data["pr_curves"])
        kw["confidence_curve"] = ConfidenceCurve.from_dict(data["confidence_curve"])
        kw["confusion"] = ConfusionMatrix.from_dict(data["confusion"])
        kw["per_image"] = tuple(ImageEval.from_dict(i) for i in data["per_image"])
        return cls(**kw)

    def worst_images(self, n: int = 10) -> tuple[ImageEval, ...]:
        return tuple(i for i in self.per_image[:n] if i.errors)

    def format_text(self, max_images: int = 10) -> str:
        head = f"{'class':>20} {'images':>7} {'boxes':>7} {'P':>7} {'R':>7} {'mAP50':>7} {'mAP50-95':>9}"
        rows = [f"{self.weights} on {self.data} [{self.split}], imgsz {self.imgsz}", head,
                f"{'all':>20} {self.images:>7} {self.instances:>7} {self.precision:>7.3f} {self.recall:>7.3f} "
                f"{self.map50:>7.3f} {self.map50_95:>9.3f}"]
        for c in self.classes:
            if c.instances:
                rows.append(f"{c.name[:20]:>20} {c.images:>7} {c.instances:>7} {c.precision:>7.3f} "
                            f"{c.recall:>7.3f} {c.ap50:>7.3f} {c.ap50_95:>9.3f}")
        rows.append("")
        rows.append(self.confusion.format_text())
        worst = self.worst_images(max_images)
        if worst:
            rows.append("")
            rows.append(f"images with most errors at conf {self.conf:g} (IoU >= {MATCH_IOU}):")
            rows.extend(f"  {len(i.fp):>3} FP {len(i.fn):>3} FN {len(i.tp):>3} TP  {i.image}" for i in worst)
        return "\n".join(rows)


def image_eval(image: str, width: int, height: int, gt: np.ndarray, preds: np.ndarray,
               iou_thres: float = MATCH_IOU) -> ImageEval:
    """Per-image result from ground truth (M, 5: cls, x1, y1, x2, y2) and predictions (K, 6: x1, y1, x2, y2,
    score, cls), both in image pixels: TP when same class and IoU >= iou_thres, greedy by score."""
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 5)
    preds = np.asarray(preds, dtype=np.float64).reshape(-1, 6)
    order = np.argsort(-preds[:, 4], kind="stable")
    preds = preds[order]
    targets = np.concatenate((gt[:, 1:5], np.ones((len(gt), 1)), gt[:, :1]), 1)
    m = match(preds, targets, iou_thres=iou_thres)
    return ImageEval(
        image=image, width=int(width), height=int(height),
        ground_truth=tuple((int(c), *(round(float(v), 3) for v in box)) for c, *box in gt.tolist()),
        predictions=tuple((int(p[5]), *(round(float(v), 3) for v in p[:4]), round(float(p[4]), 5))
                          for p in preds.tolist()),
        tp=tuple(sorted((d, t, round(iou, 4)) for d, t, iou in m.pairs)),
        fp=m.unmatched_dets, fn=m.unmatched_targets)


@functools.cache
def _validator_class() -> type:
    """A DetectionValidator that also records per-image boxes and a confusion matrix at `eval_conf`."""
    from ultralytics.models.yolo.detect import DetectionValidator
    from ultralytics.utils import ops
    from ultralytics.utils.metrics import ConfusionMatrix as UltralyticsCM

    class CollectingValidator(DetectionValidator):
        def __init__(self, *args: Any, eval_conf: float, sink: dict[str, Any],
                     progress: Callable[[int, int], None] | None = None,
                     cancelled: Callable[[], bool] | None = None, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.eval_conf, self.sink, self.progress, self.cancelled = eval_conf, sink, progress, cancelled

        def init_metrics(self, model: Any) -> None:
            super().init_metrics(model)
            self.sink["cm"] = UltralyticsCM(names=model.names)
            self.sink["images"] = []

        def update_metrics(self, preds: list[dict[str, Any]], batch: dict[str, Any]) -> None:
            super().update_metrics(preds, batch)
            for si, pred in enumerate(preds):
                pbatch = self._prepare_batch(si, batch)
                self.sink["cm"].process_batch(pred, pbatch, conf=self.eval_conf, iou_thres=CM_IOU)
                keep = pred["conf"] > self.eval_conf
                scaled = self.scale_preds({k: v[keep] for k, v in pred.items()}, pbatch)
                gt = ops.scale_boxes(pbatch["imgsz"], pbatch["bboxes"].clone(), pbatch["ori_shape"],
                                     ratio_pad=pbatch["ratio_pad"])
                h, w = (int(v) for v in pbatch["ori_shape"])
                dets = np.concatenate((scaled["bboxes"].cpu().numpy(), scaled["conf"].cpu().numpy()[:, None],
                                       scaled["cls"].cpu().numpy()[:, None]), 1)
                gts = np.concatenate((pbatch["cls"].cpu().numpy().reshape(-1, 1), gt.cpu().numpy()), 1)
                self.sink["images"].append(image_eval(str(pbatch["im_file"]), w, h, gts, dets))
            if self.progress is not None:
                self.progress(self.batch_i + 1, len(self.dataloader))
            if self.cancelled is not None and self.cancelled():
                raise EvaluationCancelled("evaluation cancelled")

    return CollectingValidator


def _curve(values: np.ndarray, points: int) -> tuple[float, ...]:
    idx = np.linspace(0, len(values) - 1, points).round().astype(int)
    return tuple(round(float(v), 5) for v in np.asarray(values)[idx])


def evaluate(weights: str | Path, data: str | Path | None = None, split: str = "val", conf: float = 0.25,
             imgsz: int | None = None, batch: int = 16, device: str | None = None,
             progress: Callable[[int, int], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> EvaluationResult:
    """Validate `weights` on `split` of `data` (default: the data.yaml the model was trained on) as
    `YOLO(weights).val(data=data, split=split, imgsz=imgsz, batch=batch)` does, and collect the extras at `conf`.
    `progress(done, total)` counts batches; `cancelled()` stops with EvaluationCancelled."""
    from labeltrain.core.datayaml import load_data_yaml

    if not 0 < conf < 1:
        raise ValueError(f"conf must be between 0 and 1, not {conf}")
    model = load_yolo(weights)
    data = Path(data) if data else Path(str(model.overrides.get("data") or ""))
    if not str(data) or not data.is_file():
        raise FileNotFoundError(f"data.yaml not found: {data or '(the model does not name its training data)'}")
    dy = load_data_yaml(data)
    if split not in dy.splits:
        raise ValueError(f"{data} has no {split!r} split (it has: {', '.join(dy.splits) or 'none'})")
    sink: dict[str, Any] = {}
    validator = functools.partial(_validator_class(), eval_conf=conf, sink=sink, progress=progress,
                                  cancelled=cancelled)
    kwargs: dict[str, Any] = {"data": str(data), "split": split, "batch": batch, "plots": False, "verbose": False}
    if imgsz:
        kwargs["imgsz"] = imgsz
    if device is not None:
        kwargs["device"] = device
    with tempfile.TemporaryDirectory(prefix="labeltrain-eval-") as tmp, quiet():
        metrics = model.val(validator=validator, project=tmp, name="val", exist_ok=True, **kwargs)
    names = {int(k): str(v) for k, v in metrics.names.items()}
    return _result(str(weights), str(data), split, int(model.overrides.get("imgsz") or imgsz or 0), conf,
                   metrics, names, sink)


def _result(weights: str, data: str, split: str, imgsz: int, conf: float, metrics: Any, names: dict[int, str],
            sink: dict[str, Any]) -> EvaluationResult:
    box = metrics.box
    nt_class = np.zeros(len(names), int) if metrics.nt_per_class is None else metrics.nt_per_class
    nt_image = np.zeros(len(names), int) if metrics.nt_per_image is None else metrics.nt_per_image
    index = {int(c): i for i, c in enumerate(metrics.ap_class_index)}
    classes = []
    for c, name in sorted(names.items()):
        i = index.get(c)
        values = (0.0,) * 5 if i is None else (box.p[i], box.r[i], box.f1[i], box.ap50[i], box.ap[i])
        classes.append(ClassMetrics(c, name, int(nt_image[c]), int(nt_class[c]), *(float(v) for v in values)))
    curves = []
    if len(index):
        prec = np.asarray(box.prec_values)
        curves.append(PRCurve(-1, "all classes", _curve(box.px, CURVE_POINTS), _curve(prec.mean(0), CURVE_POINTS),
                              float(box.map50)))
        for c, i in index.items():
            curves.append(PRCurve(c, names[c], _curve(box.px, CURVE_POINTS), _curve(prec[i], CURVE_POINTS),
                                  float(box.ap50[i])))
    if len(index):
        conf_curve = ConfidenceCurve(_curve(box.px, CURVE_POINTS), _curve(np.mean(box.p_curve, 0), CURVE_POINTS),
                                     _curve(np.mean(box.r_curve, 0), CURVE_POINTS),
                                     _curve(np.mean(box.f1_curve, 0), CURVE_POINTS))
    else:
        conf_curve = ConfidenceCurve((), (), (), ())
    cm = sink["cm"]
    confusion = ConfusionMatrix(tuple(names[c] for c in sorted(names)) + ("background",),
                                tuple(tuple(int(v) for v in row) for row in cm.matrix), conf, CM_IOU)
    per_image = tuple(sorted(sink["images"], key=lambda i: (-i.errors, -len(i.fn), i.image)))
    return EvaluationResult(
        weights=weights, data=data, split=split, imgsz=imgsz, conf=conf, images=len(per_image),
        instances=int(np.sum(nt_class)), precision=float(box.mp), recall=float(box.mr), map50=float(box.map50),
        map50_95=float(box.map), classes=tuple(classes), pr_curves=tuple(curves), confidence_curve=conf_curve,
        confusion=confusion, per_image=per_image,
        speed_ms={k: round(float(v), 3) for k, v in (metrics.speed or {}).items()}, versions=versions())
