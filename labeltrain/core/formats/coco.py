"""COCO JSON (object detection): one file for many images, boxes as `[x, y, width, height]` in pixels.

Reading: `images[].file_name` is resolved against the image root (by default the JSON's folder, then an
`images` folder beside it). A file name that is absolute or climbs out of the root (`../../etc/passwd`) is
refused with a Problem; symbolic links below the root are followed as the trainer would. Category ids may
be any integers (often starting at 1, with gaps): in order of category id they are merged by name into the
class registry passed in, so an empty registry gives contiguous ids 0, 1, 2... Anything of the wrong type
is a Problem with its JSON path (`$.annotations[3].bbox`) and only that item is skipped; images without
annotations are kept as negatives. `id`, `iscrowd` and `area` of an annotation are kept in `Box.attrs`.

Writing (`write_dataset`) produces `<label_dir>/annotations.json` with **category id = class id + 1**
(COCO reserves 0 for the background in most tools; every class of the registry is listed, used or not),
image ids 1..N in the order given, annotation ids 1..M, `file_name` relative to the image root with
forward slashes, and numbers rounded to 10 decimals (integers when integral), so that reading and writing
the file gives the same text.

The JSON helpers here (`peek_json`, `load_json`, `json_number`, `safe_relative_path`...) are shared by the
other JSON formats (CreateML, labelme).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from labeltrain.core.atomic import atomic_write_text
from labeltrain.core.formats import register
from labeltrain.core.formats.base import LabelFormat, ReadResult, SizeFn, WriteOptions, header_size
from labeltrain.core.formats.voc import check_declared_size, outside_image
from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.core.problems import ProblemList, Severity

PEEK_BYTES = 64 * 1024
ANNOTATIONS_FILE = "annotations.json"
CATEGORY_ID_OFFSET = 1  # written category id = class id + 1
OUT_DECIMALS = 10


# --- JSON helpers shared by the JSON formats ----------------------------------------------------------------
@dataclass(frozen=True)
class JsonPeek:
    """The start of a JSON file: `value` is the parsed document when the whole file fit in the peek and
    parsed (`complete`), `head` the first characters without BOM and leading whitespace."""

    head: str
    complete: bool
    value: Any = None


def peek_json(path: Path) -> JsonPeek | None:
    """Read at most PEEK_BYTES of a `.json` file; None if it cannot be read or is not text. Never raises."""
    if path.suffix.lower() != ".json":
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read(PEEK_BYTES + 1)
    except OSError:
        return None
    truncated = len(data) > PEEK_BYTES
    data = data[:PEEK_BYTES]
    try:
        text = data.decode(json.detect_encoding(data), errors="ignore" if truncated else "strict")
    except (UnicodeDecodeError, LookupError):
        return None
    head = text.lstrip("\ufeff \t\r\n")
    if truncated:
        return JsonPeek(head, False)
    try:
        return JsonPeek(head, True, json.loads(head))
    except (ValueError, RecursionError):
        return JsonPeek(head, False)


def json_key_in(head: str, *keys: str) -> bool:
    """Whether every key appears as `"key":` in the text (a cheap test on a truncated peek)."""
    return all(re.search(rf'"{re.escape(k)}"\s*:', head) for k in keys)


def load_json(path: Path, problems: ProblemList, rule: str) -> tuple[bool, Any]:
    """Parse a whole JSON file; (False, None) with a Problem (line number) when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.add(path, f"cannot read file: {exc}", line=1, rule=rule)
        return False, None
    if not data.strip():
        problems.add(path, "empty file: no JSON document", line=1, rule=rule)
        return False, None
    try:
        text = data.decode(json.detect_encoding(data))
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        problems.add(path, f"not UTF-8 text: {exc.reason} at byte {exc.start}", line=line, rule=rule)
        return False, None
    except LookupError as exc:
        problems.add(path, f"unknown text encoding: {exc}", line=1, rule=rule)
        return False, None
    try:
        return True, json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        problems.add(path, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno, rule=rule)
    except RecursionError:
        problems.add(path, "not valid JSON: nested too deeply", line=1, rule=rule)
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        problems.add(path, f"not valid JSON: {exc}", line=1, rule=rule)
    return False, None


