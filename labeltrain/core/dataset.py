"""Dataset discovery: which images there are, where their label files are, which classes and format.

Listing never opens an image or a label file (no decode, no header read, no stat beyond what `os.scandir`
already returns): a folder of 100,000 images lists in well under a second. Label files are paired by name from
the same directory pass (a set of label file names per folder).

Layouts:
- ``folder``       LabelImg-style: images anywhere below the root; label files beside them, in a `labels/`
                   folder at the root mirroring the images' folders, or in an explicit `label_dir`;
- ``ultralytics``  `images/{train,val,test}/` + `labels/{...}` (or Roboflow's `{train,valid,test}/images/`);
                   label files where the trainer looks for them (last `/images/` -> `/labels/`);
- ``datayaml``     what a data.yaml lists (folders and/or .txt image lists);
- ``coco``         the images of a COCO JSON file;
- ``collection``   the images of a many-image CreateML JSON file.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

from labeltrain.core import formats
from labeltrain.core.classfile import CLASSES_FILE, read_classes_txt
from labeltrain.core.datayaml import SPLIT_KEYS, DataYaml, load_data_yaml
from labeltrain.core.formats.base import ReadResult, SizeFn, header_size
from labeltrain.core.images import IMAGE_EXTENSIONS
from labeltrain.core.model import Annotation, ClassNames
from labeltrain.core.problems import ProblemList, Severity

__all__ = ["ImageItem", "Dataset", "discover", "iter_image_batches", "load_annotation", "natural_key",
           "natural_sorted", "img2label_path", "LAYOUTS", "LABEL_MODES"]

LAYOUTS = ("folder", "ultralytics", "datayaml", "coco", "collection")  # collection: a CreateML JSON
# How per-image label files are found: beside the image; the trainer's rule (last /images/ -> /labels/);
# mirrored below `label_dir`; or in one collection file.
LABEL_MODES = ("beside", "images_to_labels", "label_dir", "collection")
DATA_YAML_NAMES = ("data.yaml", "data.yml")
SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
# Folders never searched for images (hidden folders, starting with '.', are skipped too, as the trainer's glob does).
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "__MACOSX", "$RECYCLE.BIN",
                       "System Volume Information"})
# A folder holding one of these is a training run (Ultralytics writes args.yaml, labeltrain events.jsonl): its
# images are plots (train_batch0.jpg, labels.jpg...), never dataset images, and its subfolders are weights.
RUN_MARKERS = frozenset({"args.yaml", "events.jsonl"})
_LABEL_SUFFIXES = (".txt", ".xml", ".json")  # candidates for per-image label files, by preference on ties
_LABEL_SUFFIX_SET = frozenset(_LABEL_SUFFIXES)
_IMG_SUFFIXES = frozenset("." + e for e in IMAGE_EXTENSIONS)
_IMG_EXTS = IMAGE_EXTENSIONS
_SEP = os.sep
_IMAGES_PART = f"{os.sep}images{os.sep}"
_LABELS_PART = f"{os.sep}labels{os.sep}"


# ---------------------------------------------------------------------------------------------------------
# Items and the dataset
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImageItem:
    image: str             # absolute path (str is cheaper than Path for 100k items)
    label: str | None      # absolute path of its label file if one exists, else None
    split: str | None = None  # 'train' | 'val' | 'test' | None


@dataclass
class Dataset:
    """A discovered dataset. `items` are in display order (folders and names in natural order; the
    ultralytics layout lists train, val, then test). Mutable on purpose: `load_annotation` extends `classes`
    with names a reader finds and caches a collection file's annotations."""

    root: Path
    layout: str            # 'folder' | 'ultralytics' | 'datayaml' | 'coco' | 'collection' (CreateML JSON)
    items: list[ImageItem]
    classes: ClassNames
    label_format: str      # registry name: 'yolo', 'voc', 'createml', 'labelme', 'coco'
    label_dir: Path | None = None           # separate label folder for per-image formats
    data_yaml: Path | None = None
    collection_file: Path | None = None     # the COCO / CreateML JSON for collection formats
    problems: ProblemList = field(default_factory=ProblemList)
    # additions
    label_mode: str = "auto"                # one of LABEL_MODES; 'auto' derives it from layout / label_dir
    image_root: Path | None = None          # collection formats: folder the file names are relative to
    classes_file: Path | None = None        # where the class names came from (classes.txt / data.yaml), if any
    _collection: dict[str, Annotation] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def resolved_label_mode(self) -> str:
        if self.label_mode != "auto":
            return self.label_mode
        if self.collection_file is not None or self.layout == "coco":
            return "collection"
        if self.label_dir is not None:
            return "label_dir"
        if self.layout in ("ultralytics", "datayaml"):
            return "images_to_labels"
        return "beside"

    @property
    def label_suffix(self) -> str:
        return _format_suffix(self.label_format)

    def label_path(self, image: str | os.PathLike[str]) -> Path:
        """Where this image's label file is or would be. Collection formats: the collection file."""
        mode = self.resolved_label_mode
        img = os.path.abspath(os.fspath(image))
        if mode == "collection":
            return self.collection_file if self.collection_file is not None else Path(img).with_suffix(".json")
        suffix = self.label_suffix
        if mode == "images_to_labels":
            return Path(img2label_path(img, suffix))
        folder, name = os.path.split(img)
        stem = name.rpartition(".")[0] or name
        if mode == "label_dir" and self.label_dir is not None:
            return Path(_mirror(folder, str(self.root), str(self.label_dir))) / (stem + suffix)
        return Path(folder) / (stem + suffix)

    def splits(self) -> dict[str | None, int]:
        """Number of items per split (None = not in a split)."""
        counts: dict[str | None, int] = {}
        for item in self.items:
            counts[item.split] = counts.get(item.split, 0) + 1
        return counts

    def labelled_count(self) -> int:
        return sum(1 for item in self.items if item.label is not None)


def img2label_path(image: str, suffix: str = ".txt") -> str:
    """Ultralytics' img2label_paths for one path: the last '/images/' becomes '/labels/', the extension `suffix`."""
    return _LABELS_PART.join(image.rsplit(_IMAGES_PART, 1)).rsplit(".", 1)[0] + suffix


def _mirror(folder: str, root: str, label_dir: str) -> str:
    """The folder below `label_dir` that mirrors `folder` below `root` (label_dir itself outside root)."""
    if folder == root:
        return label_dir
    if folder.startswith(root + _SEP):
        return label_dir + folder[len(root):]
    return label_dir


def _format_suffix(name: str) -> str:
    try:
        return formats.get(name).suffix or ".txt"
    except formats.UnknownFormatError:
        return ".txt"


