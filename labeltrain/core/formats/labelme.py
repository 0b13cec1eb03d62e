"""labelme JSON: one `<image stem>.json` per image with a list of `shapes` in pixels.

Read: `rectangle` shapes (two opposite corners in any order) are boxes; a `polygon` becomes its bounding
box (an info Problem says so, as the trainer would do the same with a polygon row); other shape types
(point, line, linestrip, circle, mask...) are not boxes and are skipped with a warning. `imageWidth` /
`imageHeight` are checked against the image's oriented header size like VOC's `<size>`. `group_id` and
`description` are kept in `Box.attrs`.

Write: a minimal valid labelme file (rectangles only, `imageData` null, `imagePath` relative to the label
file), numbers rounded to 10 decimals (integers when integral), so reading and writing gives the same text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from labeltrain.core.atomic import EmptyOverwriteError, atomic_write_text
from labeltrain.core.formats import register
from labeltrain.core.formats.base import LabelFormat, ReadResult, SizeFn, header_size
from labeltrain.core.formats.coco import (
    dump_json,
    json_int,
    json_key_in,
    json_number,
    load_json,
    out_num,
    peek_json,
    type_name,
)
from labeltrain.core.formats.voc import check_declared_size, outside_image
from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.core.problems import ProblemList, Severity

LABELME_VERSION = "5.4.1"


def _points(raw: Any, where: str, path: Path, problems: ProblemList) -> list[tuple[float, float]] | None:
    if not isinstance(raw, list):
        problems.add(path, f"points must be an array, not {type_name(raw)}; skipped", where=where,
                     rule="labelme.shape")
        return None
    points: list[tuple[float, float]] = []
    for k, point in enumerate(raw):
        xy = [json_number(v) for v in point] if isinstance(point, list) and len(point) == 2 else None
        if xy is None or None in xy:
            problems.add(path, f"point must be [x, y] with finite numbers, not {point!r}; shape skipped",
                         where=f"{where}[{k}]", rule="labelme.shape")
            return None
        points.append((xy[0], xy[1]))  # type: ignore[arg-type]
    return points


def _read_shape(shape: Any, where: str, path: Path, classes: ClassNames,
                problems: ProblemList) -> tuple[Box | None, ClassNames]:
    if not isinstance(shape, dict):
        problems.add(path, f"shape is a {type_name(shape)}, not an object; skipped", where=where,
                     rule="labelme.shape")
        return None, classes
    label = shape.get("label")
    if not isinstance(label, str) or not label.strip():
        problems.add(path, f"label must be a non-empty string, not {label!r}; skipped", where=f"{where}.label",
                     rule="labelme.shape")
        return None, classes
    shape_type = shape.get("shape_type") or "polygon"  # labelme's default when the key is null or missing
    if shape_type not in ("rectangle", "polygon"):
        problems.add(path, f"{shape_type!s} shape {label!r} is not a box; skipped", where=f"{where}.shape_type",
                     severity=Severity.WARNING, rule="labelme.shape_type")
        return None, classes
    points = _points(shape.get("points"), f"{where}.points", path, problems)
    if points is None:
        return None, classes
    if shape_type == "rectangle" and len(points) < 2:
        problems.add(path, f"rectangle {label!r} needs 2 points, has {len(points)}; skipped",
                     where=f"{where}.points", rule="labelme.shape")
        return None, classes
    if shape_type == "polygon" and len(points) < 3:
        problems.add(path, f"polygon {label!r} needs at least 3 points, has {len(points)}; skipped",
                     where=f"{where}.points", rule="labelme.shape")
        return None, classes
    if shape_type == "polygon":
        problems.add(path, f"polygon {label!r}: its bounding box is used", where=where, severity=Severity.INFO,
                     rule="labelme.polygon")
    elif len(points) > 2:
        problems.add(path, f"rectangle {label!r} has {len(points)} points; their bounding box is used",
                     where=f"{where}.points", severity=Severity.WARNING, rule="labelme.shape")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    attrs: dict[str, Any] = {}
    group_id = json_int(shape.get("group_id"))
    if group_id is not None:
        attrs["group_id"] = group_id
    description = shape.get("description")
    if isinstance(description, str) and description:
        attrs["description"] = description
    classes, cls_id = classes.with_name(label.strip())
    return Box(cls_id, min(xs), min(ys), max(xs), max(ys), attrs), classes


def _relative_image_path(image: Path, label_path: Path) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(image), os.path.abspath(label_path.parent))
    except ValueError:  # another drive on Windows
        return image.name
    return rel.replace(os.sep, "/")


def dump_labelme(annotation: Annotation, classes: ClassNames, image_path: str) -> str:
    shapes = []
    for box in annotation.boxes:
        group_id = json_int(box.attrs.get("group_id"))
        description = box.attrs.get("description")
        shapes.append({"label": classes.name(box.cls),
                       "points": [[out_num(box.x1), out_num(box.y1)], [out_num(box.x2), out_num(box.y2)]],
                       "group_id": group_id, "description": description if isinstance(description, str) else "",
                       "shape_type": "rectangle", "flags": {}})
    doc = {"version": LABELME_VERSION, "flags": {}, "shapes": shapes, "imagePath": image_path,
           "imageData": None, "imageHeight": annotation.height, "imageWidth": annotation.width}
    return dump_json(doc)


def _has_shapes(path: Path) -> bool:
    """Whether the existing file could hold boxes (anything but missing, blank, or a labelme file with an
    empty shape list)."""
    try:
        if not path.read_bytes().strip():
            return False
    except FileNotFoundError:
        return False
    except OSError:
        return True
    ok, doc = load_json(path, ProblemList(), "labelme.syntax")
    return not (ok and isinstance(doc, dict) and doc.get("shapes") == [])


@register
class LabelmeFormat(LabelFormat):
    name = "labelme"
    title = "labelme JSON"
    suffix = ".json"

    def read_file(self, label_path: Path, image: Path, classes: ClassNames,
                  size_fn: SizeFn = header_size) -> ReadResult:
        result = ReadResult(classes=classes)
        problems = result.problems
        size = size_fn(image)
        doc: Any = None
        if label_path.exists():
            ok, doc = load_json(label_path, problems, "labelme.syntax")
            if ok and not isinstance(doc, dict):
                problems.add(label_path, f"top level is a {type_name(doc)}, not an object with 'shapes'",
                             where="$", rule="labelme.syntax")
            if not isinstance(doc, dict):
                doc = None
        declared = None
        if doc is not None:
            w, h = json_int(doc.get("imageWidth")), json_int(doc.get("imageHeight"))
            if w is not None and h is not None and w > 0 and h > 0:
                declared = (w, h)
            else:
                problems.add(label_path, f"imageWidth/imageHeight must be positive integers, not "
                                         f"{doc.get('imageWidth')!r} x {doc.get('imageHeight')!r}",
                             where="$.imageWidth", severity=Severity.WARNING, rule="labelme.size")
        if size is None:
            if declared is None:
                problems.add(image, "image cannot be read, so its labels cannot be placed", rule="image.read")
                return result
            problems.add(image, "image cannot be read; using the size written in the JSON", rule="image.read")
            size = declared
        else:
            mismatch = check_declared_size(declared, size, label_path, "$.imageWidth", image, "labelme.size")
            if mismatch is not None:
                problems.append(mismatch)
        width, height = size
        boxes: list[Box] = []
        if doc is not None:
            shapes = doc.get("shapes")
            if not isinstance(shapes, list):
                what = type_name(shapes) if "shapes" in doc else "missing"
                problems.add(label_path, f"shapes must be an array, got {what}", where="$.shapes",
                             rule="labelme.syntax")
                shapes = []
            for i, shape in enumerate(shapes):
                where = f"$.shapes[{i}]"
                box, result.classes = _read_shape(shape, where, label_path, result.classes, problems)
                if box is None:
                    continue
                if box.x1 == box.x2 or box.y1 == box.y2:
                    problems.add(label_path, "box has zero width or height", where=where,
                                 severity=Severity.WARNING, rule="labelme.shape")
                if outside_image(box, width, height):
                    problems.add(label_path, f"box extends outside the {width}x{height} image", where=where,
                                 severity=Severity.WARNING, rule="labelme.range")
                boxes.append(box)
        result.annotations.append(Annotation(image, width, height, tuple(boxes)))
        return result

    def write_file(self, label_path: Path, annotation: Annotation, classes: ClassNames,
                   *, allow_clear: bool = False) -> None:
        if not annotation.boxes and not allow_clear and _has_shapes(label_path):
            raise EmptyOverwriteError(f"{label_path}: refusing to replace a file with shapes by one without")
        text = dump_labelme(annotation, classes, _relative_image_path(annotation.image_path, label_path))
        atomic_write_text(label_path, text)

    def detect(self, path: Path) -> bool:
        peek = peek_json(path)
        if peek is None:
            return False
        if peek.complete:
            doc = peek.value
            return isinstance(doc, dict) and "shapes" in doc and not ("images" in doc and "annotations" in doc)
        return peek.head.startswith("{") and json_key_in(peek.head, "shapes")
