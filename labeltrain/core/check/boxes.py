"""Box rules: boxes the trainer accepts but that are wrong or useless (zero area, too small to survive
augmentation, sticking out of the image, near-duplicates), and Darknet's `bad_label` coordinate checks."""

from __future__ import annotations

from operator import add, sub

from labeltrain.core.check.findings import Finding, define, finding
from labeltrain.core.check.registry import ImageContext, image_check
from labeltrain.core.problems import Severity

EDGE_TOLERANCE = 1e-4  # normalised; rounding in written coordinates is not a box past the edge
MIN_TRAIN_PIXELS = 2.0  # Ultralytics' augmentation keeps boxes wider and taller than 2 px (box_candidates)

R_ZERO_AREA = define(
    "box.zero_area", "boxes", Severity.WARNING, "zero-area box",
    "delete the box (an accidental click) or draw it again", fix_id="drop_zero_area")
R_TINY = define(
    "box.tiny", "boxes", Severity.WARNING, "box too small to train on",
    "check the box; objects this small at the training size teach nothing (raise imgsz or drop the box)")
R_PAST_EDGE = define(
    "box.past_edge", "boxes", Severity.WARNING, "box extends past the image edge",
    "clip the box to the image (the trainer clips it anyway, so what you see differs from what it learns)",
    fix_id="clip_boxes")
R_NEAR_DUPLICATE = define(
    "box.near_duplicate", "boxes", Severity.WARNING, "near-duplicate boxes",
    "two boxes of the same class cover the same object: delete one of them")
R_DARKNET = define(
    "box.darknet", "boxes", Severity.WARNING, "Darknet: Wrong annotation",
    "keep the box centre inside the image (0 < x, y <= 1) and the size at most 1; Darknet lists this row in "
    "bad_label.list", source="darknet")


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two (x1, y1, x2, y2) boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def corners(v: tuple[float, ...]) -> tuple[float, float, float, float]:
    _, xc, yc, w, h = v
    return xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2


@image_check("boxes")
def check_boxes(ctx: ImageContext) -> list[Finding]:
    values = ctx.labels.values
    if not values:
        return []
    width, height = ctx.facts.width, ctx.facts.height
    scale = ctx.options.imgsz / max(width, height) if width > 0 and height > 0 else 0.0
    image, label = ctx.image, ctx.label
    out: list[Finding] = []
    columns = list(zip(*values))
    if len(set(columns[0])) != len(values):  # two boxes of one class: look for near-duplicates
        pairs = near_duplicate_pairs(values, ctx.options.near_duplicate_iou)
        if pairs:
            lines = ctx.labels.value_lines()
            out.extend(finding(R_NEAR_DUPLICATE.id, f"near-duplicate of line {lines[i]} (same class, IoU {v:.2f})",
                               image=image, label=label, line=lines[j]) for i, j, v in pairs)
    if _all_fine(columns, width * scale, height * scale):
        return out
    for line, v in zip(ctx.labels.value_lines(), values):
        cls, xc, yc, w, h = v
        if w == 0 or h == 0:
            out.append(finding(R_ZERO_AREA.id, f"zero-area box ({'width' if w == 0 else 'height'} 0): the trainer's "
                                               "augmentation drops it, validation counts it as a missed object",
                               image=image, label=label, line=line))
        elif scale and (w * width * scale < MIN_TRAIN_PIXELS or h * height * scale < MIN_TRAIN_PIXELS):
            out.append(finding(R_TINY.id, f"box of {w * width:.1f}x{h * height:.1f} px is under "
                                          f"{MIN_TRAIN_PIXELS:g} px at imgsz {ctx.options.imgsz}: augmentation "
                                          "drops it (Darknet drops boxes under one network pixel)",
                               image=image, label=label, line=line))
        x1, y1, x2, y2 = corners(v)
        if min(x1, y1) < -EDGE_TOLERANCE or max(x2, y2) > 1 + EDGE_TOLERANCE:
            out.append(finding(R_PAST_EDGE.id, f"box extends past the image edge ({_past(x1, y1, x2, y2, width, height)})",
                               image=image, label=label, line=line))
        if xc <= 0 or xc > 1 or yc <= 0 or yc > 1 or w > 1 or h > 1:
            out.append(finding(R_DARKNET.id, f"Wrong annotation: x = {xc:.6g}, y = {yc:.6g}, w = {w:.6g}, "
                                             f"h = {h:.6g} (Darknet wants 0 < x, y <= 1 and w, h <= 1)",
                               image=image, label=label, line=line))
    out.sort(key=lambda f: f.line or 0)
    return out