# ---------------------------------------------------------------------------------------------------------
# Natural sort
# ---------------------------------------------------------------------------------------------------------
_DIGITS = re.compile(r"(\d+)")
_split_digits = _DIGITS.split
_DIGIT_MASK = bytes.maketrans(b"0123456789", b"0000000000")
_ZERO_RUNS = re.compile(rb"0+")
_find_digits = re.compile(r"\d+").findall
_split_bdigits = re.compile(rb"([0-9]+)").split


def natural_key(s: str) -> tuple:
    """Sort key that orders digit runs by value: img2 < img10; case-insensitive, ties broken by the text."""
    parts: list[Any] = _split_digits(s.casefold())
    parts[1::2] = map(int, parts[1::2])
    return (tuple(parts), s)


def natural_sorted(names: Iterable[str]) -> list[str]:
    """`sorted(names, key=natural_key)`, with two fast paths for the usual folder of numbered files:
    - one digit layout (IMG_0001 ... IMG_9999, 000000391895.jpg): case-folded plain order is natural order;
    - one text with numbers of varying length (img1 ... img100000): order by the numbers alone.
    Both are detected with a few C-level passes over all names joined in one bytes object."""
    names = list(names)
    if len(names) < 2:
        return names
    names.sort()  # ties (same natural key) keep plain order, as natural_key's tie-break does
    try:
        blob = "\0".join(names).encode("ascii")  # file names cannot contain NUL
    except UnicodeEncodeError:
        blob = b""
    if blob:
        masked = blob.translate(_DIGIT_MASK)
        # Same ASCII length and digit runs in the same places: comparing the case-folded text is the natural
        # comparison (equal-length digit runs compare by value).
        masks = set(masked.split(b"\0"))
        if len(masks) == 1:
            low = blob.lower()
            if low != blob:
                lows = low.split(b"\0")
                if lows != sorted(lows):
                    names.sort(key=str.casefold)
            return names
        # Identical text around the digit runs: only the numbers decide. (Numbers of varying length give a
        # few masks; hash-like names give one per name and go straight to the general path.)
        skeletons = set(_ZERO_RUNS.sub(b"0", masked).split(b"\0")) if len(masks) <= 64 else ()
        if len(skeletons) == 1:
            (skeleton,) = skeletons
            keys: list[Any]
            if skeleton.count(b"0") == 1:
                start, tail = skeleton.index(b"0"), len(skeleton) - skeleton.index(b"0") - 1
                keys = [int(n[start:len(n) - tail]) for n in names]
            else:
                keys = [tuple(map(int, _find_digits(n))) for n in names]
            return [names[i] for i in sorted(range(len(names)), key=keys.__getitem__)]
        # General path on ASCII bytes (cheaper to lower-case and split than str).
        with _gc_paused():  # one key list per name: no use scanning them for cycles
            keys = [_natural_bytes(b) for b in blob.lower().split(b"\0")]
            order = sorted(range(len(names)), key=keys.__getitem__)
        return [names[i] for i in order]
    with _gc_paused():
        names.sort(key=_natural_only)
    return names


def _natural_bytes(b: bytes) -> list[Any]:
    parts: list[Any] = _split_bdigits(b)
    parts[1::2] = map(int, parts[1::2])
    return parts


def _natural_only(s: str) -> list[Any]:
    parts: list[Any] = _split_digits(s.casefold())
    parts[1::2] = map(int, parts[1::2])
    return parts


# ---------------------------------------------------------------------------------------------------------
# Directory walk
# ---------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Folder:
    path: str
    images: list[str]                 # image file names (natural order after prepare())
    labels: dict[str, list[str]]      # label suffix ('.txt') -> stems of those files (classes.txt left out)
    has_classes: bool = False         # a classes.txt is in this folder
    stems: list[str] | None = None    # image stems, aligned with images (prepare())
    stem_set: set[str] | None = None
    # The provisional items a `listed` callback got for this folder, and the (label folder, suffix, split) they
    # were paired with: when the final pairing is the same, the final items are these very objects.
    items: list[ImageItem] | None = None
    items_key: tuple[str, str, str | None] | None = None
    checked: bool = False             # the same-stem check was done (by the lister)

    def has_images(self) -> bool:
        return bool(self.images) or self.items is not None

    def prepare(self) -> list[str]:
        """Sort the images naturally and compute their stems, once (again from `items` after release())."""
        if self.stems is None:
            if self.items is not None and not self.images:
                start = len(self.path) + 1
                self.stems = [p[start:p.rfind(".")] for p in (it.image for it in self.items)]
            else:
                self.images = natural_sorted(self.images)
                self.stems = [n[:n.rfind(".")] for n in self.images]
        return self.stems

    def release(self) -> None:
        """Drop the per-name working data once `items` hold the images (the lister's pass): freed while the walk
        goes on, these small strings leave no holes between the items that stay (~10 MB less at 100k)."""
        self.images, self.stems, self.stem_set = [], None, None

    def image_stem_set(self) -> set[str]:
        if self.stem_set is None:
            self.stem_set = set(self.prepare())
        return self.stem_set


_Listing = tuple[list[str], dict[str, list[str]], bool, list[str]]  # images, label stems, classes.txt, subdirs


