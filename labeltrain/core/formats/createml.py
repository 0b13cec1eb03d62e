"""CreateML JSON: a list of `{"image", "verified", "annotations": [{"label", "coordinates"}]}` entries, the
coordinates being the box *centre* `x`, `y` and its `width`, `height` in pixels. `verified` is LabelImg's
extension.

Two layouts, one format:
- LabelImg's per-image file `<image stem>.json`: a list holding the entry of that image (`read_file`
  picks the entry whose `image` is the image's file name, or the only entry; `write_file` replaces that
  entry and keeps any other entries in the file, as LabelImg does);
- a collection file for many images (`read_collection`; `write_dataset` writes
  `<label_dir>/createml.json` with image paths relative to the image root, forward slashes).

CreateML stores no image size: boxes are placed on the image's oriented size from its header. Numbers are
written rounded to 10 decimals (integers when integral), so reading and writing a file gives the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from labeltrain.core.atomic import EmptyOverwriteError, atomic_write_text
from labeltrain.core.formats import register
from labeltrain.core.formats.base import LabelFormat, ReadResult, SizeFn, WriteOptions, header_size
from labeltrain.core.formats.coco import (
    dump_json,
    image_roots,
    json_key_in,
    json_number,
    load_json,
    locate_image,
    out_num,
    peek_json,
    relative_image_name,
    safe_relative_path,
    type_name,
)
from labeltrain.core.formats.voc import outside_image
from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.core.problems import ProblemList, Severity

COLLECTION_FILE = "createml.json"
COORD_KEYS = ("x", "y", "width", "height")


def _same_image(entry_image: Any, name: str) -> bool:
    if not isinstance(entry_image, str):
        return False
    return entry_image == name or PurePosixPath(entry_image.replace("\\", "/")).name == name


def select_entry(doc: list, image_name: str) -> tuple[int | None, list[int]]:
    """Index of the entry for `image_name` (by name, else the only entry) and the other indexes that
    name the same image (duplicates)."""
    matches = [i for i, e in enumerate(doc) if isinstance(e, dict) and _same_image(e.get("image"), image_name)]
    if matches:
        return matches[0], matches[1:]
    if len(doc) == 1 and isinstance(doc[0], dict):
        return 0, []
    return None, []


def read_entry(entry: dict, where: str, path: Path, classes: ClassNames, width: int, height: int,
               problems: ProblemList) -> tuple[list[Box], bool, ClassNames]:
    """Boxes and verified flag of one entry (pixel coordinates; the image is `width` x `height`)."""
    verified = entry.get("verified", False)
    if not isinstance(verified, bool):
        problems.add(path, f"verified must be true or false, not {verified!r}", where=f"{where}.verified",
                     severity=Severity.WARNING, rule="createml.syntax")
        verified = False
    anns = entry.get("annotations")
    if not isinstance(anns, list):
        what = type_name(anns) if "annotations" in entry else "missing"
        problems.add(path, f"annotations must be an array, got {what}", where=f"{where}.annotations",
                     rule="createml.syntax")
        return [], verified, classes
    boxes: list[Box] = []
    for j, ann in enumerate(anns):
        awhere = f"{where}.annotations[{j}]"
        if not isinstance(ann, dict):
            problems.add(path, f"annotation is a {type_name(ann)}, not an object; skipped", where=awhere,
                         rule="createml.box")
            continue
        label = ann.get("label")
        if not isinstance(label, str) or not label.strip():
            problems.add(path, f"label must be a non-empty string, not {label!r}; skipped",
                         where=f"{awhere}.label", rule="createml.box")
            continue
        coords = ann.get("coordinates")
        if not isinstance(coords, dict):
            what = type_name(coords) if "coordinates" in ann else "missing"
            problems.add(path, f"coordinates must be an object with x, y, width, height, got {what}; skipped",
                         where=f"{awhere}.coordinates", rule="createml.box")
            continue
        values: list[float] = []
        for key in COORD_KEYS:
            value = json_number(coords.get(key))
            if value is None:
                problems.add(path, f"coordinates.{key} must be a finite number, not {coords.get(key)!r}; skipped",
                             where=f"{awhere}.coordinates.{key}", rule="createml.box")
                break
            values.append(value)
        else:
            x, y, w, h = values
            classes, cls_id = classes.with_name(label.strip())
            box = Box(cls_id, x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if w < 0 or h < 0:
                problems.add(path, f"negative box size {w} x {h}", where=f"{awhere}.coordinates",
                             rule="createml.box")
            elif w == 0 or h == 0:
                problems.add(path, "box has zero width or height", where=f"{awhere}.coordinates",
                             severity=Severity.WARNING, rule="createml.box")
            if outside_image(box, width, height):
                problems.add(path, f"box extends outside the {width}x{height} image",
                             where=f"{awhere}.coordinates", severity=Severity.WARNING, rule="createml.range")
            boxes.append(box)
    return boxes, verified, classes


def _has_content(path: Path) -> bool:
    try:
        return bool(path.read_bytes().strip())
    except FileNotFoundError:
        return False
    except OSError:
        return True


def dump_entry(annotation: Annotation, classes: ClassNames, image_name: str) -> dict[str, Any]:
    anns = []
    for box in annotation.boxes:
        anns.append({"label": classes.name(box.cls),
                     "coordinates": {"x": out_num((box.x1 + box.x2) / 2), "y": out_num((box.y1 + box.y2) / 2),
                                     "width": out_num(box.x2 - box.x1), "height": out_num(box.y2 - box.y1)}})
    return {"image": image_name, "verified": bool(annotation.verified), "annotations": anns}


@register
class CreateMLFormat(LabelFormat):
    name = "createml"
    dataset_file = COLLECTION_FILE
    title = "CreateML JSON"
    suffix = ".json"

    def read_file(self, label_path: Path, image: Path, classes: ClassNames,
                  size_fn: SizeFn = header_size) -> ReadResult:
        result = ReadResult(classes=classes)
        size = size_fn(image)
        if size is None:
            result.problems.add(image, "image cannot be read, so its labels cannot be placed", rule="image.read")
            return result
        width, height = size
        empty = Annotation(image, width, height)
        if not label_path.exists():
            result.annotations.append(empty)
            return result
        ok, doc = load_json(label_path, result.problems, "createml.syntax")
        if not ok:
            result.annotations.append(empty)
            return result
        if isinstance(doc, dict):
            doc = [doc]
            result.problems.add(label_path, "top level is a single object, not an array of entries", where="$",
                                severity=Severity.WARNING, rule="createml.syntax")
        if not isinstance(doc, list):
            result.problems.add(label_path, f"top level is a {type_name(doc)}, not an array of entries",
                                where="$", rule="createml.syntax")
            result.annotations.append(empty)
            return result
        index, duplicates = select_entry(doc, image.name)
        if index is None:
            if doc:
                result.problems.add(label_path, f"none of the {len(doc)} entries is for {image.name}", where="$",
                                    rule="createml.syntax")
            result.annotations.append(empty)
            return result
        where = f"$[{index}]"
        entry = doc[index]
        for dup in duplicates:
            result.problems.add(label_path, f"a second entry for {image.name}; ignored", where=f"$[{dup}]",
                                severity=Severity.WARNING, rule="createml.syntax")
        if not _same_image(entry.get("image"), image.name):
            result.problems.add(label_path, f"the entry names image {entry.get('image')!r}, not {image.name!r}",
                                where=f"{where}.image", severity=Severity.INFO, rule="createml.image")
        boxes, verified, result.classes = read_entry(entry, where, label_path, classes, width, height,
                                                     result.problems)
        result.annotations.append(Annotation(image, width, height, tuple(boxes), verified))
        return result

    def read_collection(self, path: Path, image_root: Path | None, classes: ClassNames,
                        size_fn: SizeFn = header_size) -> ReadResult:
        result = ReadResult(classes=classes)
        problems = result.problems
        ok, doc = load_json(path, problems, "createml.syntax")
        if not ok:
            return result
        if not isinstance(doc, list):
            problems.add(path, f"top level is a {type_name(doc)}, not an array of entries", where="$",
                         rule="createml.syntax")
            return result
        roots = image_roots(path, image_root)
        seen: set[PurePosixPath] = set()
        for i, entry in enumerate(doc):
            where = f"$[{i}]"
            if not isinstance(entry, dict):
                problems.add(path, f"entry is a {type_name(entry)}, not an object; skipped", where=where,
                             rule="createml.syntax")
                continue
            name = entry.get("image")
            rel = safe_relative_path(name) if isinstance(name, str) else None
            if rel is None:
                problems.add(path, f"image {name!r} is not a relative path inside the image folder; skipped",
                             where=f"{where}.image", rule="createml.path")
                continue
            if rel in seen:
                problems.add(path, f"image {rel} has a second entry; skipped", where=f"{where}.image",
                             rule="createml.syntax")
                continue
            seen.add(rel)
            image = locate_image(roots, rel)
            size = size_fn(image)
            if size is None:
                problems.add(path, f"image {rel} cannot be read, so its labels cannot be placed; skipped",
                             where=f"{where}.image", rule="image.read")
                continue
            boxes, verified, result.classes = read_entry(entry, where, path, result.classes, size[0], size[1],
                                                         problems)
            result.annotations.append(Annotation(image, size[0], size[1], tuple(boxes), verified))
        return result

    def write_file(self, label_path: Path, annotation: Annotation, classes: ClassNames,
                   *, allow_clear: bool = False) -> None:
        name = annotation.image_path.name
        entry = dump_entry(annotation, classes, name)
        existing: list = []
        if _has_content(label_path):
            ok, doc = load_json(label_path, ProblemList(), "createml.syntax")
            if ok and isinstance(doc, list):
                existing = doc
            elif not annotation.boxes and not allow_clear:
                raise EmptyOverwriteError(f"{label_path}: refusing to replace an unreadable file with an "
                                          "empty one")
        index, duplicates = select_entry(existing, name)
        if index is not None:
            old = existing[index]
            had_boxes = isinstance(old, dict) and bool(old.get("annotations"))
            if had_boxes and not annotation.boxes and not allow_clear:
                raise EmptyOverwriteError(f"{label_path}: refusing to replace the boxes of {name} with none")
            entries = [entry if i == index else e for i, e in enumerate(existing) if i not in duplicates]
        else:
            entries = [*existing, entry]
        atomic_write_text(label_path, dump_json(entries))

    def write_dataset(self, annotations: Sequence[Annotation], classes: ClassNames,
                      options: WriteOptions) -> list[Path]:
        entries = [dump_entry(a, classes, relative_image_name(a.image_path, options.image_root))
                   for a in annotations]
        target = options.label_dir / COLLECTION_FILE
        atomic_write_text(target, dump_json(entries))
        return [target]

    def detect(self, path: Path) -> bool:
        peek = peek_json(path)
        if peek is None:
            return False
        if peek.complete:
            doc = peek.value
            return (isinstance(doc, list) and bool(doc) and isinstance(doc[0], dict)
                    and "image" in doc[0] and "annotations" in doc[0])
        return peek.head.startswith("[") and peek.head[1:].lstrip().startswith("{") and json_key_in(
            peek.head, "image", "annotations")
