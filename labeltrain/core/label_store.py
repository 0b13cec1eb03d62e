"""Loading and saving one image's labels for the editor, so that no label is ever lost silently.

API (no Qt):
    store = LabelStore(dataset)                   # save_format 'yolo', label_dir None (the dataset's layout)
    loaded = store.load(item)                     # LoadedLabels(annotation, problems, fingerprint, label_path)
    fp = store.save(annotation, loaded.fingerprint)   # -> new Fingerprint; keep it as the next base
    store.keep_both(annotation)                   # after a LabelConflict: theirs -> conflict copy, ours saved

Policies:
- Conflicts: `save` compares the file on disk with the `base` Fingerprint taken when the labels were loaded
  (by content: size + SHA-1; a mere touch is no conflict). If another tool or a git checkout changed, created or
  deleted it, `LabelConflict(path, base, now)` is raised and nothing is written, unless `force=True`. The UI then
  offers reload (`load`), overwrite (`force=True`) or keep both (`keep_both`, copy named by `conflict_copy_path`).
- Empty files: an annotation without boxes never replaces a file that has content unless `allow_empty=True`
  (the user removed the boxes: EmptyOverwriteError otherwise). An image without boxes and without a label file
  gets no file unless `allow_empty=True` (a negative image the user confirmed; YOLO then writes an empty .txt,
  which the trainer reads as a background image, as it does a missing one).
- No drift: a YOLO row whose box is unchanged is written back with its original text (polygon rows included),
  and saving what is already on disk writes nothing (same bytes, same mtime). New or edited boxes are written
  with up to 10 decimals (`fmt_num`), enough to read back the same pixel floats. Rows the reader could not turn
  into a box (listed in `LoadedLabels.problems`) are not kept when a file is saved with other content.
- Clamping is an editing decision, not a storage one: the store writes boxes exactly as given and never clamps
  (the editor applies `Box.clamped` to boxes the user draws or moves; untouched boxes keep their numbers).
- Classes: saving YOLO labels when `dataset.classes` has grown (a class typed by the user) first writes the
  class names (`write_class_names`: classes.txt and data.yaml `names`). Any other difference in the class list
  (rename, reorder...) is left to `class_ops`, which also rewrites the label files.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from labeltrain.core import formats
from labeltrain.core.atomic import EmptyOverwriteError, atomic_write_bytes
from labeltrain.core.class_files import class_target, read_class_names, write_class_names
from labeltrain.core.dataset import Dataset, ImageItem, img2label_path, load_annotation
from labeltrain.core.formats.base import SizeFn, header_size
from labeltrain.core.formats.yolo import dump_yolo, parse_yolo
from labeltrain.core.model import Annotation, ClassNames
from labeltrain.core.problems import ProblemList

__all__ = ["Fingerprint", "fingerprint", "LoadedLabels", "LabelStore", "LabelConflict", "EmptyOverwriteError",
           "conflict_copy_path", "write_class_names", "SAVE_FORMATS"]

SAVE_FORMATS = ("yolo", "voc", "createml", "labelme")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a label file was when it was read: missing, or its size, mtime and SHA-1 of its content."""

    exists: bool
    size: int = 0
    mtime_ns: int = 0
    sha1: str | None = None  # None: missing, not a regular file, or unreadable

    def same_content(self, other: Fingerprint) -> bool:
        """True if both describe the same file content (mtime alone does not count as a change)."""
        if self.exists != other.exists:
            return False
        if not self.exists:
            return True
        if self.sha1 is not None and other.sha1 is not None:
            return self.sha1 == other.sha1
        return (self.size, self.mtime_ns) == (other.size, other.mtime_ns)


MISSING = Fingerprint(False)


def _read(path: Path) -> tuple[Fingerprint, bytes | None]:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING, None
    except OSError:
        return Fingerprint(True), None
    if not stat.S_ISREG(st.st_mode):
        return Fingerprint(True, st.st_size, st.st_mtime_ns), None
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            data = fh.read()
    except FileNotFoundError:
        return MISSING, None
    except OSError:
        return Fingerprint(True, st.st_size, st.st_mtime_ns), None
    return Fingerprint(True, len(data), st.st_mtime_ns, hashlib.sha1(data).hexdigest()), data


def fingerprint(path: str | os.PathLike[str]) -> Fingerprint:
    """Fingerprint of the file at `path` now (reads it to hash it: label files are small)."""
    return _read(Path(path))[0]


