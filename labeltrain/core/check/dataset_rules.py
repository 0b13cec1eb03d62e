"""Dataset-level rules: what only shows across files (two images sharing one label file, label files without an
image, identical images in train and val, rare classes), the trainer's refusals of a whole split, and the
data.yaml / discovery problems (Ultralytics `check_det_dataset` wording, from `core.datayaml`)."""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict

from labeltrain.core.check.findings import Effect, Finding, define, finding
from labeltrain.core.check.registry import DatasetContext, dataset_check
from labeltrain.core.check.rows import EMPTY, MISSING
from labeltrain.core.classfile import CLASSES_FILE
from labeltrain.core.problems import Severity

R_SAME_STEM = define(
    "dataset.same_stem", "dataset", Severity.WARNING, "images share one label file",
    "rename one of the images (same name, different extension: the trainer reads one label file for both)",
    source="ultralytics")
R_ORPHAN = define(
    "dataset.orphan_label", "dataset", Severity.WARNING, "label file without an image",
    "restore or rename the image, or delete the label file (the trainer never reads it)")
R_LEAKAGE = define(
    "dataset.leakage", "dataset", Severity.WARNING, "identical image in train and val/test",
    "keep each image in one split only: validation on training images overstates the metrics")
R_DUPLICATE_IMAGE = define(
    "dataset.duplicate_image", "dataset", Severity.INFO, "identical images in one split",
    "delete the copies unless the repetition is intended (it weights those labels twice)")
R_RARE = define(
    "dataset.rare_class", "dataset", Severity.INFO, "class with few instances",
    "label more examples of this class (the seeds advise at least 500-2000 instances per class)")
R_UNUSED = define(
    "dataset.unused_class", "dataset", Severity.WARNING, "class without instances",
    "label examples of this class, or remove it from the class list")
R_NO_CLASSES = define(
    "dataset.no_classes", "dataset", Severity.WARNING, "no class names",
    "add classes.txt or a data.yaml with 'names' (class ids cannot be checked without them)")
R_NO_LABELS = define(
    "dataset.no_labels", "dataset", Severity.ERROR, "No labels found",
    "put the YOLO label files where the trainer looks: the image path with /images/ replaced by /labels/",
    effect=Effect.NONE, source="ultralytics")
R_NO_VALID = define(
    "dataset.no_valid_images", "dataset", Severity.ERROR, "No valid images found",
    "fix the errors reported for the images of this split", source="ultralytics")
R_NOT_YOLO = define(
    "dataset.not_yolo", "dataset", Severity.INFO, "labels are not YOLO txt",
    "convert the labels with `labeltrain convert --to yolo` before training")

# Text files that live among labels but are not label files.
_NOT_LABELS = frozenset({CLASSES_FILE, "train.txt", "val.txt", "valid.txt", "test.txt", "readme.txt",
                         "license.txt", "notes.txt", "labels.txt", "obj.names"})
_YAML_FIX = "edit data.yaml: the trainer (check_det_dataset) refuses to start with this"



@dataset_check("discovery")
def check_discovery(ctx: DatasetContext) -> list[Finding]:
    """Problems found while listing the dataset and reading data.yaml (their rule ids are kept)."""
    out = []
    for p in ctx.dataset.problems:
        if p.rule == "dataset.same_stem":
            continue  # reported per image below
        fix = p.fix or (_YAML_FIX if p.rule.startswith("datayaml.") and p.severity == Severity.ERROR else None)
        out.append(finding(p.rule, p.message, label=str(p.file) if p.file is not None else None, line=p.line,
                           severity=p.severity, fix=fix))
    if ctx.dataset.label_format != "yolo":
        out.append(finding(R_NOT_YOLO.id, f"labels are in {ctx.dataset.label_format} format: the trainer reads "
                                          "YOLO txt; label rows were not checked"))
    return out


@dataset_check("same_stem")
def check_same_stem(ctx: DatasetContext) -> list[Finding]:
    counts = Counter(label for _, label, _, _, _ in ctx.images)
    shared = {label for label, n in counts.items() if n > 1 and label is not None}
    if not shared:
        return []
    by_label: dict[str, list[str]] = defaultdict(list)
    for image, label, _split, _state, _rej in ctx.images:
        if label in shared:
            by_label[label].append(image)
    out = []
    for label, images in by_label.items():
        if len(images) > 1:
            names = ", ".join(os.path.basename(i) for i in images)
            for image in images:
                out.append(finding(R_SAME_STEM.id, f"images {names} share the label file "
                                                   f"{os.path.basename(label)}", image=image, label=label))
    return out


