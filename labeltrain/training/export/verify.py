"""Numerical verification of an exported detector against its PyTorch original on sample images: the largest
difference of the raw network outputs on the same input tensor, how the final detections agree (matched IoU,
score difference), and the latency of both networks on this machine.

    v = verify(TorchDetector(pt, end2end=False), OnnxDetector(onnx), images, runtime="onnxruntime CPU")
    v.passed, v.min_iou, v.max_abs_diff, v.exported_ms / v.reference_ms
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from labeltrain.training.box_match import EMPTY_AGREEMENT, agreement
from labeltrain.training.detectors import Detector
from labeltrain.training.export.base import Verification
from labeltrain.training.onnx_infer import scale_to_original

MIN_IOU = 0.99  # every detection of the original must be matched this well (borderline scores excepted)
TIMING_REPEATS = 5


def read_images(paths: Sequence[str | Path]) -> list[tuple[str, np.ndarray]]:
    """The readable images among `paths` (BGR, as OpenCV and Ultralytics read them)."""
    out = []
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is not None:
            out.append((str(p), img))
    return out


def median_ms(fn: Callable[[], object], repeats: int = TIMING_REPEATS) -> float:
    """Median wall time of `fn()` in milliseconds after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def compare_outputs(a: np.ndarray, b: np.ndarray) -> float | None:
    """Largest absolute difference of two raw outputs of the same graph; None when they have different layouts
    (NMS inside the export): then only the detections can be compared."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return None
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def verify(reference: Detector, exported: Detector, images: Sequence[str | Path], *, runtime: str,
           conf: float = 0.25, iou: float = 0.7, min_iou: float = MIN_IOU, max_diff: float | None = None,
           run_exported: Callable[[np.ndarray], np.ndarray] | None = None) -> Verification:
    """Compare `exported` with `reference` on `images`. Both networks get the same input tensor (the export's
    letterbox) and their outputs the same post-processing (labeltrain's decode and NMS, Ultralytics' rules), so
    what is measured is the exported graph, not a difference of preprocessing: Ultralytics' own PyTorch predict letterboxes to a
    stride-multiple rectangle while a fixed-size export gets a square. Passed when every reference detection is
    matched with IoU >= `min_iou` (unmatched detections at the threshold's edge excepted) and, if given, the raw
    outputs differ by at most `max_diff`. `run_exported` replaces `exported.run` (e.g. a run in a browser)."""
    loaded = read_images(images)
    if not loaded:
        raise ValueError("no readable sample image to verify the export with")
    run = run_exported or exported.run
    diffs, ref_ms, exp_ms = [], [], []
    agree = EMPTY_AGREEMENT
    for _path, img in loaded:
        batch, info = exported.prepare(img)
        ref_out = reference.run(batch)
        exp_out = run(batch)
        diffs.append(compare_outputs(ref_out, exp_out))
        ref_ms.append(median_ms(lambda b=batch: reference.run(b)))
        exp_ms.append(median_ms(lambda b=batch: run(b)))
        ref_dets = scale_to_original(reference.decode(ref_out[0], conf, iou), info)
        exp_dets = scale_to_original(exported.decode(np.asarray(exp_out)[0], conf, iou), info)
        agree = agree.merged(agreement(ref_dets, exp_dets, conf))
    comparable = [d for d in diffs if d is not None]
    worst = max(comparable) if len(comparable) == len(diffs) else None
    notes = []
    passed = agree.min_iou >= min_iou
    if not passed:
        notes.append(f"a detection of the original is matched with IoU {agree.min_iou:.4f} only "
                     f"(or not at all): required >= {min_iou}")
    if max_diff is not None and worst is not None and worst > max_diff:
        passed = False
        notes.append(f"raw outputs differ by {worst:.3g} (allowed {max_diff:.3g})")
    if agree.borderline:
        notes.append(f"{agree.borderline} detection(s) within 1e-3 of the confidence threshold "
                     "fall on different sides of it (not counted)")
    return Verification(
        images=len(loaded), max_abs_diff=worst, matched=agree.matched, reference=agree.reference,
        exported=agree.test, borderline=agree.borderline, min_iou=round(agree.min_iou, 6),
        mean_iou=round(agree.mean_iou, 6), max_score_diff=round(agree.max_score_diff, 6),
        reference_ms=round(statistics.median(ref_ms), 3), exported_ms=round(statistics.median(exp_ms), 3),
        runtime=runtime, passed=passed, notes=tuple(notes))


def sample_images(weights: Path, given: Sequence[str], limit: int) -> list[str]:
    """Images to verify with: the given ones, else the validation (or training) images of the data.yaml the
    model was trained on. Empty when none can be found."""
    if given:
        return [str(p) for p in given][:limit]
    from labeltrain.core.dataset import discover
    from labeltrain.training.ultra import load_yolo, train_args

    model = load_yolo(weights)
    data = model.overrides.get("data") or train_args(model).get("data")
    if not data or not Path(str(data)).is_file():
        return []
    try:
        items = discover(Path(str(data))).items
    except (OSError, ValueError):
        return []
    for split in ("val", "test", "train"):
        images = [it.image for it in items if it.split == split][:limit]
        if images:
            return images
    return [it.image for it in items[:limit]]