class _Walker:
    """Depth-first scandir walk: one pass gives image names and label-file stems per folder, nothing else
    (no stat beyond the entry type scandir already has; one extra lstat per *symlinked* folder)."""

    def __init__(self, problems: ProblemList | None, skip_special: bool = True,
                 cancelled: Callable[[], bool] | None = None, progress: Callable[[int], None] | None = None,
                 exclude: Iterable[str] = (), rank: Callable[[str], int] | None = None):
        self.problems = problems
        self.skip_special = skip_special
        self.cancelled = cancelled
        self.progress = progress
        self.exclude = {os.path.normcase(x) for x in exclude}
        self.rank = rank  # subfolders are walked in natural order, then (stably) by rank(path)
        self.count = 0
        self.was_cancelled = False
        self._last_progress = 0
        self._links: set[str] = set()  # symlinked subfolders of the folder scan_dir listed last
        self._prelisted: dict[str, tuple[_Listing, frozenset[str]]] = {}

    def prelist(self, d: str) -> _Listing:
        """List `d` ahead of the walk (a label folder needed early); when the walk gets there it reuses this."""
        listing = self.scan_dir(d)
        self._prelisted[d] = (listing, frozenset(self._links))
        return listing

    def scan_dir(self, d: str) -> _Listing:
        pre = self._prelisted.pop(d, None)
        if pre is not None:
            self._links.clear()
            self._links.update(pre[1])
            return pre[0]
        images: list[str] = []
        labels: dict[str, list[str]] = {s: [] for s in _LABEL_SUFFIXES}
        has_classes = False
        is_run = False
        subdirs: list[str] = []
        links = self._links
        links.clear()
        img_suffixes, label_suffixes = _IMG_SUFFIXES, _LABEL_SUFFIX_SET
        try:
            with os.scandir(d) as it:
                for e in it:
                    name = e.name
                    if name[0] == ".":  # hidden, as the trainer's glob skips them
                        continue
                    try:
                        dot = name.rfind(".")
                        if dot > 0:
                            ext = name[dot:]
                            if ext in label_suffixes:  # exact case: the trainer looks for '.txt'
                                if e.is_file():
                                    stem = name[:dot]
                                    if stem == "classes" and ext == ".txt":
                                        has_classes = True
                                    else:
                                        labels[ext].append(stem)
                                    continue
                            elif ext.lower() in img_suffixes and e.is_file():
                                images.append(name)
                                continue
                        if name in RUN_MARKERS:
                            is_run = True
                            continue
                        if e.is_dir():
                            subdirs.append(name)
                            if e.is_symlink():  # free: the entry type came with the listing
                                links.add(name)
                    except OSError:
                        continue
        except OSError as exc:
            if self.problems is not None:
                self.problems.add(Path(d), f"cannot list folder: {exc.strerror or exc}", severity=Severity.WARNING,
                                  rule="dataset.unreadable_dir")
        if is_run:  # a training run folder inside the dataset (its runs/): nothing in it is the dataset's
            links.clear()
            return [], {}, False, []
        return images, {k: v for k, v in labels.items() if v}, has_classes, subdirs

    def walk(self, root: str) -> Iterator[_Folder]:
        """Folders that hold images, label files or a classes.txt, depth-first, subfolders in natural order."""
        stack = [root]
        seen_real = {os.path.realpath(root)}
        while stack:
            if self.cancelled is not None and self.cancelled():
                self.was_cancelled = True
                return
            d = stack.pop()
            images, labels, has_classes, subdirs = self.scan_dir(d)
            if subdirs:
                keep = []
                for name in subdirs:
                    if self.skip_special and name in SKIP_DIRS:
                        continue
                    full = d + _SEP + name
                    if self.exclude and os.path.normcase(full) in self.exclude:
                        continue
                    if name in self._links:  # guard against symlink loops
                        real = os.path.realpath(full)
                        here = os.path.realpath(d)
                        if real in seen_real or (here + _SEP).startswith(real + _SEP):
                            continue
                        seen_real.add(real)
                    keep.append(full)
                keep = natural_sorted(keep)
                if self.rank is not None:
                    keep.sort(key=self.rank)
                keep.reverse()
                stack.extend(keep)
            if images or labels or has_classes:
                self.count += len(images)
                if self.progress is not None and self.count - self._last_progress >= 1000:
                    self._last_progress = self.count
                    self.progress(self.count)
                yield _Folder(d, images, labels, has_classes)
        if self.progress is not None and self._last_progress != self.count:
            self.progress(self.count)


def iter_image_batches(root: str | os.PathLike[str], batch: int = 2000,
                       cancelled: Callable[[], bool] | None = None) -> Iterator[list[str]]:
    """Stream the images below `root` (absolute paths) in natural order, in batches of about `batch`, as the
    walk goes: the GUI can fill its list before the whole tree is known. Same skip rules as `discover`."""
    root_s = os.path.abspath(os.fspath(root))
    walker = _Walker(None, cancelled=cancelled)
    buf: list[str] = []
    for folder in walker.walk(root_s):
        if not folder.images:
            continue
        prefix = folder.path + _SEP
        buf.extend([prefix + n for n in natural_sorted(folder.images)])  # no stems needed here
        while len(buf) >= batch:
            yield buf[:batch]
            buf = buf[batch:]
    if buf:
        yield buf


# ---------------------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------------------
def discover(path: str | os.PathLike[str], *, label_dir: Path | None = None, classes_file: Path | None = None,
             progress: Callable[[int], None] | None = None, cancelled: Callable[[], bool] | None = None,
             label_format: str | None = None, images_dir: Path | None = None,
             listed: Callable[[list[ImageItem]], None] | None = None) -> Dataset:
    """Find the images below `path` (a folder, a data.yaml, or a COCO / CreateML JSON) and their label files.

    `label_format` forces the format instead of detecting it; `images_dir` is the folder the image names of a
    JSON collection are relative to (default: guessed from where the images are). `progress(n)` gets the number
    of images found so far; `cancelled()` stops the walk (the dataset is then incomplete and says so).
    `listed(items)` (folders only) gets each folder's images as soon as the walk lists them, as provisional
    items: labels paired by a rule guessed on the first folder. The returned Dataset is what counts; its items
    are the provisional objects wherever the final pairing agrees, usually in the same order (the Ultralytics
    layout lists train, val, test first; a split from a data.yaml beside a folder is set only at the end).
    Never raises on bad input: missing paths, empty folders, broken YAML... become `Dataset.problems`."""
    p = Path(os.path.abspath(os.fspath(path)))
    problems = ProblemList()
    fallback_format = label_format or "yolo"
    if label_format is not None:
        try:
            forced = formats.get(label_format)
        except formats.UnknownFormatError as exc:
            problems.add(p, str(exc.args[0]), rule="dataset.format")
            return Dataset(p, "folder", [], ClassNames(), "yolo", problems=problems)
    else:
        forced = None
    if not p.exists():
        problems.add(p, "path does not exist", rule="dataset.missing")
        return Dataset(p, "folder", [], ClassNames(), fallback_format, problems=problems)
    if p.is_file():
        lower = p.name.lower()
        if lower.endswith((".yaml", ".yml")):
            ds = _discover_datayaml(p, problems, progress, cancelled, forced)
        elif lower.endswith(".json"):
            ds = _discover_collection(p, problems, forced, images_dir)
        else:
            problems.add(p, "not a folder, a data.yaml or a COCO / CreateML JSON file", rule="dataset.not_folder")
            return Dataset(p.parent, "folder", [], ClassNames(), fallback_format, problems=problems)
    elif not p.is_dir():
        problems.add(p, "not a folder", rule="dataset.not_folder")
        return Dataset(p, "folder", [], ClassNames(), fallback_format, problems=problems)
    elif forced is not None and not forced.per_image:
        problems.add(p, f"{forced.title} keeps all labels in one file: open that JSON file instead of the folder",
                     rule="dataset.format")
        return Dataset(p, "folder", [], ClassNames(), forced.name, problems=problems)
    elif label_dir is None and _is_ultralytics_layout(p):
        ds = _discover_ultralytics(p, problems, progress, cancelled, forced, listed)
    elif label_dir is None and p.name == "images" and _is_ultralytics_layout(p.parent):
        ds = _discover_ultralytics(p.parent, problems, progress, cancelled, forced, listed)  # opened proj/images
    else:
        ds = _discover_folder(p, label_dir, problems, progress, cancelled, forced, listed)
    if classes_file is not None:
        classes, class_problems = read_classes_txt(Path(classes_file))
        ds.problems.extend(class_problems)
        ds.classes, ds.classes_file = classes, Path(classes_file)
    if not ds.items and not any(pr.rule in ("dataset.cancelled", "dataset.format") for pr in ds.problems):
        ds.problems.add(p, "no images found", severity=Severity.WARNING, rule="dataset.empty")
    return ds