def _all_fine(columns: list[tuple[float, ...]], width: float, height: float) -> bool:
    """Fast path over whole columns (class, x, y, w, h): True when no row can trigger a per-row box rule
    (width/height: the image size at the training scale, 0 when unknown)."""
    _, xc, yc, w, h = columns
    if 0 in w or 0 in h:
        return False
    if width and (min(w) * width < MIN_TRAIN_PIXELS or min(h) * height < MIN_TRAIN_PIXELS):
        return False
    if min(xc) <= 0 or max(xc) > 1 or min(yc) <= 0 or max(yc) > 1 or max(w) > 1 or max(h) > 1:
        return False
    lo, hi = -EDGE_TOLERANCE, 1 + EDGE_TOLERANCE
    hw, hh = [b * 0.5 for b in w], [b * 0.5 for b in h]
    return (min(map(sub, xc, hw)) >= lo and max(map(add, xc, hw)) <= hi
            and min(map(sub, yc, hh)) >= lo and max(map(add, yc, hh)) <= hi)


def _past(x1: float, y1: float, x2: float, y2: float, width: int, height: int) -> str:
    parts = []
    for name, over, size in (("left", -x1, width), ("top", -y1, height), ("right", x2 - 1, width),
                             ("bottom", y2 - 1, height)):
        if over > EDGE_TOLERANCE:
            parts.append(f"{name} by {over * size:.1f} px" if size else f"{name} by {over:.4f}")
    return ", ".join(parts)


def near_duplicate_pairs(values: list[tuple[float, ...]], threshold: float) -> list[tuple[int, int, float]]:
    """(i, j, IoU) for boxes j that overlap an earlier box i of the same class with IoU above `threshold`
    (indices into `values`; exact repeats are label.duplicate, not near-duplicates)."""
    if len(values) > 60:
        return _pairs_numpy(values, threshold)
    classes = [v[0] for v in values]
    pairs = []
    seen: set = {values[0]}
    for j in range(1, len(values)):
        cb = classes[j]
        b = values[j]
        if cb not in classes[:j] or b in seen:
            seen.add(b)
            continue
        seen.add(b)
        _, xb, yb, wb, hb = b
        for i in range(j):
            if classes[i] != cb:
                continue
            a = values[i]
            if a == b:
                continue
            _, xa, ya, wa, ha = a
            # IoU > t needs an overlap of more than t times the larger width (and height)
            iw = min(xa + wa / 2, xb + wb / 2) - max(xa - wa / 2, xb - wb / 2)
            if iw <= threshold * max(wa, wb):
                continue
            ih = min(ya + ha / 2, yb + hb / 2) - max(ya - ha / 2, yb - hb / 2)
            if ih <= threshold * max(ha, hb):
                continue
            value = iw * ih / (wa * ha + wb * hb - iw * ih)
            if value > threshold:
                pairs.append((i, j, value))
                break
    return pairs


def _pairs_numpy(values: list[tuple[float, ...]], threshold: float) -> list[tuple[int, int, float]]:
    """near_duplicate_pairs for many boxes, vectorised."""
    import numpy as np

    b = np.array([corners(v) for v in values], dtype=np.float64)
    iw = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area[:, None] + area[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(union > 0, inter / union, 0.0)
    v = np.array(values, dtype=np.float64)
    same = (v[:, None, 0] == v[None, :, 0]) & ~np.all(v[:, None, :] == v[None, :, :], axis=2)
    m = np.tril(np.where(same, m, 0.0), -1)  # pairs (j, i) with i < j
    out = []
    seen: set = {values[0]}
    for j in range(1, len(values)):
        if values[j] in seen:
            continue
        seen.add(values[j])
        hits = np.nonzero(m[j, :j] > threshold)[0]
        if hits.size:
            i = int(hits[0])
            out.append((i, j, float(m[j, i])))
    return out
