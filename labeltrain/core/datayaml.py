"""data.yaml (the Ultralytics dataset description): a tolerant reader and an atomic writer.

The reader follows `ultralytics.data.utils.check_det_dataset` and reuses its messages, but never raises on bad
content: everything the trainer would reject becomes a Problem (with the line of the offending key when the
YAML can be composed), and the reader still returns whatever it could make sense of.

Differences from the trainer, each reported as a warning when they matter:
- a relative `path:` is resolved against the YAML's folder (the trainer resolves it against its working
  directory, then its `datasets_dir`), so that the dataset opens the same wherever labeltrain was started;
- missing `names:` with `nc:` gives names `class0`, `class1`... (the trainer says `class_0`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labeltrain.core.atomic import atomic_write_text
from labeltrain.core.model import ClassNames
from labeltrain.core.problems import ProblemList, Severity

SPLIT_KEYS = ("train", "val", "test")
# Ultralytics' DATASET_KEY_TYPES: keys that must have one of these types when present.
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "path": (str,),
    "train": (str, list),
    "val": (str, list),
    "test": (str, list),
    "names": (list, dict),
    "kpt_shape": (list,),
    "flip_idx": (list,),
}
# Characters the trainer strips before its second parse attempt (ultralytics.utils.YAML.load).
_BAD_CHARS = re.compile(r"[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]+")


@dataclass(frozen=True)
class DataYaml:
    """What a data.yaml says, resolved. `splits` maps 'train'/'val'/'test' to absolute paths (folders of
    images or .txt image lists); `nc` is the declared `nc:` or, without one, the number of names."""

    path: Path
    root: Path
    splits: dict[str, list[Path]] = field(default_factory=dict)
    names: ClassNames = field(default_factory=ClassNames)
    nc: int = 0
    problems: ProblemList = field(default_factory=ProblemList)
    raw: dict[str, Any] = field(default_factory=dict)  # the parsed mapping (other keys: download, kpt_shape...)

    @property
    def ok(self) -> bool:
        """True when the trainer would accept the file (no error-level problems)."""
        return not self.problems.errors()


def _type_name(value: Any) -> str:
    return type(value).__name__


def _key_lines(text: str) -> dict[str, int]:
    """1-based line of every top-level key (best effort: empty when the YAML cannot be composed)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                lines.setdefault(str(key_node.value), key_node.start_mark.line + 1)
    return lines


def _error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _parse_names(value: Any, file: Path, line: int | None, problems: ProblemList) -> list[str]:
    """Names from a list or an {id: name} mapping; ids must be 0..n-1 (gaps become `class<i>`)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    by_id: dict[int, str] = {}
    for key, name in value.items():
        try:
            idx = int(key)
            if isinstance(key, float) and key != idx:
                raise ValueError
        except (TypeError, ValueError):
            problems.add(file, f"class index {key!r} in 'names' is not an integer", line=line,
                         rule="datayaml.names")
            continue
        if idx in by_id:
            problems.add(file, f"class index {idx} is defined twice in 'names'", line=line, rule="datayaml.names")
        by_id[idx] = str(name)
    if not by_id:
        return []
    n = len(by_id)
    if max(by_id) >= n or min(by_id) < 0:
        missing = sorted(set(range(max(by_id) + 1)) - set(by_id))
        detail = f"; missing {', '.join(map(str, missing[:10]))}{'...' if len(missing) > 10 else ''}" if missing else ""
        problems.add(file, f"{n}-class dataset requires class indices 0-{n - 1}, but you have invalid class indices "
                           f"{min(by_id)}-{max(by_id)} defined in your dataset YAML{detail}",
                     line=line, rule="datayaml.names")
    return [by_id.get(i, f"class{i}") for i in range(max(max(by_id) + 1, 0))]


def _resolve_entry(root: Path, entry: str) -> Path:
    """Ultralytics' rule: root / entry, resolved; a missing '../x' falls back to root / 'x'."""
    x = (root / entry).resolve()
    if not x.exists() and entry.startswith("../"):
        x = (root / entry[3:]).resolve()
    return x