def json_number(value: Any) -> float | None:
    """A finite JSON number as float; None for anything else (strings, booleans, null, NaN, huge ints)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def json_int(value: Any) -> int | None:
    """A JSON integer (an integral float such as 640.0 is accepted); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def out_num(value: float) -> int | float:
    """A number as written: rounded to 10 decimals, an int when integral (so text survives a round trip)."""
    rounded = round(float(value), OUT_DECIMALS)
    if rounded.is_integer() and abs(rounded) < 2 ** 53:
        return int(rounded)
    return rounded


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)


def safe_relative_path(name: str) -> PurePosixPath | None:
    """`name` as a relative path that stays inside its root, or None when it is absolute, empty or climbs
    out (`..` beyond the top). Backslashes count as separators (files written on Windows)."""
    if not name or "\x00" in name:
        return None
    win = PureWindowsPath(name)
    if win.drive or win.root:
        return None
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return PurePosixPath(*parts) if parts else None


def image_roots(collection: Path, image_root: Path | None) -> list[Path]:
    """Folders an image name of a collection file is looked up in."""
    if image_root is not None:
        return [image_root]
    return [collection.parent, collection.parent / "images"]


def locate_image(roots: Sequence[Path], rel: PurePosixPath) -> Path:
    """The first root holding `rel`, else the path below the first root."""
    for root in roots:
        candidate = root.joinpath(*rel.parts)
        if candidate.exists():
            return candidate
    return roots[0].joinpath(*rel.parts)


def relative_image_name(image: Path, image_root: Path) -> str:
    """Image path relative to the root, with forward slashes; ValueError if it is not below the root."""
    try:
        return image.resolve().relative_to(image_root.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"image {image} is not inside the image root {image_root}") from None


# --- COCO ---------------------------------------------------------------------------------------------------
def _list_field(doc: dict, key: str, path: Path, problems: ProblemList, rule: str) -> list:
    value = doc.get(key)
    if value is None:
        problems.add(path, f"no {key!r} list", where=f"$.{key}", rule=rule)
        return []
    if not isinstance(value, list):
        problems.add(path, f"{key!r} is a {type_name(value)}, not an array", where=f"$.{key}", rule=rule)
        return []
    return value


def _read_categories(items: list, path: Path, classes: ClassNames,
                     problems: ProblemList) -> tuple[dict[int, int], ClassNames]:
    found: dict[int, str] = {}
    for i, cat in enumerate(items):
        where = f"$.categories[{i}]"
        if not isinstance(cat, dict):
            problems.add(path, f"category is a {type_name(cat)}, not an object; skipped", where=where,
                         rule="coco.category")
            continue
        cat_id = json_int(cat.get("id"))
        if cat_id is None:
            problems.add(path, f"category id must be an integer, not {cat.get('id')!r}; skipped",
                         where=f"{where}.id", rule="coco.category")
            continue
        if cat_id in found:
            problems.add(path, f"category id {cat_id} is listed twice; the second is ignored",
                         where=f"{where}.id", rule="coco.category")
            continue
        name = cat.get("name")
        if not isinstance(name, str) or not name.strip():
            name = f"category{cat_id}"
            problems.add(path, f"category {cat_id} has no usable name; calling it {name!r}",
                         where=f"{where}.name", severity=Severity.WARNING, rule="coco.category")
        found[cat_id] = name.strip()
    mapping: dict[int, int] = {}
    seen_names: dict[str, int] = {}
    for cat_id in sorted(found):
        name = found[cat_id]
        if name in seen_names:
            problems.add(path, f"categories {seen_names[name]} and {cat_id} are both named {name!r}; "
                               "they become one class", where="$.categories", severity=Severity.WARNING,
                         rule="coco.category")
        seen_names.setdefault(name, cat_id)
        classes, mapping[cat_id] = classes.with_name(name)
    return mapping, classes


