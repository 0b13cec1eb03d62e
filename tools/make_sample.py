"""Generate labeltrain's bundled sample project (resources/sample/) deterministically.

    python tools/make_sample.py [--out DIR]

Synthetic scenes only (seeded numpy + OpenCV drawing, no network, no third-party images): textured, gradient
and noisy backgrounds with clutter, and three object classes (circle, square, triangle). The output is a
LabelImg-style folder that Ultralytics can also train from:

    images/sample_0001.jpg ...   labels/sample_0001.txt ...   classes.txt
    README.md  MISTAKES.md  mistakes.json

A dozen deliberate label mistakes are planted for the label checker and for model-based error mining; each is
listed (file, line, what, trainer consequence) in MISTAKES.md and mistakes.json. Running the script twice gives
byte-identical files (tests/test_sample_project.py checks this).
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a source checkout
    sys.path.insert(0, str(REPO))

from labeltrain.core.formats.base import fmt_num  # noqa: E402
from labeltrain.core.formats.yolo import dump_yolo  # noqa: E402
from labeltrain.core.model import Box  # noqa: E402

CLASSES = ("circle", "square", "triangle")
N_IMAGES = 150
SEED = 20261122
JPEG_QUALITY = 85
LANDSCAPE = (320, 240)  # width, height
PORTRAIT = (256, 320)
EXIF_FRAME = (240, 320)  # oriented size of the EXIF-rotated image (stored 320x240, orientation 6)
NEGATIVES = (10, 27, 46, 64, 88, 105, 122, 139)  # images with no objects and an empty label file
ORPHAN_STEM = "sample_0151"

# Planted mistakes: image number -> kind. Kept to 11 images (+1 orphan label) out of 150.
MISTAKE_IMAGES = {
    7: "class_out_of_range",
    13: "duplicate_row",
    21: "non_normalized",
    29: "negative_coordinate",
    37: "zero_width",
    43: "four_columns",
    51: "crlf_bom",
    59: "missing_label_file",
    67: "exif_rotated",
    73: "swapped_class",
    81: "missing_box",
}


def stem(i: int) -> str:
    return f"sample_{i:04d}"


# ------------------------------------------------------------------------------------------------- drawing


@dataclass
class Obj:
    cls: int
    cx: float  # centre in continuous pixel coordinates (pixel i spans [i, i+1))
    cy: float
    size: float  # side of the square bounding the unrotated shape
    angle: float  # degrees
    color: tuple[int, int, int]
    thickness: int = 0
    x1: float = 0.0  # full (unclamped) extent of the drawn shape
    y1: float = 0.0
    x2: float = 0.0
    y2: float = 0.0

    def box(self) -> Box:
        return Box(self.cls, self.x1, self.y1, self.x2, self.y2)


def _pts(points: np.ndarray) -> np.ndarray:
    """Continuous coordinates -> OpenCV fixed-point (shift=4) pixel-centre coordinates."""
    return np.round((points - 0.5) * 16).astype(np.int32).reshape(-1, 1, 2)


def _rot(points: np.ndarray, angle: float) -> np.ndarray:
    a = math.radians(angle)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return points @ r.T


def shape_points(o: Obj) -> np.ndarray:
    """Polygon vertices (continuous coordinates) of a square or triangle."""
    h = o.size / 2
    if o.cls == 1:
        base = np.array([[-h, -h], [h, -h], [h, h], [-h, h]])
    else:
        base = np.array([[0.0, -h], [h, h * 0.80], [-h, h * 0.80]])
    return _rot(base, o.angle) + np.array([o.cx, o.cy])


def compute_extent(o: Obj) -> None:
    if o.cls == 0:
        r = o.size / 2
        o.x1, o.y1, o.x2, o.y2 = o.cx - r, o.cy - r, o.cx + r, o.cy + r
    else:
        p = shape_points(o)
        pad = o.thickness / 2 if o.cls == 1 else 0.0
        o.x1, o.y1 = p[:, 0].min() - pad, p[:, 1].min() - pad
        o.x2, o.y2 = p[:, 0].max() + pad, p[:, 1].max() + pad
    o.x1, o.y1, o.x2, o.y2 = (float(round(v)) for v in (o.x1, o.y1, o.x2, o.y2))


def draw_object(img: np.ndarray, o: Obj) -> None:
    color = tuple(int(c) for c in o.color)
    if o.cls == 0:  # filled disc, darker rim, specular highlight
        r = o.size / 2
        c = _pts(np.array([[o.cx, o.cy]]))[0, 0]
        dark = tuple(int(v * 0.55) for v in color)
        cv2.circle(img, (int(c[0]), int(c[1])), int(round(r * 16)), dark, -1, cv2.LINE_AA, 4)
        cv2.circle(img, (int(c[0]), int(c[1])), int(round(max(r - max(1.5, r * 0.08), 1) * 16)), color, -1,
                   cv2.LINE_AA, 4)
        hl = np.array([[o.cx - r * 0.35, o.cy - r * 0.35]])
        hc = _pts(hl)[0, 0]
        light = tuple(int(v + (255 - v) * 0.65) for v in color)
        cv2.circle(img, (int(hc[0]), int(hc[1])), int(round(r * 0.28 * 16)), light, -1, cv2.LINE_AA, 4)
    elif o.cls == 1:  # outlined square (a little rotated), faint inner tint
        p = shape_points(o)
        inner = img.copy()
        cv2.fillPoly(inner, [_pts(p)], color, cv2.LINE_AA, 4)
        mask = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(mask, [_pts(p)], 255, cv2.LINE_AA, 4)
        alpha = (mask.astype(np.float32) / 255.0 * 0.25)[..., None]
        img[:] = (img * (1 - alpha) + inner * alpha).astype(np.uint8)
        cv2.polylines(img, [_pts(p)], True, color, o.thickness, cv2.LINE_AA, 4)
    else:  # filled triangle with a darker edge
        p = shape_points(o)
        cv2.fillPoly(img, [_pts(p)], color, cv2.LINE_AA, 4)
        dark = tuple(int(v * 0.6) for v in color)
        cv2.polylines(img, [_pts(p)], True, dark, max(1, int(o.size / 30)), cv2.LINE_AA, 4)


def random_color(rng: np.random.Generator) -> tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(120, 256), rng.integers(130, 256)]]])
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    c1 = rng.integers(20, 236, 3).astype(np.float32)
    c2 = np.clip(c1 + rng.normal(0, 60, 3), 0, 255).astype(np.float32)
    kind = int(rng.integers(0, 4))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == 0:  # linear gradient
        a = rng.uniform(0, 2 * math.pi)
        t = (xx * math.cos(a) + yy * math.sin(a))
        t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
    elif kind == 1:  # low-frequency noise texture
        small = rng.random((h // 40 + 2, w // 40 + 2)).astype(np.float32)
        t = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    elif kind == 2:  # soft stripes over a gradient
        a = rng.uniform(0, math.pi)
        period = rng.uniform(12, 40)
        s = np.sin((xx * math.cos(a) + yy * math.sin(a)) * 2 * math.pi / period)
        t = 0.5 + 0.25 * s + 0.25 * (yy / h)
    else:  # blotches
        t = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(3, 7))):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            rad = rng.uniform(30, 120)
            t += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rad * rad))
        t = t / max(float(t.max()), 1e-6)
    t = np.clip(t, 0, 1)[..., None]
    img = c1 * (1 - t) + c2 * t
    img += rng.normal(0, rng.uniform(2, 6), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def clutter(rng: np.random.Generator, img: np.ndarray) -> None:
    """Distractors that are none of the three classes: lines, arcs, dots, long bars, flat ellipses."""
    h, w = img.shape[:2]

    def col() -> tuple[int, int, int]:
        base = img[int(rng.integers(0, h)), int(rng.integers(0, w))].astype(int)
        return tuple(int(v) for v in np.clip(base + rng.integers(-90, 91, 3), 0, 255))

    for _ in range(int(rng.integers(0, 5))):
        p1 = (int(rng.integers(-20, w + 20)), int(rng.integers(-20, h + 20)))
        p2 = (int(rng.integers(-20, w + 20)), int(rng.integers(-20, h + 20)))
        cv2.line(img, p1, p2, col(), int(rng.integers(1, 3)), cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 3))):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(10, 60)), int(rng.integers(10, 60)))
        start = int(rng.integers(0, 360))
        cv2.ellipse(img, c, axes, 0, start, start + int(rng.integers(40, 160)), col(), 2, cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 8))):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(img, c, int(rng.integers(1, 4)), col(), -1, cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 3))):
        length, width = rng.uniform(30, 90), rng.uniform(3, 7)
        a = rng.uniform(0, 180)
        box = cv2.boxPoints(((float(rng.uniform(0, w)), float(rng.uniform(0, h))), (length, width), a))
        cv2.fillPoly(img, [np.round(box).astype(np.int32)], col(), cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 2))):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        major = int(rng.integers(18, 45))
        cv2.ellipse(img, c, (major, max(3, major // 4)), float(rng.uniform(0, 180)), 0, 360, col(), -1,
                    cv2.LINE_AA)


def clamped_visible(o: Obj, w: int, h: int) -> float:
    full = (o.x2 - o.x1) * (o.y2 - o.y1)
    vx = max(0.0, min(o.x2, w) - max(o.x1, 0.0))
    vy = max(0.0, min(o.y2, h) - max(o.y1, 0.0))
    return vx * vy / full if full > 0 else 0.0


def overlap_ok(o: Obj, others: list[Obj]) -> bool:
    """Slight overlaps only: IoU <= 0.1 and neither centre inside the other's box."""
    b = o.box()
    for p in others:
        q = p.box()
        if b.iou(q) > 0.1:
            return False
        if q.x1 < o.cx < q.x2 and q.y1 < o.cy < q.y2:
            return False
        if b.x1 < p.cx < b.x2 and b.y1 < p.cy < b.y2:
            return False
    return True