def _is_ultralytics_layout(root: Path) -> bool:
    images = root / "images"
    if images.is_dir():
        try:
            with os.scandir(images) as it:
                if any(e.name in SPLIT_FOLDERS and e.is_dir() for e in it):
                    return True
        except OSError:
            pass
    return sum(1 for s in SPLIT_FOLDERS if (root / s / "images").is_dir()) >= 1


def _root_data_yaml(root: Path) -> Path | None:
    for name in DATA_YAML_NAMES:
        candidate = root / name
        if candidate.is_file():
            return candidate
    return None


def _same_stem_check(folder: _Folder, problems: ProblemList) -> None:
    """Flag images of one folder that share a stem (img.jpg + img.png): one label file for both."""
    if len(folder.image_stem_set()) == len(folder.images):
        return
    by_stem: dict[str, list[str]] = {}
    for n, stem in zip(folder.images, folder.prepare()):
        by_stem.setdefault(stem, []).append(n)
    for stem, group in by_stem.items():
        if len(group) > 1:
            group = natural_sorted(group)
            problems.add(Path(folder.path) / group[0],
                         f"images {', '.join(group)} share the stem {stem!r}: they would share one label file",
                         severity=Severity.WARNING, rule="dataset.same_stem")


class _LabelIndex:
    """Label-file stems per folder and suffix, from the walk (sets built lazily, once). A label folder outside
    the walked trees (the user opened `proj/images`, labels are in `proj/labels`) is listed on first use."""

    def __init__(self, folders: Iterable[_Folder], walked: Iterable[str] = ()):
        self.by_path = {f.path: f for f in folders if f.labels}
        self.walked = [w.rstrip(_SEP) for w in walked]
        self.cache: dict[tuple[str, str], set[str]] = {}
        self._scanner = _Walker(None)

    def add(self, folders: Iterable[_Folder], walked: str | None = None) -> None:
        self.by_path.update((f.path, f) for f in folders if f.labels)
        if walked is not None:
            self.walked.append(walked.rstrip(_SEP))

    def release(self, folder: str, suffix: str) -> None:
        self.cache.pop((folder, suffix), None)

    def _outside_walk(self, folder: str) -> bool:
        return not any(folder == w or folder.startswith(w + _SEP) for w in self.walked)

    def stems(self, folder: str, suffix: str) -> set[str]:
        key = (folder, suffix)
        found = self.cache.get(key)
        if found is None:
            f = self.by_path.get(folder)
            if f is None and self._outside_walk(folder):
                _, labels, has_classes, _ = self._scanner.scan_dir(folder)  # a missing folder lists as empty
                f = self.by_path[folder] = _Folder(folder, [], labels, has_classes)
            names = f.labels.get(suffix) if f is not None else None
            found = self.cache[key] = set(names) if names else set()
        return found


def _choose_json_format(sample: str) -> str:
    """Which per-image JSON format (createml, labelme) a sample label file is in."""
    candidates = [f for f in formats.all_formats() if f.per_image and f.suffix == ".json"]
    for fmt in candidates:
        try:
            if fmt.detect(Path(sample)):
                return fmt.name
        except Exception:  # a detector must not break discovery
            continue
    return candidates[0].name if candidates else "labelme"


def _format_for_suffix(suffix: str, sample: str | None) -> str:
    if suffix == ".json":
        return _choose_json_format(sample) if sample else "labelme"
    for fmt in formats.all_formats():
        if fmt.per_image and fmt.suffix == suffix:
            return fmt.name
    return "yolo"


def _pair_folders(folders: list[_Folder], label_folder_of: Callable[[str], str], suffix: str,
                  split_of: Callable[[str], str | None], index: _LabelIndex,
                  problems: ProblemList) -> list[ImageItem]:
    """Items in folder order, natural order inside a folder; label files looked up in the stem sets."""
    with _gc_paused():
        return _pair(folders, label_folder_of, suffix, split_of, index, problems)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC passes while 100k small objects are created (they hold no cycles): ~30% faster."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _pair(folders: list[_Folder], label_folder_of: Callable[[str], str], suffix: str,
          split_of: Callable[[str], str | None], index: _LabelIndex, problems: ProblemList) -> list[ImageItem]:
    items: list[ImageItem] = []
    extend = items.extend
    item = ImageItem
    for folder in folders:
        if not folder.has_images():
            continue
        if not folder.checked:
            _same_stem_check(folder, problems)
        lf = label_folder_of(folder.path)
        split = split_of(folder.path)
        if folder.items is not None and folder.items_key == (lf, suffix, split):
            extend(folder.items)  # what `listed` got: same label folder and stems, so the same items
            folder.items = None
            index.release(lf, suffix)
            continue
        image_stems = folder.prepare()
        stems = index.stems(lf, suffix)
        prefix = folder.path + _SEP
        lprefix = lf + _SEP
        if folder.items is not None:  # the lister's guess was wrong: new items, same path strings
            paths = [it.image for it in folder.items]
            labels = [lprefix + s + suffix if s in stems else None for s in image_stems] if stems else repeat(None)
            extend(map(item, paths, labels, repeat(split)))
        elif stems:
            paths = [prefix + n for n in folder.images]
            labels = [lprefix + s + suffix if s in stems else None for s in image_stems]
            extend(map(item, paths, labels, repeat(split)))
        else:
            extend(map(item, [prefix + n for n in folder.images], repeat(None), repeat(split)))
        # Free this folder's working data now: keeps the peak memory of a 100k listing low.
        folder.images, folder.stems, folder.stem_set, folder.items = [], None, None, None
        index.release(lf, suffix)
    return items


