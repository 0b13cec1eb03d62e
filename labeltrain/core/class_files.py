"""Where a dataset's class names live on disk, and the one writer that keeps them in step.

`write_class_names(target, classes)` writes classes.txt (id = line number - 1) and updates the `names:` (and
`nc:`, when present) of the dataset's data.yaml. The data.yaml is edited in place: comments, key order and every
other key stay as they were. Only when that text edit cannot be verified (unusual YAML layouts) is the mapping
dumped again, which keeps the keys and values but drops comments. An unparseable data.yaml is never touched: it
is reported instead.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any

import yaml

from labeltrain.core.atomic import atomic_write_bytes
from labeltrain.core.classfile import CLASSES_FILE, read_classes_txt, write_classes_txt
from labeltrain.core.dataset import Dataset
from labeltrain.core.datayaml import load_data_yaml
from labeltrain.core.model import ClassNames
from labeltrain.core.problems import ProblemList, Severity

__all__ = ["write_class_names", "update_data_yaml_names", "class_target", "read_class_names"]

_YAML_SUFFIXES = (".yaml", ".yml")
_DATA_YAML_NAMES = ("data.yaml", "data.yml")


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in _YAML_SUFFIXES


def _yaml_beside(folder: Path) -> Path | None:
    for name in _DATA_YAML_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def class_target(dataset: Dataset, label_dir: Path | None = None) -> Path:
    """The file or folder `write_class_names` should be given for this dataset: its classes file when that
    is classes.txt or a data.yaml, else the label folder (`label_dir`, the dataset's own) or the root."""
    cf = dataset.classes_file
    if cf is not None and (cf.suffix.lower() == ".txt" or _is_yaml(cf)):
        return cf
    return Path(label_dir or dataset.label_dir or dataset.root)


def read_class_names(target: Path) -> ClassNames:
    """The names currently stored at `target` (a classes file, a data.yaml or a folder); empty if none."""
    target = Path(target)
    if target.is_dir():
        target = target / CLASSES_FILE
    if not target.is_file():
        return ClassNames()
    if _is_yaml(target):
        return load_data_yaml(target).names
    return read_classes_txt(target)[0]


def write_class_names(target: str | os.PathLike[str], classes: ClassNames, *, data_yaml: Path | None = None,
                      problems: ProblemList | None = None) -> list[Path]:
    """Write `classes` where the dataset keeps them; return the files written.

    `target`: a folder (writes `<folder>/classes.txt` and updates a data.yaml in that folder if there is one),
    a classes file (written; a data.yaml beside it is updated) or a data.yaml (its names are updated; a
    classes.txt beside it is rewritten only if it already exists). `data_yaml`: the dataset's data.yaml, updated
    too wherever it is. Writes are atomic; an OSError propagates; YAML that cannot be parsed goes to `problems`.
    """
    target = Path(target)
    written: list[Path] = []
    yamls: list[Path] = []
    if _is_yaml(target):
        yamls.append(target)
        txt = target.parent / CLASSES_FILE
        txt_file = txt if txt.is_file() else None
    else:
        txt_file = target / CLASSES_FILE if target.is_dir() else target
        beside = _yaml_beside(txt_file.parent)
        if beside is not None:
            yamls.append(beside)
    if data_yaml is not None and Path(data_yaml).is_file():
        yamls.append(Path(data_yaml))
    if txt_file is not None:
        write_classes_txt(txt_file, classes)
        written.append(txt_file)
    seen: set[str] = set()
    for y in yamls:
        key = os.path.abspath(y)
        if key not in seen:
            seen.add(key)
            if update_data_yaml_names(y, classes, problems):
                written.append(y)
    return written


def update_data_yaml_names(path: Path, classes: ClassNames, problems: ProblemList | None = None) -> bool:
    """Set `names:` (and `nc:` if the file has one) of a data.yaml, keeping the rest of its text. Keeps the
    names' form (list or {id: name} mapping). Returns False (with a problem) when the file was left alone."""
    problems = problems if problems is not None else ProblemList()
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.add(path, f"class names not written to this data YAML: {exc}", rule="classes.datayaml")
        return False
    if data is None:
        data, node = {}, None
    if not isinstance(data, dict):
        problems.add(path, "class names not written: the data YAML is not a mapping", rule="classes.datayaml")
        return False
    value: Any = list(classes.names) if isinstance(data.get("names"), list) else classes.as_dict()
    new_text = _edit_text(text, node, value, len(classes))
    expected = {**data, "names": value}
    if "nc" in data:
        expected["nc"] = len(classes)
    try:
        ok = new_text is not None and yaml.safe_load(new_text) == expected
    except yaml.YAMLError:
        ok = False
    if not ok:
        new_text = yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, default_flow_style=False,
                                  width=10_000)
        problems.add(path, "data YAML rewritten from its parsed content (its comments were dropped)",
                     severity=Severity.INFO, rule="classes.datayaml")
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    atomic_write_bytes(path, bom + new_text.encode("utf-8"))
    return True


def _edit_text(text: str, node: yaml.Node | None, names: Any, nc: int) -> str | None:
    """`text` with its top-level `names:` block replaced (or appended) and its `nc:` scalar updated."""
    newline = "\r\n" if "\r\n" in text else "\n"
    block = yaml.safe_dump({"names": names}, allow_unicode=True, sort_keys=False, default_flow_style=False,
                           width=10_000).replace("\n", newline)
    if node is None:
        return text + ("" if not text or text.endswith("\n") else newline) + block
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        return None
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    keys = [(k.value, k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
    edits: list[tuple[int, int, str]] = []
    for i, (key, knode, vnode) in enumerate(keys):
        if key == "nc" and isinstance(vnode, yaml.ScalarNode) and vnode.start_mark.line == knode.start_mark.line:
            edits.append((vnode.start_mark.index, vnode.end_mark.index, str(nc)))
        elif key == "names":
            if knode.start_mark.column != 0:
                return None
            first = knode.start_mark.line
            end = keys[i + 1][1].start_mark.line if i + 1 < len(keys) else len(lines)
            while end - 1 > first and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1
            if i + 1 < len(keys) and keys[i + 1][1].start_mark.line == first:
                return None
            edits.append((starts[first], starts[end], block))
    if not any(e[2] == block for e in edits):
        tail = "" if not text or text.endswith("\n") else newline
        edits.append((len(text), len(text), tail + block))
    for start, end, repl in sorted(edits, reverse=True):
        text = text[:start] + repl + text[end:]
    return text