class LabelConflict(RuntimeError):
    """The label file changed on disk since it was loaded; nothing was written."""

    def __init__(self, path: Path, base: Fingerprint, now: Fingerprint):
        super().__init__(f"{path}: changed on disk since it was loaded")
        self.path, self.base, self.now = path, base, now


@dataclass(frozen=True)
class LoadedLabels:
    """Labels of one image. `annotation` is None when the image cannot be read. `label_path` is where `save`
    writes and `fingerprint` describes that file; `source` is the file the labels were read from (differs from
    `label_path` when the save format or folder differs from the dataset's), None if there was none."""

    annotation: Annotation | None
    problems: ProblemList
    fingerprint: Fingerprint
    label_path: Path
    source: Path | None = None


def conflict_copy_path(path: str | os.PathLike[str]) -> Path:
    """A free name beside `path` for "keep both": `name.conflict-YYYYmmdd-HHMMSS.txt` (then -2, -3...)."""
    path = Path(path)
    base = f"{path.stem}.conflict-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = path.with_name(base + path.suffix), 2
    while candidate.exists():
        candidate, n = path.with_name(f"{base}-{n}{path.suffix}"), n + 1
    return candidate


def _box_key(box) -> tuple:
    return (box.cls, box.x1, box.y1, box.x2, box.y2)