class _Lister:
    """Feeds `discover(listed=...)`: each folder of images as provisional items, as soon as the walk lists it.

    The label rule (mode, suffix) is guessed on the first folder of images with discover's own scoring; a label
    folder the walk has not reached yet is listed ahead through the walker, which then reuses that listing."""

    def __init__(self, listed: Callable[[list[ImageItem]], None], modes: dict[str, Callable[[str], str]],
                 suffixes: tuple[str, ...], split_of: Callable[[str], str | None],
                 fallback: Callable[[_Folder], tuple[Callable[[str], str], str]], problems: ProblemList,
                 walks: list[tuple[str, str | None]], accept: Callable[[str], bool] | None = None):
        self.listed = listed
        self.modes = modes
        self.suffixes = suffixes
        self.split_of = split_of
        self.fallback = fallback
        self.problems = problems
        self.walks = walks  # (top, excluded folder or None) of every walk whose label files discover indexes
        self.accept = accept
        self.walker: _Walker | None = None
        self.rule: tuple[Callable[[str], str], str] | None = None
        # Image/label pairs each (mode, suffix) finds, summed over the folders listed: discover's own scoring,
        # done here because the image stems are released after each folder. Dict order = preference order.
        self.scores: dict[tuple[str, str], int] = {(m, s): 0 for m in modes for s in suffixes}
        self._labels: dict[str, dict[str, list[str]]] = {}  # label stems of the folders listed so far

    def add(self, folder: _Folder) -> None:
        self._labels[folder.path] = folder.labels  # listed: never list it again for its label files
        if not folder.images or (self.accept is not None and not self.accept(folder.path)):
            return
        stems = folder.prepare()
        hits = self._hits(folder)
        for key, n in hits.items():
            self.scores[key] += n
        if self.rule is None:
            best = max(hits.values(), default=0)
            if best > 0:
                mode, suffix = next(k for k, v in hits.items() if v == best)
                self.rule = (self.modes[mode], suffix)
            else:
                self.rule = self.fallback(folder)
        label_folder_of, suffix = self.rule
        lf = label_folder_of(folder.path)
        names = self._label_stems(lf).get(suffix)
        split = self.split_of(folder.path)
        prefix = folder.path + _SEP
        paths = [prefix + n for n in folder.images]
        with _gc_paused():
            if names:
                have = set(names)
                lprefix = lf + _SEP
                labels = [lprefix + s + suffix if s in have else None for s in stems]
                items = list(map(ImageItem, paths, labels, repeat(split)))
            else:
                items = list(map(ImageItem, paths, repeat(None), repeat(split)))
        folder.items, folder.items_key = items, (lf, suffix, split)
        _same_stem_check(folder, self.problems)
        folder.checked = True
        folder.release()
        self.listed(items)

    def _hits(self, folder: _Folder) -> dict[tuple[str, str], int]:
        """Pairs each (mode, suffix) finds in this folder, as discover's scoring counts them."""
        hits: dict[tuple[str, str], int] = {}
        stem_set = folder.image_stem_set()
        for mode, fn in self.modes.items():
            lf = fn(folder.path)
            if mode == "images_to_labels" and lf == folder.path:
                continue
            labels = self._label_stems(lf)
            for suffix in self.suffixes:
                names = labels.get(suffix)
                hits[(mode, suffix)] = len(stem_set.intersection(names)) if names else 0
        return hits

    def _label_stems(self, folder: str) -> dict[str, list[str]]:
        """Label stems of a folder as discover's label index will see them: listed by a walk (ahead of it if it
        has not got there yet), empty if a walk skips it (hidden, excluded...), listed once if outside them."""
        found = self._labels.get(folder)
        if found is None:
            found = {}
            if self.walker is not None and self._visible(folder) and os.path.isdir(folder):
                found = self.walker.prelist(folder)[1]
            self._labels[folder] = found
        return found

    def _visible(self, folder: str) -> bool:
        for top, excluded in self.walks:
            if folder == top or folder.startswith(top + _SEP):
                if excluded is not None and (folder == excluded or folder.startswith(excluded + _SEP)):
                    continue
                parts = folder[len(top) + 1:].split(_SEP) if folder != top else []
                return not any(p.startswith(".") or p in SKIP_DIRS for p in parts)
        return True  # outside every walk: the label index lists it on demand


def _walk_all(root: str, problems: ProblemList, progress, cancelled, exclude: Iterable[str] = (),
              lister: _Lister | None = None, rank: Callable[[str], int] | None = None
              ) -> tuple[list[_Folder], bool]:
    walker = _Walker(problems, cancelled=cancelled, progress=progress, exclude=exclude, rank=rank)
    if lister is None:
        folders = list(walker.walk(root))
    else:
        lister.walker = walker
        folders = []
        for folder in walker.walk(root):
            lister.add(folder)
            folders.append(folder)
    if walker.was_cancelled:
        problems.add(Path(root), "listing cancelled: the dataset is incomplete", severity=Severity.WARNING,
                     rule="dataset.cancelled")
    return folders, walker.was_cancelled


def _find_classes(root: Path, label_folders: Iterable[str], folders: list[_Folder], data_yaml: DataYaml | None,
                  problems: ProblemList) -> tuple[ClassNames, Path | None]:
    if data_yaml is not None and len(data_yaml.names):
        return data_yaml.names, data_yaml.path
    candidates = [str(root)]
    candidates.extend(label_folders)
    seen: set[str] = set()
    for folder in candidates:
        if folder in seen:
            continue
        seen.add(folder)
        f = Path(folder) / CLASSES_FILE
        if f.is_file():
            classes, class_problems = read_classes_txt(f)
            problems.extend(class_problems)
            return classes, f
    for folder in folders:  # a classes.txt anywhere in the tree (LabelImg writes it into its save folder)
        if folder.has_classes:
            f = Path(folder.path) / CLASSES_FILE
            classes, class_problems = read_classes_txt(f)
            problems.extend(class_problems)
            return classes, f
    return ClassNames(), None