def make_object(rng: np.random.Generator, w: int, h: int, cls: int | None = None,
                size: float | None = None) -> Obj:
    cls = int(rng.integers(0, 3)) if cls is None else cls
    size = float(math.exp(rng.uniform(math.log(18), math.log(110)))) if size is None else size
    if cls == 1:
        angle = float(rng.uniform(-20, 20))
    elif cls == 2:
        angle = float(rng.choice([0.0, 0.0, 180.0, 90.0, -90.0]) + rng.uniform(-25, 25))
    else:
        angle = 0.0
    if rng.random() < 0.15:  # crosses an edge
        margin = size * 0.25
        cx = float(rng.uniform(-margin, w + margin))
        cy = float(rng.uniform(-margin, h + margin))
    else:
        cx = float(rng.uniform(size / 2, w - size / 2))
        cy = float(rng.uniform(size / 2, h - size / 2))
    thickness = int(max(2, round(size * rng.uniform(0.06, 0.11)))) if cls == 1 else 0
    o = Obj(cls, cx, cy, size, angle, (0, 0, 0), thickness)
    compute_extent(o)
    return o


def pick_color(rng: np.random.Generator, img: np.ndarray, o: Obj) -> tuple[int, int, int]:
    """A random saturated colour that stands out from the background under the object."""
    h, w = img.shape[:2]
    x1, y1 = int(max(0, o.x1)), int(max(0, o.y1))
    x2, y2 = int(min(w, o.x2)), int(min(h, o.y2))
    patch = img[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)].reshape(-1, 3).astype(np.float32)
    mean = patch.mean(axis=0) if len(patch) else np.zeros(3, np.float32)
    best, best_d = (0, 0, 0), -1.0
    for _ in range(12):
        c = random_color(rng)
        d = float(np.linalg.norm(np.array(c, np.float32) - mean))
        if d > best_d:
            best, best_d = c, d
        if d > 110:
            break
    return best