class LabelStore:
    """Per-image label files of a dataset, read and written through the format registry."""

    def __init__(self, dataset: Dataset, *, save_format: str = "yolo", label_dir: str | os.PathLike[str] | None = None,
                 size_fn: SizeFn = header_size):
        self.dataset = dataset
        self.size_fn = size_fn
        self.save_format = save_format
        self.label_dir = label_dir  # type: ignore[assignment]
        self._disk_classes: ClassNames | None = None

    # --- settings ----------------------------------------------------------------------------------------
    @property
    def save_format(self) -> str:
        return self._format.name

    @save_format.setter
    def save_format(self, name: str) -> None:
        fmt = formats.get(name)
        if not (fmt.per_image and fmt.can_write_per_image):
            raise ValueError(f"{fmt.title} cannot be saved one image at a time; choose one of {SAVE_FORMATS}")
        self._format = fmt

    @property
    def label_dir(self) -> Path | None:
        """None: label files go where the dataset keeps them (where the trainer looks); else this folder,
        mirroring the images' folders below the dataset root."""
        return self._label_dir

    @label_dir.setter
    def label_dir(self, folder: str | os.PathLike[str] | None) -> None:
        self._label_dir = Path(os.path.abspath(folder)) if folder is not None else None

    # --- paths ---------------------------------------------------------------------------------------------
    def label_path_for(self, item: ImageItem | str | os.PathLike[str]) -> Path:
        """Where the label file of this image is written in the save format."""
        img = os.path.abspath(item.image if isinstance(item, ImageItem) else os.fspath(item))
        suffix = self._format.suffix
        folder, name = os.path.split(img)
        stem = name.rpartition(".")[0] or name
        ds = self.dataset
        if self._label_dir is not None:
            rel = os.path.relpath(folder, ds.image_root or ds.root)
            sub = "" if rel == "." or rel.startswith("..") else rel
            return self._label_dir / sub / (stem + suffix)
        per_image = ds.label_format in formats.names() and formats.get(ds.label_format).per_image
        if ds.resolved_label_mode == "collection" or not per_image:
            if f"{os.sep}images{os.sep}" in img:
                return Path(img2label_path(img, suffix))
            return Path(folder) / (stem + suffix)
        own = ds.label_path(img)
        return own if own.suffix == suffix else own.with_suffix(suffix)

    # --- load --------------------------------------------------------------------------------------------
    def load(self, item: ImageItem) -> LoadedLabels:
        """Read the labels of `item`: from its file in the save format if that exists, else through the
        dataset's own format (so switching the save format converts on the next save)."""
        ds = self.dataset
        target = self.label_path_for(item)
        base = fingerprint(target)  # taken before reading: a change in between shows up as a conflict
        own = ds.label_path(item.image) if ds.resolved_label_mode != "collection" else None
        if base.exists and own != target:
            result = self._format.read_file(target, Path(item.image), ds.classes, self.size_fn)
            if len(result.classes) > len(ds.classes):
                ds.classes = result.classes
            source: Path | None = target
        else:
            result = load_annotation(ds, item, self.size_fn)
            source = Path(item.label) if item.label else (own if own is not None and own.exists() else None)
        annotation = result.annotations[0] if result.annotations else None
        return LoadedLabels(annotation, result.problems, base, target, source)

    # --- save --------------------------------------------------------------------------------------------
    def save(self, annotation: Annotation, base: Fingerprint, *, allow_empty: bool = False,
             force: bool = False) -> Fingerprint:
        """Atomically write the labels of `annotation.image_path`; return the file's new Fingerprint.

        Raises LabelConflict if the file no longer matches `base` (unless `force`) and EmptyOverwriteError
        for an annotation without boxes over a file with content (unless `allow_empty`). Writes nothing when
        the file already holds these labels, or when there are no boxes, no file and not `allow_empty`."""
        target = self.label_path_for(annotation.image_path)
        now, data = _read(target)
        if not force and not now.same_content(base):
            raise LabelConflict(target, base, now)
        if not annotation.boxes and not allow_empty and not now.exists:
            return now
        if self._format.name == "yolo":
            new = self._yolo_bytes(annotation, data)
            if new == data:
                return now
            if not new.strip() and not allow_empty and data is not None and data.strip():
                raise EmptyOverwriteError(f"{target}: refusing to replace a non-empty file with an empty one")
            self._sync_class_names()
            atomic_write_bytes(target, new, refuse_empty_over_content=not allow_empty)
        else:
            if data is not None and self._same_as_disk(target, annotation):
                return now
            self._format.write_file(target, annotation, self.dataset.classes, allow_clear=allow_empty)
        return fingerprint(target)

    def keep_both(self, annotation: Annotation, *, allow_empty: bool = False) -> tuple[Path | None, Fingerprint]:
        """Resolve a conflict by keeping both versions: the file now on disk is copied to a conflict copy
        beside it (returned; None when there was no file), then `annotation` is saved over it."""
        target = self.label_path_for(annotation.image_path)
        copy = None
        _, data = _read(target)
        if data is not None:
            copy = conflict_copy_path(target)
            atomic_write_bytes(copy, data)
        now = fingerprint(target)
        return copy, self.save(annotation, now, allow_empty=allow_empty, force=True)

    def _yolo_bytes(self, annotation: Annotation, data: bytes | None) -> bytes:
        """YOLO file content for `annotation`, reusing the current file's text for rows whose box is unchanged;
        the current bytes themselves when every row is unchanged and in place."""
        w, h = annotation.width, annotation.height
        pool: dict[tuple, list[str]] = {}
        old_rows: list[tuple | None] = []
        newline, text = "\n", None
        if data is not None:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = None
        if text is not None:
            newline = "\r\n" if "\r\n" in text else "\n"
            for line in text.splitlines():
                if not line.strip():
                    continue
                boxes, _ = parse_yolo(line, w, h)
                key = _box_key(boxes[0]) if len(boxes) == 1 else None
                old_rows.append(key)
                if key is not None:
                    pool.setdefault(key, []).append(line)
        rows, keys = [], []
        for box in annotation.boxes:
            key = _box_key(box)
            keys.append(key)
            rows.append(pool[key].pop(0) if pool.get(key) else dump_yolo([box], w, h).rstrip("\n"))
        if data is not None and text is not None and keys == old_rows:
            return data
        return "".join(row + newline for row in rows).encode("utf-8")

    def _same_as_disk(self, target: Path, annotation: Annotation) -> bool:
        size = (annotation.width, annotation.height)
        result = self._format.read_file(target, annotation.image_path, self.dataset.classes, lambda _p: size)
        if result.problems.errors() or len(result.annotations) != 1:
            return False
        old, old_names, names = result.annotations[0], result.classes, self.dataset.classes
        return old.verified == annotation.verified and len(old.boxes) == len(annotation.boxes) and all(
            old_names.name(a.cls) == names.name(b.cls) and _box_key(a)[1:] == _box_key(b)[1:]
            and a.attrs == b.attrs for a, b in zip(old.boxes, annotation.boxes))

    def _sync_class_names(self) -> None:
        """Write the class names when the registry grew since they were last written (YOLO only)."""
        classes = self.dataset.classes
        if classes == self._disk_classes:
            return
        target = class_target(self.dataset, self._label_dir)
        on_disk = read_class_names(target)
        if on_disk != classes and classes.names[:len(on_disk)] == on_disk.names:
            write_class_names(target, classes, data_yaml=self.dataset.data_yaml)
            on_disk = classes
        self._disk_classes = on_disk
