"""Deterministic, stratified train/val/test split written as image lists + data.yaml (no file is moved).

Determinism: an image's place depends only on the seed, its path below the dataset root and the class make-up
of the dataset, not on the listing order (images are ranked by a keyed hash of their relative path).
Stratification: every image belongs to the stratum of the rarest class it contains (images without boxes form
their own stratum); each stratum gets its share of val/test images, rounded by largest remainder so that the
totals are exact.

The lists follow the trainer's rule (ultralytics BaseDataset.get_img_files): a line starting with './' is
relative to the list's folder, anything else is used as it is, so lines are './'-relative when the image is below
the output folder and absolute otherwise.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from labeltrain.core.atomic import atomic_write_text
from labeltrain.core.dataset import Dataset, ImageItem, img2label_path, load_annotation, natural_sorted
from labeltrain.core.datayaml import dump_data_yaml
from labeltrain.core.model import ClassNames
from labeltrain.core.problems import ProblemList, Severity

SPLITS = ("train", "val", "test")
YAML_NAME = "data.yaml"
MARKER = "# Written by labeltrain (split): image lists + class names; regenerated on every split."
_NO_BOXES = -1  # stratum of images without boxes


def _unit_size(_path: Path) -> tuple[int, int]:
    return (1, 1)  # class presence needs no geometry: never decode or even open the image


def _yolo_classes(label: str | None) -> set[int]:
    """Class ids of a YOLO label file: first column of each row, no image needed."""
    if label is None:
        return set()
    try:
        text = Path(label).read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return set()
    out: set[int] = set()
    for line in text.splitlines():
        first = line.split(None, 1)[:1]
        if first:
            try:
                value = float(first[0])
            except ValueError:
                continue
            if math.isfinite(value) and value == int(value) and value >= 0:
                out.add(int(value))
    return out


def image_classes(dataset: Dataset, item: ImageItem) -> set[int]:
    """Class ids present in one image's labels (fast path for YOLO; the registry for other formats)."""
    if dataset.label_format == "yolo" and dataset.resolved_label_mode != "collection":
        return _yolo_classes(item.label)
    if item.label is None:
        return set()
    if dataset.resolved_label_mode == "collection":
        result = load_annotation(dataset, item)  # cached on the dataset: keep real sizes in the cache
    else:
        result = load_annotation(dataset, item, size_fn=_unit_size)
    return {b.cls for ann in result.annotations for b in ann.boxes}