def load_data_yaml(path: str | os.PathLike[str]) -> DataYaml:
    """Read a data.yaml tolerantly. Never raises on bad content (only on programming errors)."""
    file = Path(path).absolute()
    problems = ProblemList()
    root = file.parent

    def result(**kw: Any) -> DataYaml:
        return DataYaml(path=file, root=kw.pop("root", root), problems=problems, **kw)

    try:
        raw_bytes = file.read_bytes()
    except FileNotFoundError:
        problems.add(file, "data YAML not found", rule="datayaml.missing")
        return result()
    except OSError as exc:
        problems.add(file, f"cannot read data YAML: {exc}", rule="datayaml.missing")
        return result()
    if not file.name.lower().endswith((".yaml", ".yml")):
        problems.add(file, f"Not a YAML file: {file} (the trainer wants a .yaml or .yml suffix)",
                     rule="datayaml.suffix")
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(file, f"not UTF-8 text ({exc.reason}); the trainer ignores the undecodable bytes",
                     severity=Severity.WARNING, rule="datayaml.encoding")
        text = raw_bytes.decode("utf-8-sig", errors="ignore")

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        cleaned = _BAD_CHARS.sub("", text)
        try:
            data = yaml.safe_load(cleaned)
        except yaml.YAMLError:
            problems.add(file, f"YAML syntax error: {_describe(exc)}", line=_error_line(exc), rule="datayaml.syntax")
            return result()
        problems.add(file, "contains characters YAML does not allow; the trainer strips them",
                     line=_error_line(exc), severity=Severity.WARNING, rule="datayaml.syntax")
        text = cleaned
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.add(file, f"'{file.name}' is not a valid YAML mapping (it holds a {_type_name(data)})",
                     line=1, rule="datayaml.not_mapping")
        return result()
    data = {str(k): v for k, v in data.items()}
    lines = _key_lines(text)

    # Types (ultralytics DATASET_KEY_TYPES): wrong types are reported and the key is ignored.
    for key, valid in _KEY_TYPES.items():
        if data.get(key) is not None and not isinstance(data[key], valid):
            expected = " or ".join(t.__name__ for t in valid)
            problems.add(file, f"'{key}' must be {expected}, not {_type_name(data[key])}", line=lines.get(key),
                         rule="datayaml.type")
            data[key] = None

    # Required keys.
    if "val" not in data and "validation" in data:
        problems.add(file, "renaming data YAML 'validation' key to 'val' to match YOLO format.",
                     line=lines.get("validation"), severity=Severity.WARNING, rule="datayaml.keys")
        data["val"] = data.pop("validation")
        if "validation" in lines:
            lines["val"] = lines["validation"]
    for key in ("train", "val"):
        if key not in data:
            problems.add(file, f"'{key}:' key missing. 'train' and 'val' are required in all data YAMLs.",
                         rule="datayaml.keys")
        elif not data[key]:
            problems.add(file, f"'{key}:' has no value. 'train' and 'val' are required in all data YAMLs.",
                         line=lines.get(key), rule="datayaml.keys")

    # Classes.
    names: list[str] = []
    nc: int | None = None
    if data.get("names") is None and "nc" not in data:
        problems.add(file, "key missing: either 'names' or 'nc' are required in all data YAMLs.",
                     rule="datayaml.names")
    if "nc" in data:
        value = data["nc"]
        if isinstance(value, bool):
            value = None
        if isinstance(value, int):
            nc = value
        else:
            try:
                as_float = float(value)  # the trainer accepts integer-like values: '10', 10.0
                if as_float != int(as_float):
                    raise ValueError
                nc = int(as_float)
            except (TypeError, ValueError, OverflowError):
                problems.add(file, f"'nc: {data['nc']}' must be an integer", line=lines.get("nc"),
                             rule="datayaml.nc")
        if nc is not None and nc < 0:
            problems.add(file, f"'nc: {nc}' must not be negative", line=lines.get("nc"), rule="datayaml.nc")
            nc = None
    if data.get("names") is not None:
        names = _parse_names(data["names"], file, lines.get("names"), problems)
        if not names:
            problems.add(file, "0-class dataset, at least one class name is required in your dataset YAML.",
                         line=lines.get("names"), rule="datayaml.names")
        if nc is not None and len(data["names"]) != nc:
            problems.add(file, f"'names' length {len(data['names'])} and 'nc: {nc}' must match.",
                         line=lines.get("nc") or lines.get("names"), rule="datayaml.nc")
    elif nc is not None:
        names = [f"class{i}" for i in range(nc)]
        if nc == 0:
            problems.add(file, "0-class dataset, at least one class name is required in your dataset YAML.",
                         line=lines.get("nc"), rule="datayaml.names")
    class_names = ClassNames.of(names).extended_to(nc or 0)

    # Root.
    declared = data.get("path")
    if declared:
        p = Path(os.path.expanduser(declared))
        if not p.is_absolute():
            problems.add(file, f"relative 'path: {declared}': labeltrain resolves it against the YAML's folder, but "
                               "the Ultralytics trainer resolves it against its working directory (then its "
                               "datasets_dir); use an absolute path or remove 'path:'",
                         line=lines.get("path"), severity=Severity.WARNING, rule="datayaml.relative_path")
            p = file.parent / p
        root = Path(os.path.normpath(p))
        if not root.is_dir():
            problems.add(file, f"dataset root 'path: {declared}' is not a folder ({root})", line=lines.get("path"),
                         rule="datayaml.root")

    # Splits.
    splits: dict[str, list[Path]] = {}
    for key in SPLIT_KEYS:
        value = data.get(key)
        if not value:
            continue
        entries = value if isinstance(value, list) else [value]
        resolved: list[Path] = []
        for entry in entries:
            if not isinstance(entry, str) or not entry:
                problems.add(file, f"'{key}' entries must be str, not {_type_name(entry)}", line=lines.get(key),
                             rule="datayaml.type")
                continue
            resolved.append(_resolve_entry(root, os.path.expanduser(entry)))
        for p in resolved:
            if not p.exists():
                problems.add(file, f"'{key}' images not found, missing path '{p}'", line=lines.get(key),
                             severity=Severity.WARNING if key == "test" else Severity.ERROR,
                             rule="datayaml.split_path")
        if resolved:
            splits[key] = resolved

    return result(root=root, splits=splits, names=class_names,
                  nc=nc if nc is not None else len(class_names), raw=data)