def _discover_folder(root: Path, label_dir: Path | None, problems: ProblemList, progress, cancelled,
                     forced: formats.LabelFormat | None, listed: Callable[[list[ImageItem]], None] | None = None
                     ) -> Dataset:
    root_s = str(root)
    explicit_label_dir = os.path.abspath(label_dir) if label_dir is not None else None
    default_label_dir = root_s + _SEP + "labels"
    exclude = [explicit_label_dir] if explicit_label_dir else []

    # Candidate ways of finding labels, scored by the number of image/label pairs each finds.
    modes: dict[str, Callable[[str], str]] = {}
    if explicit_label_dir is not None:
        modes["label_dir"] = lambda d: _mirror(d, root_s, explicit_label_dir)
    else:
        modes["beside"] = lambda d: d
        modes["images_to_labels"] = lambda d: _LABELS_PART.join((d + _SEP).rsplit(_IMAGES_PART, 1))[:-1]
        if os.path.isdir(default_label_dir):
            modes["label_dir"] = lambda d: _mirror(d, root_s, default_label_dir)
    suffixes = (forced.suffix,) if forced is not None else _LABEL_SUFFIXES

    def fallback_mode(image_folders: list[_Folder]) -> str:
        """The label rule when no label file is found: where new labels should go."""
        if explicit_label_dir is not None:
            return "label_dir"
        if any(_IMAGES_PART in f.path + _SEP for f in image_folders):
            return "images_to_labels"  # new labels go where the trainer will look for them
        return "label_dir" if "label_dir" in modes else "beside"

    lister = None
    if listed is not None:
        walks: list[tuple[str, str | None]] = [(root_s, explicit_label_dir)]
        if explicit_label_dir is not None:
            walks.insert(0, (explicit_label_dir, None))
        lister = _Lister(listed, modes, suffixes, lambda d: None, lambda f: (modes[fallback_mode([f])], suffixes[0]),
                         problems, walks)
    folders, _ = _walk_all(root_s, problems, progress, cancelled, exclude=exclude, lister=lister)
    index = _LabelIndex(folders, [root_s])
    if explicit_label_dir is not None:  # walk the label folder for names only
        label_folders_walked = list(_Walker(problems).walk(explicit_label_dir))
        index.add(label_folders_walked, explicit_label_dir)
        folders_for_classes = label_folders_walked + folders
    else:
        folders_for_classes = folders
    image_folders = [f for f in folders if f.has_images()]

    scores: dict[tuple[str, str], int] = {}
    if lister is not None:
        scores = lister.scores  # counted folder by folder as they were listed
    else:
        for mode, fn in modes.items():
            for suffix in suffixes:
                total = 0
                for f in image_folders:
                    lf = fn(f.path)
                    if mode == "images_to_labels" and lf == f.path:
                        continue
                    stems = index.stems(lf, suffix)
                    if stems:
                        total += len(f.image_stem_set() & stems)
                scores[(mode, suffix)] = total
    best = max(scores.values(), default=0)
    if best > 0:
        mode, suffix = next(k for k, v in scores.items() if v == best)  # dict order = preference order
        elsewhere = {m: v for (m, s), v in scores.items() if s == suffix and v > 0 and m != mode}
        if elsewhere:
            also = ", ".join(f"{m} ({v})" for m, v in elsewhere.items())
            problems.add(root, f"label files found in more than one place: using {mode} ({best} labels); "
                               f"also {also}", severity=Severity.WARNING, rule="dataset.labels_in_two_places")
    else:
        suffix = suffixes[0]
        mode = fallback_mode(image_folders)
    label_folder_of = modes[mode]

    sample = None
    if suffix == ".json":
        for f in image_folders:
            lf = label_folder_of(f.path)
            common = index.stems(lf, suffix) & f.image_stem_set()
            if common:
                sample = lf + _SEP + min(common) + suffix
                break
    label_format = forced.name if forced is not None else _format_for_suffix(suffix, sample)

    items = _pair_folders(image_folders, label_folder_of, suffix, lambda d: None, index, problems)

    yaml_path = _root_data_yaml(root)
    if yaml_path is None and root.name == "images" and mode == "images_to_labels":
        yaml_path = _root_data_yaml(root.parent)  # opened proj/images of proj/{images,labels,data.yaml}
    dy = load_data_yaml(yaml_path) if yaml_path is not None else None
    if dy is not None:
        problems.extend(dy.problems)
        items = _assign_splits(items, dy)
    lbl_dir = Path(explicit_label_dir) if mode == "label_dir" and explicit_label_dir else (
        Path(default_label_dir) if mode == "label_dir" else None)
    label_folders = [str(lbl_dir)] if lbl_dir is not None else []
    if image_folders:
        label_folders.append(label_folder_of(image_folders[0].path))
    if root.name == "images":
        label_folders.append(str(root.parent))
    classes, cfile = _find_classes(root, label_folders, folders_for_classes, dy, problems)
    return Dataset(root, "folder", items, classes, label_format, label_dir=lbl_dir,
                   data_yaml=yaml_path, problems=problems, label_mode=mode, classes_file=cfile)


def _assign_splits(items: list[ImageItem], dy: DataYaml) -> list[ImageItem]:
    """Set `split` from a data.yaml next to a folder (what `write_split` produced), without listing again."""
    by_image: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    for split, entries in dy.splits.items():
        for entry in entries:
            e = str(entry)
            if os.path.isdir(e):
                prefixes.append((e + _SEP, split))
            elif os.path.isfile(e):
                for image in _read_image_list(entry, dy.root, None)[0]:
                    by_image.setdefault(image, split)
    if not by_image and not prefixes:
        return items
    out = []
    for it in items:
        split = by_image.get(it.image)
        if split is None:
            for prefix, s in prefixes:
                if it.image.startswith(prefix):
                    split = s
                    break
        out.append(ImageItem(it.image, it.label, split) if split != it.split else it)
    return out


def _split_of_ultralytics(root_s: str) -> Callable[[str], str | None]:
    n = len(root_s) + 1

    def split_of(d: str) -> str | None:
        parts = d[n:].split(_SEP)
        if len(parts) >= 2 and parts[0] == "images":
            return SPLIT_FOLDERS.get(parts[1])
        if len(parts) >= 2 and parts[1] == "images":
            return SPLIT_FOLDERS.get(parts[0])
        return None
    return split_of


def _ultralytics_walk_rank(root_s: str, rank: dict[str, int]) -> Callable[[str], int]:
    """Walk order for the Ultralytics layout: split folders (images/train, train/images...) train, val, test."""
    n = len(root_s) + 1
    last = len(rank)

    def walk_rank(d: str) -> int:
        parts = d[n:].split(_SEP, 2)
        name = parts[1] if parts[0] == "images" and len(parts) > 1 else parts[0]
        split = SPLIT_FOLDERS.get(name)
        return rank.get(split, last) if split is not None else last
    return walk_rank


def _discover_ultralytics(root: Path, problems: ProblemList, progress, cancelled,
                          forced: formats.LabelFormat | None,
                          listed: Callable[[list[ImageItem]], None] | None = None) -> Dataset:
    suffix = forced.suffix if forced is not None else ".txt"
    root_s = str(root)
    split_of = _split_of_ultralytics(root_s)
    rank = {s: i for i, s in enumerate(SPLIT_KEYS)}

    def label_folder_of(d: str) -> str:
        return _LABELS_PART.join((d + _SEP).rsplit(_IMAGES_PART, 1))[:-1]

    lister = None
    if listed is not None:
        lister = _Lister(listed, {"images_to_labels": label_folder_of, "beside": lambda d: d}, (suffix,), split_of,
                         lambda f: (label_folder_of, suffix), problems, [(root_s, None)],
                         accept=lambda d: _IMAGES_PART in d + _SEP)
    # The walk visits train, val, test first, so the folders come in the order the items are listed in.
    folders, _ = _walk_all(root_s, problems, progress, cancelled, lister=lister,
                           rank=_ultralytics_walk_rank(root_s, rank))
    # Only images below an `images` folder are training images (not runs/, previews...).
    image_folders = [f for f in folders if f.has_images() and _IMAGES_PART in f.path + _SEP]
    image_folders.sort(key=lambda f: rank.get(split_of(f.path) or "", len(rank)))  # train, val, test, others

    index = _LabelIndex(folders, [root_s])
    # Labels the editor (LabelImg) saved beside the images instead of in labels/: show them, and say that the
    # trainer will not find them.
    if lister is not None:  # counted as the folders were listed
        rule_hits, beside_hits = lister.scores[("images_to_labels", suffix)], lister.scores[("beside", suffix)]
    else:
        rule_hits = sum(len(f.image_stem_set() & index.stems(label_folder_of(f.path), suffix)) for f in image_folders)
        beside_hits = sum(len(f.image_stem_set() & index.stems(f.path, suffix)) for f in image_folders)
    mode = "images_to_labels"
    if beside_hits > rule_hits:
        mode = "beside"
        problems.add(root, f"{beside_hits} label files are beside their images, but the trainer looks for them in "
                           "the labels/ folder (images/... -> labels/...): move them there before training",
                     severity=Severity.WARNING, rule="dataset.labels_beside_images")
    items = _pair_folders(image_folders, label_folder_of if mode == "images_to_labels" else (lambda d: d), suffix,
                          split_of, index, problems)
    yaml_path = _root_data_yaml(root)
    dy = None
    if yaml_path is not None:
        dy = load_data_yaml(yaml_path)
        problems.extend(dy.problems)
    label_folders = [root_s + _SEP + "labels"] + [label_folder_of(f.path) for f in image_folders[:1]]
    classes, cfile = _find_classes(root, label_folders, folders, dy, problems)
    return Dataset(root, "ultralytics", items, classes, forced.name if forced is not None else "yolo",
                   data_yaml=yaml_path, problems=problems, label_mode=mode, classes_file=cfile)