def _rank_key(seed: int, rel: str) -> bytes:
    return hashlib.blake2b(f"{seed}\0{rel}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _relative(image: str, root: str) -> str:
    prefix = root.rstrip(os.sep) + os.sep
    rel = image[len(prefix):] if image.startswith(prefix) else image
    return rel.replace(os.sep, "/")


def _allocate(sizes: dict[int, int], total: int, caps: dict[int, int], seed: int) -> dict[int, int]:
    """Split `total` over strata in proportion to `sizes` (largest remainder), never above `caps`."""
    n = sum(sizes.values())
    alloc = {s: 0 for s in sizes}
    if n == 0 or total <= 0:
        return alloc
    fractions: list[tuple[float, bytes, int]] = []
    for s, size in sizes.items():
        exact = size * total / n
        alloc[s] = min(int(exact), caps[s])
        fractions.append((exact - int(exact), _rank_key(seed, f"stratum {s}"), s))
    remaining = total - sum(alloc.values())
    # Largest remainders first; ties (and further rounds) in a seeded but fixed stratum order.
    order = [s for _, _, s in sorted(fractions, key=lambda t: (-t[0], t[1]))]
    while remaining > 0:
        progressed = False
        for s in order:
            if remaining == 0:
                break
            if alloc[s] < caps[s]:
                alloc[s] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break
    return alloc


def split_counts(n: int, val: float, test: float) -> tuple[int, int]:
    """Number of val and test images for n images: rounded; at least one each (when asked for and n allows),
    and at least one training image."""
    if n < 2:
        return 0, 0
    n_val = round(n * val)
    n_test = round(n * test)
    if val > 0:
        n_val = max(n_val, 1)
    if test > 0 and n >= 3:
        n_test = max(n_test, 1)
    while n_val + n_test > n - 1:
        if n_test > (1 if test > 0 and n >= 3 else 0) and n_test >= n_val:
            n_test -= 1
        elif n_val > (1 if val > 0 else 0):
            n_val -= 1
        elif n_test > 0:
            n_test -= 1
        else:
            break
    return n_val, n_test


def make_split(dataset: Dataset, val: float, test: float = 0.0, seed: int = 0,
               classes_of: dict[str, set[int]] | None = None) -> dict[str, list[str]]:
    """{'train': [...], 'val': [...], 'test': [...]} of absolute image paths, natural order inside a split.

    Same seed and same images -> same split, whatever order the images are listed in. `classes_of` (image ->
    class ids) skips reading the labels when the caller already has them."""
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError("val and test must be fractions in [0, 1) whose sum is below 1")
    root = str(dataset.root)
    unique: dict[str, ImageItem] = {}
    for item in dataset.items:
        unique.setdefault(item.image, item)
    images = sorted(unique)
    presence = {img: (classes_of[img] if classes_of is not None and img in classes_of
                      else image_classes(dataset, unique[img])) for img in images}
    frequency: dict[int, int] = {}
    for classes in presence.values():
        for c in classes:
            frequency[c] = frequency.get(c, 0) + 1
    strata: dict[int, list[str]] = {}
    for img in images:
        classes = presence[img]
        key = min(classes, key=lambda c: (frequency[c], c)) if classes else _NO_BOXES
        strata.setdefault(key, []).append(img)
    for members in strata.values():
        members.sort(key=lambda img: _rank_key(seed, _relative(img, root)))

    n_val, n_test = split_counts(len(images), val, test)
    sizes = {k: len(v) for k, v in strata.items()}
    val_alloc = _allocate(sizes, n_val, sizes, seed)
    caps = {k: sizes[k] - val_alloc[k] for k in sizes}
    test_alloc = _allocate(sizes, n_test, caps, seed + 1)
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for key, members in strata.items():
        v, t = val_alloc[key], test_alloc[key]
        out["val"].extend(members[:v])
        out["test"].extend(members[v:v + t])
        out["train"].extend(members[v + t:])
    return {s: _natural_paths(paths) for s, paths in out.items()}


def _natural_paths(paths: Iterable[str]) -> list[str]:
    by_dir: dict[str, list[str]] = {}
    for p in paths:
        d, name = os.path.split(p)
        by_dir.setdefault(d, []).append(name)
    return [os.path.join(d, n) for d in natural_sorted(by_dir) for n in natural_sorted(by_dir[d])]


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------
def list_line(image: str, list_dir: Path) -> str:
    """One image-list line: './rel/path' when the image is below the list's folder, else the absolute path."""
    image = os.path.abspath(image)
    base = str(list_dir.absolute()).rstrip(os.sep) + os.sep
    if image.startswith(base):
        return "./" + image[len(base):].replace(os.sep, "/")
    return image


def trainer_label_problems(dataset: Dataset, images: Sequence[str] | None = None) -> ProblemList:
    """Warnings about labels the trainer will not find: not YOLO, or not where it looks (the last '/images/' of
    the image path replaced by '/labels/', or beside the image when there is no images/ folder)."""
    problems = ProblemList()
    wanted = set(images) if images is not None else None
    items = [it for it in dataset.items if wanted is None or it.image in wanted]
    labelled = [it for it in items if it.label is not None]
    if dataset.label_format != "yolo":
        if labelled:
            problems.add(dataset.collection_file or dataset.root,
                         f"the labels are {dataset.label_format} files; the trainer reads YOLO txt files only: "
                         "convert them (labeltrain convert --to yolo) before training",
                         severity=Severity.WARNING, rule="split.label_format")
        return problems
    misplaced = [it for it in labelled if os.path.normpath(img2label_path(it.image)) != os.path.normpath(it.label)]
    if misplaced:
        first = misplaced[0]
        problems.add(Path(first.label), f"{len(misplaced)} of {len(labelled)} label files are not where the trainer "
                                        f"looks for them: for {first.image} it reads "
                                        f"{img2label_path(first.image)} (the last '/images/' folder replaced by "
                                        "'/labels/', else beside the image); those images would train as "
                                        "background. Move the labels or put the images in an images/ folder "
                                        "with a labels/ folder beside it",
                     severity=Severity.WARNING, rule="split.label_location")
    missing = len(items) - len(labelled)
    if missing:
        problems.add(dataset.root, f"{missing} images have no label file: the trainer uses them as background "
                                   "(negative) images", severity=Severity.INFO, rule="split.background")
    return problems


def _is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().rstrip("\r\n") == MARKER
    except OSError:
        return False


def _backup(path: Path) -> Path:
    """Copy a user's file aside (name.bak, name.bak1, ...) before it is replaced."""
    target = path.with_name(path.name + ".bak")
    i = 1
    while target.exists():
        target = path.with_name(f"{path.name}.bak{i}")
        i += 1
    shutil.copy2(path, target)
    return target


def _classes_for_yaml(dataset: Dataset, problems: ProblemList) -> ClassNames:
    classes = dataset.classes
    if not len(classes) and dataset.label_format == "yolo":
        top = max((c for it in dataset.items for c in _yolo_classes(it.label)), default=-1)
        if top >= 0:
            classes = classes.extended_to(top + 1)
            problems.add(dataset.root, f"no class names known: data.yaml names the {top + 1} classes used in the "
                                       "labels class0, class1...", severity=Severity.WARNING, rule="split.classes")
    if not len(classes):
        classes = ClassNames(("class0",))
        problems.add(dataset.root, "no classes known: data.yaml gets one placeholder class 'class0'",
                     severity=Severity.WARNING, rule="split.classes")
    return classes


def write_split(dataset: Dataset, splits: dict[str, list[str]], out_dir: str | os.PathLike[str] | None = None,
                *, problems: ProblemList | None = None) -> Path:
    """Write train.txt / val.txt (/ test.txt) and data.yaml into `out_dir` (default: the dataset root) and
    return the data.yaml path. User files are never moved; a data.yaml or list not written by labeltrain is
    copied to `<name>.bak` before being replaced.

    Warnings (labels the trainer will not find, replaced files...) are appended to `problems` when given and
    to `dataset.problems` (replacing those of an earlier call)."""
    out = Path(out_dir) if out_dir is not None else Path(dataset.root)
    out = out.absolute()
    out.mkdir(parents=True, exist_ok=True)
    found = ProblemList()
    yaml_path = out / YAML_NAME
    ours = _is_ours(yaml_path)

    lists: dict[str, str] = {}
    for key in SPLITS:
        paths = list(splits.get(key, []))
        if key == "test" and not paths:
            continue
        lines = []
        for image in paths:
            if "\n" in image or "\r" in image:
                found.add(Path(image), "a file name with a line break cannot be listed for the trainer; skipped",
                          rule="split.name")
                continue
            lines.append(list_line(image, out))
        if key == "val" and not lines:
            found.add(yaml_path, "no validation images: the trainer will validate on the training images",
                      severity=Severity.WARNING, rule="split.no_val")
            lists["val"] = lists.get("train", "train.txt")
            continue
        target = out / f"{key}.txt"
        if target.exists() and not ours:
            saved = _backup(target)
            found.add(target, f"an existing {target.name} was saved as {saved.name}", severity=Severity.INFO,
                      rule="split.backup")
        atomic_write_text(target, "".join(line + "\n" for line in lines))
        lists[key] = target.name

    classes = _classes_for_yaml(dataset, found)
    if yaml_path.exists() and not ours:
        saved = _backup(yaml_path)
        found.add(yaml_path, f"the existing {YAML_NAME} was replaced by the split; it was saved as {saved.name}",
                  severity=Severity.WARNING, rule="split.backup")
    text = MARKER + "\n" + dump_data_yaml(yaml_path, out, lists, classes)
    atomic_write_text(yaml_path, text)

    found.extend(trainer_label_problems(dataset, [p for k in SPLITS for p in splits.get(k, [])]))
    dataset.problems[:] = [p for p in dataset.problems if not p.rule.startswith("split.")]
    dataset.problems.extend(found)
    if problems is not None:
        problems.extend(found)
    return yaml_path
