"""Rewrite one label file's bytes for a class change, touching nothing but the class references.

- YOLO txt refers to classes by id: only the first column of a row changes (the rest of the row, polygon rows,
  spacing and line endings are kept); rows of a deleted class are removed. Ids outside the old class list are
  kept as they are and reported (never remapped onto a real class); rows whose first column is not an id are
  kept and reported.
- Pascal VOC, CreateML and labelme refer to classes by name: renamed or merged names change, objects of a
  deleted class are removed, a reorder changes nothing. Names that are not in the class list are kept.
A file that cannot be parsed safely is reported and left alone (None is returned).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from labeltrain.core.formats.coco import dump_json
from labeltrain.core.formats.voc import parse_xml_safely
from labeltrain.core.problems import ProblemList

__all__ = ["rewrite_yolo", "rewrite_voc", "rewrite_json", "rewrite_label_bytes", "NAME_BASED"]

NAME_BASED = ("voc", "createml", "labelme")
_BOM = "\ufeff"


def rewrite_yolo(data: bytes, mapping: Sequence[int | None], path: Path | None,
                 problems: ProblemList) -> bytes | None:
    """`mapping[old_id]` is the new id or None (row removed). Returns the new bytes (== data if unchanged)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(path, f"not UTF-8 text ({exc.reason}); file not rewritten, its class ids are unchanged",
                     rule="classes.unreadable")
        return None
    bom = _BOM if text.startswith(_BOM) else ""
    text = text[len(bom):]
    nc = len(mapping)
    out: list[str] = []
    changed = False
    for lineno, line in enumerate(text.splitlines(keepends=True), start=1):
        body = line.lstrip()
        if not body.strip():
            out.append(line)
            continue
        token = body.split(None, 1)[0]
        try:
            value = float(token)
            cls_id = int(value) if math.isfinite(value) and value == int(value) else None
        except ValueError:
            cls_id = None
        if cls_id is None:
            problems.add(path, f"first column {token!r} is not a class id; row kept as it is", line=lineno,
                         rule="classes.bad_row")
            out.append(line)
            continue
        if not 0 <= cls_id < nc:
            problems.add(path, f"unknown class id {cls_id} (the class list had {nc}); row kept as it is",
                         line=lineno, rule="classes.unknown_id")
            out.append(line)
            continue
        new = mapping[cls_id]
        if new is None:
            changed = True
        elif new != cls_id:
            out.append(line[:len(line) - len(body)] + str(new) + body[len(token):])
            changed = True
        else:
            out.append(line)
    return (bom + "".join(out)).encode("utf-8") if changed else data


def rewrite_voc(data: bytes, names: Mapping[str, str | None], path: Path | None,
                problems: ProblemList) -> bytes | None:
    """`names[old]` is the new name or None (object removed); other names are kept."""
    found = ProblemList()
    root = parse_xml_safely(data, path, found)
    if root is None or found.errors():
        problems.add(path, "not a well-formed XML file; not rewritten, its class names are unchanged",
                     rule="classes.unreadable")
        return None
    changed = False
    for obj in root.findall("object"):
        name_el = obj.find("name")
        name = (name_el.text or "").strip() if name_el is not None else ""
        if name not in names:
            continue
        changed = True
        new = names[name]
        if new is not None:
            name_el.text = new  # type: ignore[union-attr]
            continue
        prev = obj.getprevious()
        if prev is not None:
            prev.tail = obj.tail
        root.remove(obj)
    if not changed:
        return data
    tree = root.getroottree()
    declaration = data.lstrip().startswith(b"<?xml")
    out = etree.tostring(tree, encoding=tree.docinfo.encoding or "UTF-8", xml_declaration=declaration)
    if data.rstrip(b" \t").endswith(b"\n") and not out.endswith(b"\n"):
        out += b"\n"
    return out


def _label_holders(doc: Any, fmt: str) -> list[list]:
    """The lists of {"label": ...} objects of a CreateML or labelme document."""
    if fmt == "labelme":
        shapes = doc.get("shapes") if isinstance(doc, dict) else None
        return [shapes] if isinstance(shapes, list) else []
    entries = doc if isinstance(doc, list) else [doc]
    return [e["annotations"] for e in entries if isinstance(e, dict) and isinstance(e.get("annotations"), list)]


def rewrite_json(data: bytes, names: Mapping[str, str | None], fmt: str, path: Path | None,
                 problems: ProblemList) -> bytes | None:
    """CreateML (`fmt='createml'`) or labelme JSON; a changed file is written with 2-space indentation."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        problems.add(path, f"not valid JSON ({exc}); not rewritten, its class names are unchanged",
                     rule="classes.unreadable")
        return None
    changed = False
    for holder in _label_holders(doc, fmt):
        keep = []
        for obj in holder:
            label = obj.get("label") if isinstance(obj, dict) else None
            key = label.strip() if isinstance(label, str) else None
            if key is None or key not in names:
                keep.append(obj)
                continue
            changed = True
            if names[key] is not None:
                obj["label"] = names[key]
                keep.append(obj)
        holder[:] = keep
    return dump_json(doc).encode("utf-8") if changed else data


def rewrite_label_bytes(fmt: str, data: bytes, mapping: Sequence[int | None], names: Mapping[str, str | None],
                        path: Path | None, problems: ProblemList) -> bytes | None:
    """Dispatch on the format name (`mapping` is used by id-based formats, `names` by name-based ones); None
    when the file could not be rewritten (reported)."""
    if fmt == "yolo":
        return rewrite_yolo(data, mapping, path, problems)
    if fmt in NAME_BASED:
        return _BY_NAME[fmt](data, names, path, problems)
    problems.add(path, f"class changes cannot be written to {fmt} files; not rewritten", rule="classes.format")
    return None


_BY_NAME = {
    "voc": rewrite_voc,
    "createml": lambda data, names, path, problems: rewrite_json(data, names, "createml", path, problems),
    "labelme": lambda data, names, path, problems: rewrite_json(data, names, "labelme", path, problems),
}
