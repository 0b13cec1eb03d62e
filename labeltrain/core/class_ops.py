"""Class registry operations: add, rename, merge, delete, reorder, and rewriting the label files they affect.

Three steps, so the UI can confirm ("N files will change") and show progress:

    change = merge_classes(dataset.classes, "car", "vehicle")    # pure: a ClassChange, nothing touched
    plan = plan_rewrite(dataset, change)                         # reads label files: which ones change
    report = apply_rewrite(plan, progress, cancelled)            # backs up, rewrites, writes the class names

`ClassChange.mapping[old_id]` is the new id, or None when the class is deleted with its boxes. YOLO files change
only when ids change (a rename touches no YOLO file, only classes.txt / data.yaml); name-based files (VOC,
CreateML, labelme) change only when names change (a reorder touches none). Unknown ids are kept and reported;
malformed files are reported and left unchanged (see class_rewrite).

`apply_rewrite` first copies every file it will change (label files, classes.txt, data.yaml) to
`<root>/.labeltrain/backups/<YYYYmmdd-HHMMSS>/<path relative to the root>` with a `manifest.json`; `restore_backup`
puts them back. Cancelling is honoured between files; files already rewritten are then restored, so a cancelled
run leaves the dataset as it was. A run that died half-way leaves `"status": "started"` in its manifest
(`interrupted_rewrites` lists them, to offer a restore). On success `dataset.classes` becomes `change.new`.
Collection formats (COCO, a many-image CreateML file) are not rewritten: the plan reports it and applies nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from labeltrain.core import formats
from labeltrain.core.atomic import atomic_write_bytes
from labeltrain.core.class_files import class_target, write_class_names
from labeltrain.core.class_rewrite import NAME_BASED, rewrite_label_bytes
from labeltrain.core.dataset import Dataset
from labeltrain.core.label_backups import (
    back_up,
    class_files_to_back_up,
    interrupted_rewrites,
    new_backup,
    restore_backup,
    set_status,
)
from labeltrain.core.model import Annotation, ClassNames
from labeltrain.core.problems import ProblemList

__all__ = ["ClassChange", "add_class", "rename_class", "merge_classes", "delete_class", "reorder_classes",
           "remap_annotation", "PlannedFile", "RewritePlan", "RewriteReport", "plan_rewrite", "apply_rewrite",
           "restore_backup", "interrupted_rewrites"]

Progress = Callable[[int, int], None] | None
Cancelled = Callable[[], bool] | None


@dataclass(frozen=True)
class ClassChange:
    """A planned change of the class registry: `old` -> `new`, with `mapping[old_id]` = new id or None."""

    kind: str                        # 'add' | 'rename' | 'merge' | 'delete' | 'reorder'
    old: ClassNames
    new: ClassNames
    mapping: tuple[int | None, ...]

    @property
    def ids_change(self) -> bool:
        """Whether id-based files (YOLO) need rewriting."""
        return any(m != i for i, m in enumerate(self.mapping))

    def name_map(self) -> dict[str, str | None]:
        """Old name -> new name (None: deleted) for the names that change in name-based files."""
        out: dict[str, str | None] = {}
        for i, name in enumerate(self.old.names):
            m = self.mapping[i]
            new = None if m is None else self.new.names[m]
            if new != name:
                out.setdefault(name, new)
        return out

    def new_id(self, old_id: int) -> int | None:
        """The id a box of class `old_id` gets; ids outside the old list are kept as they are."""
        return self.mapping[old_id] if 0 <= old_id < len(self.mapping) else old_id


def _id(classes: ClassNames, cls: int | str) -> int:
    idx = classes.index(cls) if isinstance(cls, str) else cls
    if idx is None or not 0 <= idx < len(classes):
        raise ValueError(f"no class {cls!r}")
    return idx


def _valid_name(classes: ClassNames, name: str) -> str:
    name = name.strip()
    if not name or any(c in name for c in "\r\n\t"):
        raise ValueError("a class name must be non-empty text on one line")
    if name in classes:
        raise ValueError(f"class {name!r} exists already")
    return name


def add_class(classes: ClassNames, name: str) -> ClassChange:
    new = ClassNames(classes.names + (_valid_name(classes, name),))
    return ClassChange("add", classes, new, tuple(range(len(classes))))


def rename_class(classes: ClassNames, cls: int | str, name: str) -> ClassChange:
    """Rename a class (same id). Renaming onto an existing name is a merge: use `merge_classes`."""
    i = _id(classes, cls)
    names = list(classes.names)
    names[i] = _valid_name(classes, name)
    return ClassChange("rename", classes, ClassNames(tuple(names)), tuple(range(len(classes))))


def _without(classes: ClassNames, i: int) -> tuple[ClassNames, list[int | None]]:
    mapping: list[int | None] = [j if j < i else j - 1 for j in range(len(classes))]
    mapping[i] = None
    return ClassNames(classes.names[:i] + classes.names[i + 1:]), mapping


def merge_classes(classes: ClassNames, source: int | str, target: int | str) -> ClassChange:
    """Boxes of `source` become `target`; `source` leaves the list (the ids after it move down by one)."""
    s, t = _id(classes, source), _id(classes, target)
    if s == t:
        raise ValueError("cannot merge a class into itself")
    new, mapping = _without(classes, s)
    mapping[s] = mapping[t]
    return ClassChange("merge", classes, new, tuple(mapping))


def delete_class(classes: ClassNames, cls: int | str) -> ClassChange:
    """Remove a class and its boxes (the ids after it move down by one)."""
    new, mapping = _without(classes, _id(classes, cls))
    return ClassChange("delete", classes, new, tuple(mapping))


def reorder_classes(classes: ClassNames, order: Sequence[int]) -> ClassChange:
    """`order` lists the old ids in their new order: new class i is old class order[i]."""
    if sorted(order) != list(range(len(classes))):
        raise ValueError("the new order must be a permutation of the class ids")
    mapping: list[int | None] = [0] * len(classes)
    for new_id, old_id in enumerate(order):
        mapping[old_id] = new_id
    return ClassChange("reorder", classes, ClassNames(tuple(classes.names[i] for i in order)), tuple(mapping))


def remap_annotation(annotation: Annotation, change: ClassChange) -> Annotation:
    """An open annotation after the change: ids mapped, boxes of a deleted class dropped, unknown ids kept."""
    boxes = []
    for box in annotation.boxes:
        new = change.new_id(box.cls)
        if new is not None:
            boxes.append(box if new == box.cls else box.with_class(new))
    return annotation.with_boxes(boxes)


# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedFile:
    path: Path
    format: str


@dataclass
class RewritePlan:
    """The label files a change rewrites (`len(plan.files)` for the confirmation) and what planning found."""

    dataset: Dataset
    change: ClassChange
    files: list[PlannedFile] = field(default_factory=list)
    problems: ProblemList = field(default_factory=ProblemList)   # unknown ids, unreadable files...
    supported: bool = True
    cancelled: bool = False


@dataclass
class RewriteReport:
    backup_dir: Path | None = None
    changed: list[Path] = field(default_factory=list)
    failed: list[Path] = field(default_factory=list)             # could not be written: still the old content
    class_files: list[Path] = field(default_factory=list)
    problems: ProblemList = field(default_factory=ProblemList)
    cancelled: bool = False


def _label_files(dataset: Dataset, extra: Iterable[os.PathLike[str] | str]) -> list[PlannedFile]:
    out: dict[str, PlannedFile] = {}
    fmt = dataset.label_format
    for item in dataset.items:
        if item.label is not None:
            out.setdefault(os.path.abspath(item.label), PlannedFile(Path(item.label), fmt))
    for p in extra:
        path = Path(os.path.abspath(p))
        detected = formats.detect_file(path)
        if detected is not None and str(path) not in out:
            out[str(path)] = PlannedFile(path, detected.name)
    return list(out.values())


def _needs_reading(change: ClassChange, fmt: str, names: dict) -> bool:
    return change.ids_change if fmt == "yolo" else (fmt in NAME_BASED and bool(names))


def plan_rewrite(dataset: Dataset, change: ClassChange, *, extra_files: Iterable[os.PathLike[str] | str] = (),
                 progress: Progress = None, cancelled: Cancelled = None) -> RewritePlan:
    """Read the dataset's label files (and `extra_files`, e.g. files saved in another format) and list those
    the change rewrites. Files are only read when the change can affect their format."""
    plan = RewritePlan(dataset, change)
    if dataset.resolved_label_mode == "collection" or not formats.get(dataset.label_format).per_image:
        plan.supported = False
        plan.problems.add(dataset.collection_file, "class changes are not written into collection files (COCO, "
                                                   "CreateML collections); convert the dataset first",
                          rule="classes.format")
        return plan
    names = change.name_map()
    candidates = [f for f in _label_files(dataset, extra_files) if _needs_reading(change, f.format, names)]
    for i, pf in enumerate(candidates):
        if cancelled is not None and cancelled():
            plan.cancelled = True
            break
        try:
            data = pf.path.read_bytes()
        except OSError as exc:
            plan.problems.add(pf.path, f"cannot read: {exc}; not rewritten", rule="classes.unreadable")
            continue
        new = rewrite_label_bytes(pf.format, data, change.mapping, names, pf.path, plan.problems)
        if new is not None and new != data:
            plan.files.append(pf)
        if progress is not None:
            progress(i + 1, len(candidates))
    return plan


def apply_rewrite(plan: RewritePlan, progress: Progress = None, cancelled: Cancelled = None) -> RewriteReport:
    """Back up, then rewrite the planned files atomically, then write the new class names (see module doc).
    `progress(done, total)` counts backups and rewrites; OSErrors on single files are reported, not raised,
    except while backing up (nothing has been changed then)."""
    report = RewriteReport(problems=ProblemList(plan.problems))  # rewriting finds the same problems again
    if not plan.supported:
        return report
    ds, change = plan.dataset, plan.change
    root = Path(os.path.abspath(ds.root))
    target = class_target(ds)
    to_save = [pf.path for pf in plan.files] + class_files_to_back_up(target, ds.data_yaml)
    total = 2 * len(to_save)
    folder = report.backup_dir = new_backup(root, change.kind, to_save)
    try:
        for i, path in enumerate(to_save):
            if cancelled is not None and cancelled():
                report.cancelled, report.backup_dir = True, None
                shutil.rmtree(folder, ignore_errors=True)  # nothing was changed: the backup is not needed
                return report
            back_up(folder, root, path)
            if progress is not None:
                progress(i + 1, total)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    names = change.name_map()
    for i, pf in enumerate(plan.files):
        if cancelled is not None and cancelled():
            restore_backup(folder, only=report.changed)
            set_status(folder, "cancelled")
            report.cancelled, report.changed = True, []
            return report
        try:
            data = pf.path.read_bytes()
            new = rewrite_label_bytes(pf.format, data, change.mapping, names, pf.path, ProblemList())
            if new is not None and new != data:
                atomic_write_bytes(pf.path, new)
                report.changed.append(pf.path)
        except OSError as exc:
            report.problems.add(pf.path, f"not rewritten: {exc}", rule="classes.write")
            report.failed.append(pf.path)
        if progress is not None:
            progress(len(to_save) + i + 1, total)
    report.class_files = write_class_names(target, change.new, data_yaml=ds.data_yaml, problems=report.problems)
    ds.classes = change.new
    set_status(folder, "done")
    if progress is not None:
        progress(total, total)
    return report