@dataset_check("orphans")
def check_orphans(ctx: DatasetContext) -> list[Finding]:
    if ctx.dataset.label_format != "yolo":
        return []
    expected: dict[str, set[str]] = defaultdict(set)  # label folder -> label file names
    for _, label, _, _, _ in ctx.images:
        if label is not None:
            folder, name = os.path.split(label)
            expected[folder].add(name)
    candidates = []
    for folder in sorted(expected):
        try:
            with os.scandir(folder) as it:
                names = {e.name for e in it if e.name.endswith(".txt") and e.name[0] != "." and e.is_file()}
        except OSError:
            continue
        candidates.extend(os.path.join(folder, name) for name in sorted(names - expected[folder])
                          if name.lower() not in _NOT_LABELS)
    if not candidates:
        return []
    listed = {str(p) for entries in _yaml_splits(ctx).values() for p in entries}  # image lists of data.yaml
    return [finding(R_ORPHAN.id, "label file without an image: the trainer never reads it", label=path)
            for path in candidates if path not in listed]


def _yaml_splits(ctx: DatasetContext) -> dict:
    from labeltrain.core.datayaml import load_data_yaml

    if ctx.dataset.data_yaml is None:
        return {}
    return load_data_yaml(ctx.dataset.data_yaml).splits


@dataset_check("leakage")
def check_leakage(ctx: DatasetContext) -> list[Finding]:
    """Identical files (same bytes): candidates share size and first-4-KiB checksum; then a full hash."""
    if not ctx.options.leakage or not ctx.signatures:
        return []
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, sig in ctx.signatures.items():
        groups[sig].append(index)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        by_hash: dict[str, list[int]] = defaultdict(list)
        for index in members:
            digest = _file_hash(ctx.images[index][0])
            if digest is not None:
                by_hash[digest].append(index)
        for same in by_hash.values():
            if len(same) > 1:
                out.extend(_leak_findings(ctx, same))
    return out


def _leak_findings(ctx: DatasetContext, same: list[int]) -> list[Finding]:
    out = []
    images = ctx.images
    train = [i for i in same if images[i][2] in ("train", None)]
    others = [i for i in same if images[i][2] not in ("train", None)]
    if train and others:
        twin = os.path.basename(images[train[0]][0])
        for i in others:
            out.append(finding(R_LEAKAGE.id, f"identical to training image {twin} ({images[train[0]][0]}): "
                                             f"leaks into {images[i][2]}", image=images[i][0]))
    by_split: dict[str | None, list[int]] = defaultdict(list)
    for i in same:
        by_split[images[i][2]].append(i)
    for members in by_split.values():
        for i in members[1:]:
            out.append(finding(R_DUPLICATE_IMAGE.id, f"identical to {os.path.basename(images[members[0]][0])}",
                               image=images[i][0]))
    return out


def _file_hash(path: str) -> str | None:
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


@dataset_check("classes")
def check_classes(ctx: DatasetContext) -> list[Finding]:
    names = ctx.dataset.classes
    if ctx.nc is None:
        if ctx.dataset.label_format == "yolo" and ctx.images:
            return [finding(R_NO_CLASSES.id, "no class names (data.yaml 'names' or classes.txt): class ids "
                                             "cannot be checked, and the trainer needs them")]
        return []
    splits = {split for _, _, split, _, _ in ctx.images}
    train_split = "train" if "train" in splits else None
    counts = {cls: n for (split, cls), n in ctx.class_counts.items() if split == train_split}
    where = "training split" if train_split else "dataset"
    out = []
    threshold = ctx.options.min_instances
    for cls in range(ctx.nc):
        n = counts.get(cls, 0)
        name = names.name(cls) if hasattr(names, "name") else str(cls)
        if n == 0:
            out.append(finding(R_UNUSED.id, f"class {cls} '{name}' has no instances in the {where}"))
        elif n < threshold:
            out.append(finding(R_RARE.id, f"class {cls} '{name}' has {n} instance{'s' * (n != 1)} in the {where} "
                                          f"(fewer than {threshold})"))
    return out


@dataset_check("splits")
def check_splits(ctx: DatasetContext) -> list[Finding]:
    """The trainer's refusals of a whole split: no label file at all (training), every image rejected."""
    if ctx.dataset.label_format != "yolo":
        return []
    per_split: dict[str | None, list[tuple[str, bool]]] = defaultdict(list)
    for _, _, split, state, rejected in ctx.images:
        per_split[split].append((state, rejected))
    out = []
    for split, rows in per_split.items():
        name = split or "dataset"
        if all(rej for _, rej in rows):
            out.append(finding(R_NO_VALID.id, f"No valid images found in the {name} split: every image is ignored "
                                              "by the trainer"))
        elif all(state == MISSING for state, _ in rows) and split in ("train", None):
            out.append(finding(R_NO_LABELS.id, f"No labels found for the {name} images: training refuses to start"))
        elif all(state in (MISSING, EMPTY) for state, _ in rows):
            out.append(finding(R_NO_LABELS.id, f"the {name} split has no boxes at all", severity=Severity.WARNING))
    return out