def place_objects(rng: np.random.Generator, w: int, h: int, n: int,
                  forced: list[Obj] | None = None) -> list[Obj]:
    objs: list[Obj] = list(forced or [])
    tries = 0
    while len(objs) < n and tries < 200:
        tries += 1
        o = make_object(rng, w, h)
        vis = clamped_visible(o, w, h)
        if vis < 0.55 or min(min(o.x2, w) - max(o.x1, 0), min(o.y2, h) - max(o.y1, 0)) < 10:
            continue
        if overlap_ok(o, objs):
            objs.append(o)
    return objs


def render(rng: np.random.Generator, w: int, h: int, objs: list[Obj]) -> np.ndarray:
    img = background(rng, w, h)
    clutter(rng, img)
    for o in objs:
        o.color = pick_color(rng, img, o)
        draw_object(img, o)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.4, 0.9))
    return img


# ------------------------------------------------------------------------------------------------- files


def encode_jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY,
                                         cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """Insert a minimal EXIF APP1 segment (only the Orientation tag) after the JFIF APP0 segment."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    assert jpeg[:2] == b"\xff\xd8"
    pos = 2
    if jpeg[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:pos] + app1 + jpeg[pos:]


def label_rows(objs: list[Obj], w: int, h: int) -> list[str]:
    """Canonical YOLO rows of the clamped boxes, one per object, in drawing order."""
    return dump_yolo([o.box().clamped(w, h) for o in objs], w, h).splitlines(keepends=True)


CONSEQUENCE = {
    "class_out_of_range": "Ultralytics rejects the whole image: 'ignoring corrupt image/label: Label class 7 "
                          "exceeds dataset class count 3. Possible class labels are 0-2'. None of its boxes "
                          "are trained on.",
    "duplicate_row": "Ultralytics keeps the image but drops the copy with a warning: '1 duplicate labels "
                     "removed'. Harmless for training; the label file is still wrong.",
    "non_normalized": "Ultralytics rejects the whole image: 'ignoring corrupt image/label: non-normalized or "
                      "out of bounds coordinates'.",
    "negative_coordinate": "Ultralytics rejects the whole image: 'ignoring corrupt image/label: negative "
                           "label values' (anything below -0.01 fails).",
    "zero_width": "Not rejected by the trainer's label check. Augmentation drops it (boxes need > 2 px width "
                  "and height), so it teaches nothing; in validation it stays as a ground truth no "
                  "prediction can match, which lowers recall and mAP.",
    "four_columns": "Ultralytics rejects the whole image: 'ignoring corrupt image/label: setting an array "
                    "element with a sequence. The requested array has an inhomogeneous shape after 1 "
                    "dimensions...' (numpy fails on the ragged rows before the trainer's own 'labels require "
                    "5 columns, 4 columns detected' check, which is only reached when every row has 4 "
                    "columns).",
    "crlf_bom": "Nothing: the trainer reads labels as UTF-8 with an optional BOM and any line ending. Readers "
                "must accept it too (and writers should not have to produce it).",
    "missing_label_file": "Ultralytics counts the image as 'missing' and trains on it as a background image: "
                          "its visible objects are taught as 'nothing here'.",
    "orphan_label": "Never read: the trainer finds label files from images, so this file is silently ignored "
                    "(a lost or renamed image).",
    "exif_rotated": "Nothing wrong: the trainer applies the EXIF orientation (PIL exif_size, cv2.imread), and "
                    "the labels are in that oriented frame. A tool that ignores EXIF shows the image sideways "
                    "and the boxes in the wrong places.",
    "swapped_class": "Trained as given: the model is taught that this circle is a square. Only a trained model "
                     "disputing the label can find it.",
    "missing_box": "Trained as given: the unlabelled object is taught as background. Only a trained model "
                   "proposing a box there can find it.",
}

WHAT = {
    "class_out_of_range": "class id 7 on a 3-class dataset (ids 0-2)",
    "duplicate_row": "the same row twice",
    "non_normalized": "box written in pixels instead of normalised 0-1 coordinates (values > 1.01)",
    "negative_coordinate": "box not clamped to the image: x centre below -0.01 (object cut by the left edge)",
    "zero_width": "zero-width box (an accidental click without a drag)",
    "four_columns": "row with 4 columns (class id missing)",
    "crlf_bom": "valid label file with CRLF line endings and a UTF-8 byte-order mark (not an error)",
    "missing_label_file": "image with visible objects but no label file (not a deliberate negative)",
    "orphan_label": "label file whose image does not exist",
    "exif_rotated": "JPEG stored landscape with EXIF orientation 6; labels are correct in the oriented "
                    "(portrait) frame the trainer sees (not an error)",
    "swapped_class": "a circle labelled as square (class 1 instead of 0)",
    "missing_box": "an object is visible but has no row",
}

SEVERITY = {
    "class_out_of_range": "error", "duplicate_row": "warning", "non_normalized": "error",
    "negative_coordinate": "error", "zero_width": "warning", "four_columns": "error", "crlf_bom": "ok",
    "missing_label_file": "warning", "orphan_label": "warning", "exif_rotated": "ok",
    "swapped_class": "model", "missing_box": "model",
}


def build_image(i: int) -> tuple[bytes, str | None, dict | None, tuple[int, int]]:
    """Return (jpeg bytes, label file text or None for no file, mistake record or None, oriented size)."""
    rng = np.random.default_rng([SEED, i])
    kind = MISTAKE_IMAGES.get(i)
    if kind == "exif_rotated":
        w, h = EXIF_FRAME
    else:
        w, h = PORTRAIT if rng.random() < 0.2 else LANDSCAPE
    n = 0 if i in NEGATIVES else int(rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6]))
    forced: list[Obj] = []
    if kind == "swapped_class":
        o = Obj(0, w * 0.5, h * 0.5, 64.0, 0.0, (0, 0, 0))
        compute_extent(o)
        forced.append(o)
        n = max(n, 2)
    elif kind == "negative_coordinate":
        o = Obj(2, -4.0, h * 0.5, 76.0, -90.0, (0, 0, 0))  # apex outside the left edge
        compute_extent(o)
        forced.append(o)
        n = max(n, 2)
    elif kind in ("class_out_of_range", "duplicate_row", "non_normalized", "zero_width", "four_columns",
                  "missing_box", "missing_label_file", "crlf_bom", "exif_rotated"):
        n = max(n, 2)
    objs = place_objects(rng, w, h, n, forced)
    if kind is not None and kind != "exif_rotated":
        assert len(objs) >= 2, f"{stem(i)}: a planted mistake needs at least two objects"
    img = render(rng, w, h, objs)
    rows = label_rows(objs, w, h)
    record: dict | None = None
    image = f"images/{stem(i)}.jpg"
    label = f"labels/{stem(i)}.txt"

    def rec(line: int | None, row: str | None, **extra) -> dict:
        d = {"kind": kind, "image": image, "file": label, "line": line,
             "row": row.rstrip("\r\n") if row is not None else None,
             "what": WHAT[kind], "severity": SEVERITY[kind], "ultralytics": CONSEQUENCE[kind]}
        d.update(extra)
        return d

    if kind == "class_out_of_range":
        k = 1
        rows[k] = dump_yolo([objs[k].box().clamped(w, h).with_class(7)], w, h)
        record = rec(k + 1, rows[k], true_class=objs[k].cls)
    elif kind == "duplicate_row":
        rows.insert(2, rows[0])
        record = rec(3, rows[2], duplicate_of_line=1)
    elif kind == "non_normalized":
        k = 0
        b = objs[k].box().clamped(w, h)
        xc, yc, bw, bh = (b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.width, b.height
        rows[k] = f"{b.cls} {fmt_num(xc)} {fmt_num(yc)} {fmt_num(bw)} {fmt_num(bh)}\n"
        record = rec(k + 1, rows[k], correct_row=dump_yolo([b], w, h).rstrip("\n"))
    elif kind == "negative_coordinate":
        k = 0
        rows[k] = dump_yolo([objs[k].box()], w, h)
        record = rec(k + 1, rows[k], correct_row=dump_yolo([objs[k].box().clamped(w, h)], w, h).rstrip("\n"))
    elif kind == "zero_width":
        b = objs[0].box().clamped(w, h)
        x = float(round((b.x1 + b.x2) / 2))
        rows.append(dump_yolo([Box(objs[0].cls, x, b.y1 + 4, x, b.y2 - 4)], w, h))
        record = rec(len(rows), rows[-1])
    elif kind == "four_columns":
        k = len(rows) - 1
        rows[k] = rows[k].split(" ", 1)[1]
        record = rec(k + 1, rows[k], true_class=objs[k].cls)
    elif kind == "crlf_bom":
        record = rec(None, None, encoding="utf-8-sig", newline="\r\n")
    elif kind == "missing_label_file":
        record = rec(None, None, boxes=[_box_record(o, w, h) for o in objs])
    elif kind == "exif_rotated":
        record = rec(None, None, orientation=6, stored_size=[h, w], oriented_size=[w, h])
    elif kind == "swapped_class":
        k = 0
        rows[k] = dump_yolo([objs[k].box().clamped(w, h).with_class(1)], w, h)
        record = rec(k + 1, rows[k], true_class=0, labelled_class=1, box=_box_record(objs[k], w, h))
    elif kind == "missing_box":
        k = max(range(len(objs)), key=lambda j: objs[j].size * clamped_visible(objs[j], w, h))
        missing = objs[k]
        del rows[k]
        record = rec(None, None, box=_box_record(missing, w, h))

    text: str | None = "".join(rows)
    if kind == "missing_label_file":
        text = None
    elif kind == "crlf_bom":
        text = "\ufeff" + text.replace("\n", "\r\n")

    if kind == "exif_rotated":  # orientation 6: the viewer rotates the stored pixels 90 degrees clockwise
        jpeg = with_exif_orientation(encode_jpeg(cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)), 6)
    else:
        jpeg = encode_jpeg(img)
    return jpeg, text, record, (w, h)


def _box_record(o: Obj, w: int, h: int) -> dict:
    b = o.box().clamped(w, h)
    return {"class": o.cls, "xyxy": [b.x1, b.y1, b.x2, b.y2],
            "row": dump_yolo([b], w, h).rstrip("\n")}


README = """\
# labeltrain sample project

