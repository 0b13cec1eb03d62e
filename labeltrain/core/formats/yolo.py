"""YOLO txt: one `class x_center y_center width height` row per box, normalised to the oriented image size.

Parsing follows the trainer (Ultralytics `verify_image_label`): UTF-8 with or without BOM, any whitespace,
blank lines ignored, rows with more than 6 values are polygons (the trainer turns them into their bounding
box). Anything the trainer would reject is reported as a Problem with the line number; every row that holds
five finite numbers is still returned as a box so the user can see and fix it.
"""

from __future__ import annotations

import math
from pathlib import Path

from labeltrain.core.atomic import atomic_write_text
from labeltrain.core.formats import register
from labeltrain.core.formats.base import LabelFormat, ReadResult, SizeFn, fmt_num, header_size
from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.core.problems import ProblemList, Severity

COORD_TOLERANCE = 0.01  # the trainer accepts coordinates up to 1.01 and down to -0.01


def parse_yolo(text: str, width: int, height: int, classes: ClassNames | None = None,
               file: Path | None = None) -> tuple[list[Box], ProblemList]:
    """Parse YOLO label text for an image of `width` x `height` pixels (oriented)."""
    boxes: list[Box] = []
    problems = ProblemList()
    if text.startswith("\ufeff"):
        text = text[1:]
    nc = len(classes) if classes is not None and len(classes) else None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        fields = raw.split()
        if not fields:
            continue
        try:
            values = [float(f) for f in fields]
        except ValueError:
            problems.add(file, f"not a number in {raw.strip()!r}", line=lineno, rule="yolo.syntax")
            continue
        if not all(math.isfinite(v) for v in values):
            problems.add(file, f"NaN or infinite value in {raw.strip()!r}", line=lineno, rule="yolo.syntax")
            continue
        if len(values) > 6:
            if len(values) % 2 == 0:
                problems.add(file, f"polygon row with an odd number of coordinates ({len(values) - 1})",
                             line=lineno, rule="yolo.columns")
                continue
            xs, ys = values[1::2], values[2::2]
            x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
            values = [values[0], (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
            problems.add(file, "polygon row: the trainer uses its bounding box", line=lineno,
                         severity=Severity.INFO, rule="yolo.polygon")
        elif len(values) != 5:
            problems.add(file, f"labels require 5 columns, {len(values)} columns detected", line=lineno,
                         rule="yolo.columns")
            continue
        cls_value, xc, yc, w, h = values
        if cls_value % 1 != 0:
            problems.add(file, f"non-integer class label {fields[0]}", line=lineno, rule="yolo.class")
            continue
        cls_id = int(cls_value)
        if cls_id < 0:
            problems.add(file, f"negative class label {cls_id}", line=lineno, rule="yolo.class")
        elif nc is not None and cls_id >= nc:
            problems.add(file, f"Label class {cls_id} exceeds dataset class count {nc}. "
                               f"Possible class labels are 0-{nc - 1}", line=lineno, rule="yolo.class")
        coords = (xc, yc, w, h)
        if max(coords) > 1 + COORD_TOLERANCE:
            problems.add(file, "non-normalized or out of bounds coordinates", line=lineno, rule="yolo.range")
        elif min(coords) < -COORD_TOLERANCE or min(w, h) < 0:
            problems.add(file, "negative label values", line=lineno, rule="yolo.range")
        boxes.append(Box.from_xywh_norm(cls_id, xc, yc, w, h, width, height))
    return boxes, problems


def dump_yolo(boxes: list[Box] | tuple[Box, ...], width: int, height: int) -> str:
    """YOLO text for the boxes (no rounding beyond 10 decimals, so values survive a round trip)."""
    rows = []
    for box in boxes:
        xc, yc, w, h = box.xywh_norm(width, height)
        rows.append(f"{box.cls} {fmt_num(xc)} {fmt_num(yc)} {fmt_num(w)} {fmt_num(h)}\n")
    return "".join(rows)


@register
class YoloFormat(LabelFormat):
    name = "yolo"
    title = "YOLO txt"
    suffix = ".txt"

    def read_file(self, label_path: Path, image: Path, classes: ClassNames,
                  size_fn: SizeFn = header_size) -> ReadResult:
        result = ReadResult(classes=classes)
        size = size_fn(image)
        if size is None:
            result.problems.add(image, "image cannot be read, so its labels cannot be placed", rule="image.read")
            return result
        width, height = size
        try:
            text = label_path.read_bytes().decode("utf-8", errors="strict")
        except FileNotFoundError:
            result.annotations.append(Annotation(image, width, height))
            return result
        except UnicodeDecodeError as exc:
            result.problems.add(label_path, f"not UTF-8 text: {exc.reason}", rule="yolo.syntax")
            text = label_path.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            result.problems.add(label_path, f"cannot read label file: {exc}", rule="yolo.syntax")
            result.annotations.append(Annotation(image, width, height))
            return result
        boxes, problems = parse_yolo(text, width, height, classes, label_path)
        result.problems.extend(problems)
        result.annotations.append(Annotation(image, width, height, tuple(boxes)))
        return result

    def write_file(self, label_path: Path, annotation: Annotation, classes: ClassNames,
                   *, allow_clear: bool = False) -> None:
        text = dump_yolo(annotation.boxes, annotation.width, annotation.height)
        atomic_write_text(label_path, text, refuse_empty_over_content=not allow_clear)

    def write_dataset(self, annotations, classes, options):
        from labeltrain.core.classfile import CLASSES_FILE, write_classes_txt

        written = super().write_dataset(annotations, classes, options)
        target = options.label_dir / CLASSES_FILE
        write_classes_txt(target, classes)
        return [*written, target]

    def detect(self, path: Path) -> bool:
        return path.suffix.lower() == ".txt" and path.name != "classes.txt"