# ---------------------------------------------------------------------------------------------------------
# data.yaml
# ---------------------------------------------------------------------------------------------------------
def _read_image_list(list_file: Path, root: Path, problems: ProblemList | None) -> tuple[list[str], list[int]]:
    """Image paths of a .txt list, as the trainer reads it (ultralytics BaseDataset.get_img_files): UTF-8 with
    or without BOM, './x' relative to the list's folder, other paths used as they are. A relative path without
    './' depends on the trainer's working directory; labeltrain resolves it against the dataset root and warns.
    Returns the paths (normalised, absolute) and their 1-based line numbers."""
    try:
        text = list_file.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        if problems is not None:
            problems.add(list_file, f"cannot read image list: {exc}", rule="dataset.list")
        return [], []
    parent = str(list_file.parent) + _SEP
    root_s = str(root) + _SEP
    out: list[str] = []
    lines: list[int] = []
    relative_line = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        x = raw.strip()
        if not x or x.rpartition(".")[2].lower() not in _IMG_EXTS:
            continue
        if x.startswith("./"):
            x = parent + x[2:]
        elif not os.path.isabs(x):
            if relative_line is None:
                relative_line = lineno
            x = root_s + x
        out.append(os.path.normpath(x))
        lines.append(lineno)
    if relative_line is not None and problems is not None:
        problems.add(list_file, "relative image paths without './': the trainer resolves them against its working "
                                "directory, labeltrain against the dataset root; start them with './' (relative to "
                                "the list) or make them absolute", line=relative_line, severity=Severity.WARNING,
                     rule="dataset.list_relative")
    return out, lines


def _dir_names(d: str, cache: dict[str, set[str] | None]) -> set[str] | None:
    names = cache.get(d, False)
    if names is False:
        try:
            with os.scandir(d) as it:
                names = {e.name for e in it}
        except OSError:
            names = None
        cache[d] = names
    return names  # type: ignore[return-value]


def _discover_datayaml(path: Path, problems: ProblemList, progress, cancelled,
                       forced: formats.LabelFormat | None) -> Dataset:
    suffix = forced.suffix if forced is not None and forced.per_image else ".txt"
    dy = load_data_yaml(path)
    problems.extend(dy.problems)
    walker = _Walker(problems, skip_special=False, cancelled=cancelled, progress=progress)
    dir_cache: dict[str, set[str] | None] = {}
    seen: dict[str, str] = {}
    per_split: dict[str, dict[str, list[str]]] = {}
    overlap = 0
    missing = 0
    for split in SPLIT_KEYS:
        groups = per_split.setdefault(split, {})
        for entry in dy.splits.get(split, []):
            if entry.is_dir():
                for folder in walker.walk(str(entry)):
                    if not folder.images:
                        continue
                    for name in folder.images:
                        full = folder.path + _SEP + name
                        if full in seen:
                            overlap += seen[full] != split
                            continue
                        seen[full] = split
                        groups.setdefault(folder.path, []).append(name)
            elif entry.is_file():
                if entry.name.rpartition(".")[2].lower() in _IMG_EXTS:
                    problems.add(entry, f"'{split}' points at an image; it must be a folder or a .txt image list",
                                 rule="dataset.list")
                    continue
                images, lines = _read_image_list(entry, dy.root, problems)
                for full, lineno in zip(images, lines):
                    d, name = os.path.split(full)
                    names = _dir_names(d, dir_cache)
                    if names is None or name not in names:
                        missing += 1
                        if missing <= 100:
                            problems.add(entry, f"listed image not found: {full}", line=lineno,
                                         rule="dataset.missing_image")
                        continue
                    if full in seen:
                        overlap += seen[full] != split
                        continue
                    seen[full] = split
                    groups.setdefault(d, []).append(name)
    if missing > 100:
        problems.add(path, f"{missing} listed images not found in total", rule="dataset.missing_image")
    if overlap:
        problems.add(path, f"{overlap} images are in more than one split (train/val leakage); each is shown in "
                           "the first split that lists it", severity=Severity.WARNING, rule="dataset.split_overlap")

    items: list[ImageItem] = []
    for split in SPLIT_KEYS:
        groups = per_split.get(split, {})
        for d in natural_sorted(groups):
            folder = _Folder(d, groups[d], {})
            stems = folder.prepare()
            _same_stem_check(folder, problems)
            lf = _LABELS_PART.join((d + _SEP).rsplit(_IMAGES_PART, 1))[:-1]
            lnames = _dir_names(lf, dir_cache) or set()
            prefix, lprefix = d + _SEP, lf + _SEP
            for name, stem in zip(folder.images, stems):
                ln = stem + suffix
                items.append(ImageItem(prefix + name, lprefix + ln if ln in lnames else None, split))
    if walker.was_cancelled:
        problems.add(path, "listing cancelled: the dataset is incomplete", severity=Severity.WARNING,
                     rule="dataset.cancelled")
    classes, cfile = dy.names, path
    if not len(classes):
        f = dy.root / CLASSES_FILE
        if f.is_file():
            classes, class_problems = read_classes_txt(f)
            problems.extend(class_problems)
            cfile = f
    fmt_name = forced.name if forced is not None and forced.per_image else "yolo"
    return Dataset(dy.root, "datayaml", items, classes, fmt_name, data_yaml=path, problems=problems,
                   label_mode="images_to_labels", classes_file=cfile)