{n} synthetic images of three shapes (`circle`, `square`, `triangle`) with YOLO labels, laid out like a
LabelImg folder that Ultralytics can also train from:

    images/sample_0001.jpg ...   labels/sample_0001.txt ...   classes.txt

It is generated, not photographed: `python tools/make_sample.py` draws every image from a fixed seed with
numpy and OpenCV (gradient, texture and noise backgrounds, clutter, 1-6 objects of 18-110 px, some cut by an
edge, some overlapping slightly, {neg} images without objects). Running it again gives identical bytes. Do
not edit these files by hand: change the generator and run it.

The sample contains deliberate label mistakes for the label checker and for model-based error mining; they
are listed in `MISTAKES.md` and, for tests, in `mistakes.json`.

Licence: CC0 1.0 (public domain dedication). No third-party images are included.
"""


def mistakes_markdown(records: list[dict]) -> str:
    out = ["# Planted mistakes in the sample project", "",
           "Generated by `tools/make_sample.py`; the same list is in `mistakes.json`. Lines are 1-based.",
           "Severity: `error` = the trainer rejects the image, `warning` = trained but wrong or suspicious,",
           "`ok` = valid input that tools often get wrong, `model` = only a trained model can find it.", ""]
    for n, r in enumerate(records, 1):
        label = f"`{r['file']}`" + (f" line {r['line']}" if r["line"] else "")
        image = f"`{r['image']}`"
        if r["kind"] == "missing_label_file":
            label += " (does not exist)"
        elif r["kind"] == "orphan_label":
            image += " (does not exist)"
        out.append(f"## {n}. {r['kind']} ({r['severity']})")
        out.append("")
        out.append(f"- where: {label}; image {image}")
        out.append(f"- what: {r['what']}")
        if r["row"] is not None:
            out.append(f"- row: `{r['row']}`")
        for key in ("correct_row", "true_class", "duplicate_of_line", "box", "boxes", "orientation"):
            if key in r:
                out.append(f"- {key.replace('_', ' ')}: `{json.dumps(r[key])}`")
        out.append(f"- Ultralytics: {r['ultralytics']}")
        out.append("")
    return "\n".join(out)


def generate(out: Path) -> list[Path]:
    """Write the sample project into `out` (created if needed); return the files written."""
    images, labels = out / "images", out / "labels"
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    for old in [*images.glob("sample_*.jpg"), *labels.glob("sample_*.txt")]:
        old.unlink()
    written: list[Path] = []

    def put(path: Path, data: bytes) -> None:
        path.write_bytes(data)
        written.append(path)

    records: list[dict] = []
    for i in range(1, N_IMAGES + 1):
        jpeg, text, record, _ = build_image(i)
        put(images / f"{stem(i)}.jpg", jpeg)
        if text is not None:
            put(labels / f"{stem(i)}.txt", text.encode("utf-8"))
        if record is not None:
            records.append(record)

    # the orphan: labels of an image that was deleted or renamed
    rng = np.random.default_rng([SEED, 10_000])
    orphan_objs = place_objects(rng, *LANDSCAPE, 3)
    orphan_rows = label_rows(orphan_objs, *LANDSCAPE)
    put(labels / f"{ORPHAN_STEM}.txt", "".join(orphan_rows).encode("utf-8"))
    records.append({"kind": "orphan_label", "image": f"images/{ORPHAN_STEM}.jpg",
                    "file": f"labels/{ORPHAN_STEM}.txt", "line": None, "row": None,
                    "what": WHAT["orphan_label"], "severity": SEVERITY["orphan_label"],
                    "ultralytics": CONSEQUENCE["orphan_label"]})
    order = list(MISTAKE_IMAGES.values()) + ["orphan_label"]
    records.sort(key=lambda r: order.index(r["kind"]))

    put(out / "classes.txt", "".join(f"{c}\n" for c in CLASSES).encode("utf-8"))
    doc = {"generator": "tools/make_sample.py", "seed": SEED, "classes": list(CLASSES),
           "images": N_IMAGES, "negatives": [f"images/{stem(i)}.jpg" for i in NEGATIVES],
           "mistakes": records}
    put(out / "mistakes.json", (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
    put(out / "MISTAKES.md", mistakes_markdown(records).encode("utf-8"))
    put(out / "README.md", README.format(n=N_IMAGES, neg=len(NEGATIVES)).encode("utf-8"))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "sample",
                        help="output folder (default: resources/sample)")
    args = parser.parse_args(argv)
    files = generate(args.out)
    total = sum(p.stat().st_size for p in files)
    print(f"wrote {len(files)} files, {total / 1e6:.2f} MB, to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