def _read_bbox(ann: dict, where: str, path: Path, problems: ProblemList) -> tuple[float, ...] | None:
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        what = f"{len(bbox)} values" if isinstance(bbox, list) else type_name(bbox) if "bbox" in ann else "missing"
        problems.add(path, f"bbox must be [x, y, width, height], got {what}; skipped", where=f"{where}.bbox",
                     rule="coco.bbox")
        return None
    values = tuple(json_number(v) for v in bbox)
    if any(v is None for v in values):
        problems.add(path, f"bbox values must be finite numbers, got {bbox!r}; skipped", where=f"{where}.bbox",
                     rule="coco.bbox")
        return None
    return values  # type: ignore[return-value]


@register
class CocoFormat(LabelFormat):
    name = "coco"
    title = "COCO JSON"
    suffix = ".json"
    per_image = False
    can_write_per_image = False
    dataset_file = ANNOTATIONS_FILE

    def read_collection(self, path: Path, image_root: Path | None, classes: ClassNames,
                        size_fn: SizeFn = header_size) -> ReadResult:
        result = ReadResult(classes=classes)
        problems = result.problems
        ok, doc = load_json(path, problems, "coco.syntax")
        if not ok:
            return result
        if not isinstance(doc, dict):
            problems.add(path, f"top level is a {type_name(doc)}, not an object with 'images' and "
                               "'annotations'", where="$", rule="coco.syntax")
            return result
        mapping, result.classes = _read_categories(_list_field(doc, "categories", path, problems, "coco.syntax"),
                                                   path, classes, problems)
        roots = image_roots(path, image_root)
        order: list[int] = []
        images: dict[int, tuple[Path, int, int]] = {}
        skipped: set[int] = set()
        for i, img in enumerate(_list_field(doc, "images", path, problems, "coco.syntax")):
            where = f"$.images[{i}]"
            if not isinstance(img, dict):
                problems.add(path, f"image entry is a {type_name(img)}, not an object; skipped", where=where,
                             rule="coco.image")
                continue
            img_id = json_int(img.get("id"))
            if img_id is None:
                problems.add(path, f"image id must be an integer, not {img.get('id')!r}; skipped",
                             where=f"{where}.id", rule="coco.image")
                continue
            if img_id in images or img_id in skipped:
                problems.add(path, f"image id {img_id} is used twice; the second entry is skipped",
                             where=f"{where}.id", rule="coco.image")
                continue
            entry = self._read_image(img, where, path, roots, size_fn, problems)
            if entry is None:
                skipped.add(img_id)
                continue
            images[img_id] = entry
            order.append(img_id)
        boxes: dict[int, list[Box]] = {img_id: [] for img_id in order}
        for i, ann in enumerate(_list_field(doc, "annotations", path, problems, "coco.syntax")):
            where = f"$.annotations[{i}]"
            if not isinstance(ann, dict):
                problems.add(path, f"annotation is a {type_name(ann)}, not an object; skipped", where=where,
                             rule="coco.annotation")
                continue
            img_id = json_int(ann.get("image_id"))
            if img_id is None or img_id not in images:
                if img_id not in skipped:
                    problems.add(path, f"annotation refers to unknown image id {ann.get('image_id')!r}; skipped",
                                 where=f"{where}.image_id", rule="coco.annotation")
                continue
            cat_id = json_int(ann.get("category_id"))
            if cat_id is None or cat_id not in mapping:
                problems.add(path, f"annotation refers to unknown category id {ann.get('category_id')!r}; "
                                   "skipped", where=f"{where}.category_id", rule="coco.annotation")
                continue
            bbox = _read_bbox(ann, where, path, problems)
            if bbox is None:
                continue
            x, y, w, h = bbox
            if w < 0 or h < 0:
                problems.add(path, f"bbox has a negative size {w} x {h}", where=f"{where}.bbox", rule="coco.bbox")
            elif w == 0 or h == 0:
                problems.add(path, "bbox has zero width or height", where=f"{where}.bbox",
                             severity=Severity.WARNING, rule="coco.bbox")
            attrs: dict[str, Any] = {}
            for key in ("id", "iscrowd"):
                value = json_int(ann.get(key))
                if value is not None:
                    attrs[key] = value
            area = json_number(ann.get("area"))
            if area is not None:
                attrs["area"] = area
            box = Box.from_xywh(mapping[cat_id], x, y, w, h, **attrs)
            image, width, height = images[img_id]
            if outside_image(box, width, height):
                problems.add(path, f"bbox extends outside the {width}x{height} image {image.name}",
                             where=f"{where}.bbox", severity=Severity.WARNING, rule="coco.range")
            boxes[img_id].append(box)
        for img_id in order:
            image, width, height = images[img_id]
            result.annotations.append(Annotation(image, width, height, tuple(boxes[img_id])))
        return result

    @staticmethod
    def _read_image(img: dict, where: str, path: Path, roots: list[Path], size_fn: SizeFn,
                    problems: ProblemList) -> tuple[Path, int, int] | None:
        name = img.get("file_name")
        if not isinstance(name, str):
            problems.add(path, f"file_name must be a string, not {type_name(name)}; image skipped",
                         where=f"{where}.file_name", rule="coco.image")
            return None
        rel = safe_relative_path(name)
        if rel is None:
            problems.add(path, f"file_name {name!r} is absolute, empty or points outside the image folder; "
                               "image skipped", where=f"{where}.file_name", rule="coco.path")
            return None
        image = locate_image(roots, rel)
        declared: tuple[int, int] | None = None
        w, h = json_int(img.get("width")), json_int(img.get("height"))
        if w is None or h is None or w <= 0 or h <= 0:
            problems.add(path, f"width/height must be positive integers, not {img.get('width')!r} x "
                               f"{img.get('height')!r}", where=f"{where}.width", severity=Severity.WARNING,
                         rule="coco.image")
        else:
            declared = (w, h)
        size = size_fn(image)
        if size is None:
            if declared is None:
                problems.add(path, f"image {rel} cannot be read and has no valid size; skipped", where=where,
                             rule="image.read")
                return None
            problems.add(path, f"image {rel} cannot be read; using the size in the JSON", where=where,
                         rule="image.read")
            return image, declared[0], declared[1]
        mismatch = check_declared_size(declared, size, path, where, image, "coco.size")
        if mismatch is not None:
            problems.append(mismatch)
        return image, size[0], size[1]

    def write_dataset(self, annotations: Sequence[Annotation], classes: ClassNames,
                      options: WriteOptions) -> list[Path]:
        used = {b.cls for a in annotations for b in a.boxes}
        cat_ids = sorted(set(range(len(classes))) | used)
        categories = [{"id": c + CATEGORY_ID_OFFSET, "name": classes.name(c) if 0 <= c < len(classes)
                       else f"class{c}", "supercategory": ""} for c in cat_ids]
        images, anns = [], []
        for img_id, ann in enumerate(annotations, start=1):
            images.append({"id": img_id, "file_name": relative_image_name(ann.image_path, options.image_root),
                           "width": ann.width, "height": ann.height})
            for box in ann.boxes:
                x, y = out_num(box.x1), out_num(box.y1)
                w, h = out_num(box.x2 - box.x1), out_num(box.y2 - box.y1)
                anns.append({"id": len(anns) + 1, "image_id": img_id, "category_id": box.cls + CATEGORY_ID_OFFSET,
                             "bbox": [x, y, w, h], "area": out_num(w * h),
                             "iscrowd": 1 if json_int(box.attrs.get("iscrowd")) == 1 else 0, "segmentation": []})
        doc = {"info": {"description": "written by labeltrain"}, "images": images, "annotations": anns,
               "categories": categories}
        target = options.label_dir / ANNOTATIONS_FILE
        atomic_write_text(target, dump_json(doc))
        return [target]

    def detect(self, path: Path) -> bool:
        peek = peek_json(path)
        if peek is None:
            return False
        if peek.complete:
            return isinstance(peek.value, dict) and "images" in peek.value and "annotations" in peek.value
        return peek.head.startswith("{") and json_key_in(peek.head, "images") and (
            json_key_in(peek.head, "annotations") or json_key_in(peek.head, "file_name"))