# ---------------------------------------------------------------------------------------------------------
# COCO
# ---------------------------------------------------------------------------------------------------------
def _coco_image_root(json_path: Path, file_names: list[str]) -> Path | None:
    """The folder the COCO `file_name`s are relative to: the JSON's folder, an images/ folder beside it, its
    parent (annotations/instances_train2017.json -> ../train2017/), ... chosen by which holds a sample."""
    parent = json_path.parent
    candidates = [parent, parent / "images", parent.parent, parent.parent / "images"]
    stem = json_path.stem
    for prefix in ("instances_", "annotations_", "person_keypoints_"):
        if stem.startswith(prefix):
            sub = stem[len(prefix):]
            candidates += [parent.parent / sub, parent.parent / "images" / sub, parent / sub]
    candidates.append(parent / stem)
    sample = file_names[:: max(1, len(file_names) // 20)][:20]
    if not sample:
        return parent
    best, best_hits = None, 0
    for c in candidates:
        hits = sum(1 for f in sample if os.path.isfile(os.path.join(c, f)))
        if hits > best_hits:
            best, best_hits = c, hits
            if hits == len(sample):
                break
    return best


def _discover_collection(path: Path, problems: ProblemList, forced: formats.LabelFormat | None,
                         images_dir: Path | None) -> Dataset:
    """A COCO JSON (layout 'coco') or a many-image CreateML JSON (layout 'collection'): items from its image
    list, without reading the boxes (load_annotation reads the file through the registry on first use)."""
    def empty(msg: str, fmt: str = "coco", **kw: Any) -> Dataset:
        problems.add(path, msg, rule=kw.pop("rule", f"{fmt}.syntax"), **kw)
        return Dataset(path.parent, "coco" if fmt == "coco" else "collection", [], ClassNames(), fmt,
                       collection_file=path, problems=problems, label_mode="collection")

    try:
        with open(path, "rb") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        return empty(f"JSON syntax error: {exc.msg}", line=exc.lineno)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return empty(f"cannot read JSON: {exc}")
    names: list[str] = []
    classes = ClassNames()
    if isinstance(data, dict) and isinstance(data.get("images"), list) and (forced is None or forced.name == "coco"):
        fmt, layout, key = "coco", "coco", "file_name"
        entries = data["images"]
        cats = data.get("categories")
        if isinstance(cats, list):
            ordered = sorted((c for c in cats if isinstance(c, dict) and "id" in c), key=lambda c: _id_key(c["id"]))
            classes = ClassNames.of(str(c.get("name", f"class{c['id']}")) for c in ordered)
    elif isinstance(data, list) and (forced is None or forced.name == "createml") and all(
            isinstance(e, dict) and "image" in e for e in data[:50]):
        fmt, layout, key = "createml", "collection", "image"
        entries = data
    elif isinstance(data, dict) and "shapes" in data:
        return empty("a labelme file holds the labels of one image: open its folder instead", fmt="labelme",
                     where="$", rule="dataset.format")
    else:
        want = forced.title if forced is not None else "COCO JSON (an object with an 'images' list) or CreateML JSON"
        return empty(f"not a {want}", where="$", rule="dataset.format")
    for i, entry in enumerate(entries):
        name = entry.get(key) if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            where = f"$.images[{i}]" if fmt == "coco" else f"$[{i}]"
            problems.add(path, f"image entry without a '{key}'", where=where, rule=f"{fmt}.image")
            continue
        names.append(name.replace("\\", "/"))
    if images_dir is not None:
        image_root: Path | None = Path(os.path.abspath(images_dir))
    else:
        image_root = _coco_image_root(path, names)
        if image_root is None:
            problems.add(path, "none of the listed images were found beside the JSON file or in an images/ "
                               "folder; pass the image folder", severity=Severity.WARNING, rule=f"{fmt}.images")
            image_root = path.parent
    root_s = str(image_root)
    label = str(path)
    seen: set[str] = set()
    groups: dict[str, list[str]] = {}
    for name in names:
        full = os.path.normpath(os.path.join(root_s, name))
        if not full.startswith(root_s.rstrip(_SEP) + _SEP):
            problems.add(path, f"image path {name!r} leaves the image folder; skipped", rule=f"{fmt}.image")
            continue
        if full in seen:
            problems.add(path, f"image listed twice: {name}", severity=Severity.WARNING, rule=f"{fmt}.duplicate")
            continue
        seen.add(full)
        d, base = os.path.split(full)
        groups.setdefault(d, []).append(base)
    items: list[ImageItem] = []
    for d in natural_sorted(groups):
        folder = _Folder(d, groups[d], {})
        folder.prepare()
        _same_stem_check(folder, problems)
        prefix = d + _SEP
        items.extend(ImageItem(prefix + n, label, None) for n in folder.images)
    return Dataset(image_root, layout, items, classes, fmt, collection_file=path, problems=problems,
                   label_mode="collection", image_root=image_root, classes_file=path if len(classes) else None)


def _id_key(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


# ---------------------------------------------------------------------------------------------------------
# Reading labels
# ---------------------------------------------------------------------------------------------------------
def load_annotation(dataset: Dataset, item: ImageItem, size_fn: SizeFn = header_size) -> ReadResult:
    """The labels of one image, through the format registry. Collection formats are read once and cached on
    the dataset (their file-level problems go to `dataset.problems`). Class names a reader adds (VOC, labelme
    name new classes) extend `dataset.classes`, so ids stay the same across images."""
    fmt = formats.get(dataset.label_format)
    image = Path(item.image)
    if dataset.resolved_label_mode == "collection" or not fmt.per_image:
        cache = dataset._collection
        if cache is None:
            source = dataset.collection_file or (Path(item.label) if item.label else None)
            cache = {}
            if source is not None:
                res = fmt.read_collection(source, dataset.image_root or dataset.root, dataset.classes, size_fn)
                if len(res.classes) >= len(dataset.classes):
                    dataset.classes = res.classes
                dataset.problems.extend(res.problems)
                for ann in res.annotations:
                    cache[os.path.normpath(os.path.abspath(ann.image_path))] = ann
            dataset._collection = cache
        ann = cache.get(os.path.normpath(item.image))
        result = ReadResult(classes=dataset.classes)
        if ann is not None:
            result.annotations.append(ann)
        else:
            size = size_fn(image)
            if size is None:
                result.problems.add(image, "image cannot be read", rule="image.read")
            else:
                result.annotations.append(Annotation(image, size[0], size[1]))
        return result
    label = Path(item.label) if item.label is not None else dataset.label_path(item.image)
    result = fmt.read_file(label, image, dataset.classes, size_fn)
    if len(result.classes) > len(dataset.classes):
        dataset.classes = result.classes
    return result