def _describe(exc: yaml.YAMLError) -> str:
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    text = ", ".join(p for p in parts if p)
    return text or str(exc).splitlines()[0]


def dump_data_yaml(yaml_path: Path, root: str | os.PathLike[str] | None,
                   splits: Mapping[str, str | list[str]], names: ClassNames) -> str:
    """The text of a data.yaml. `path:` is omitted when `root` is the YAML's own folder (the trainer then uses
    that folder, so the dataset can be moved), and written absolute otherwise."""
    data: dict[str, Any] = {}
    if root is not None:
        root_abs = Path(os.path.abspath(root))
        if root_abs != Path(os.path.abspath(yaml_path)).parent:
            data["path"] = str(root_abs)
    for key in SPLIT_KEYS:
        value = splits.get(key)
        if value:
            data[key] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    for key, value in splits.items():
        if key not in SPLIT_KEYS and value:
            data[key] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    data["nc"] = len(names)
    data["names"] = names.as_dict()
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10_000)


def write_data_yaml(path: str | os.PathLike[str], root: str | os.PathLike[str] | None,
                    splits: Mapping[str, str | list[str]], names: ClassNames) -> None:
    """Atomically write a data.yaml the trainer accepts. Split values are paths relative to `root` (or absolute)."""
    path = Path(path)
    atomic_write_text(path, dump_data_yaml(path, root, splits, names))
