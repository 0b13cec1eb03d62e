"""Crash journal of unsaved edits: `<root>/.labeltrain/journal/`, one small JSON file per image.

The editor calls `record` after each edit (debounced), `discard` once the image is saved or reverted, and at
start-up `pending()` lists what a crash or kill left behind, to offer restoring it:

    journal = Journal(root)
    journal.record(image, annotation, classes, base)   # atomic: a kill leaves the previous or the new entry
    for entry in journal.pending():                     # corrupt entries are skipped, see journal.problems
        annotation = entry.annotation()                 # or entry.annotation_for(current_classes)
    journal.discard(image); journal.clear_all()

An entry stores the image path (relative to the root, '/'), its size, the boxes in pixels with their class ids
and JSON-able attributes, the class names at that time (so ids can be matched by name after a class change),
the Fingerprint of the label file the edits started from (to tell whether it changed since) and a timestamp.
Floats are stored as JSON numbers, which read back to the same floats.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labeltrain.core.atomic import atomic_write_bytes
from labeltrain.core.label_store import Fingerprint
from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.core.problems import ProblemList, Severity
from labeltrain.core.project_state import sidecar_dir

__all__ = ["Journal", "JournalEntry"]

JOURNAL_DIR = "journal"
VERSION = 1


def _jsonable(attrs: Any) -> dict[str, Any]:
    """The attributes that survive JSON (others are dropped: they cannot be restored anyway)."""
    out: dict[str, Any] = {}
    if not hasattr(attrs, "items"):
        return out
    for k, v in attrs.items():
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError):
            continue
        out[str(k)] = v
    return out


@dataclass(frozen=True)
class JournalEntry:
    """Unsaved edits of one image, as recorded."""

    image: str                      # relative to the dataset root, '/' separators (absolute if outside)
    image_path: Path                # absolute
    width: int
    height: int
    boxes: tuple[Box, ...]
    verified: bool
    classes: ClassNames             # the class names when recorded; box ids refer to them
    base: Fingerprint               # the label file the edits started from
    timestamp: float                # time.time() of the record
    path: Path                      # the journal file

    def annotation(self) -> Annotation:
        """The edited annotation, class ids as recorded."""
        return Annotation(self.image_path, self.width, self.height, self.boxes, self.verified)

    def annotation_for(self, classes: ClassNames) -> tuple[Annotation, ClassNames]:
        """The annotation with class ids matched by name to `classes` (names missing from it are appended);
        ids outside the recorded class list are kept. Returns the annotation and the (possibly grown) classes."""
        boxes = []
        for box in self.boxes:
            if 0 <= box.cls < len(self.classes):
                classes, new_id = classes.with_name(self.classes.names[box.cls])
                box = box.with_class(new_id)
            boxes.append(box)
        return self.annotation().with_boxes(boxes), classes


class Journal:
    """Unsaved edits of a dataset, kept until saved or discarded."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(os.path.abspath(root))
        self.folder = sidecar_dir(self.root) / JOURNAL_DIR
        self.problems = ProblemList()
        self._prefix = str(self.root) + os.sep

    def _key(self, image: str | os.PathLike[str]) -> str:
        s = os.path.normpath(os.path.abspath(os.path.join(self.root, os.fspath(image))))
        if s.startswith(self._prefix):
            s = s[len(self._prefix):]
        return s.replace(os.sep, "/")

    def entry_path(self, image: str | os.PathLike[str]) -> Path:
        """The journal file of an image (named by a hash of its relative path)."""
        digest = hashlib.sha1(self._key(image).encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return self.folder / f"{digest}.json"

    def record(self, image: str | os.PathLike[str], annotation: Annotation, classes: ClassNames,
               base: Fingerprint) -> Path:
        """Store the current (unsaved) labels of `image` atomically, replacing its previous entry."""
        boxes = [[b.cls, b.x1, b.y1, b.x2, b.y2, _jsonable(b.attrs)] for b in annotation.boxes]
        doc = {"version": VERSION, "image": self._key(image), "width": annotation.width,
               "height": annotation.height, "verified": bool(annotation.verified), "boxes": boxes,
               "classes": list(classes.names), "base": [base.exists, base.size, base.mtime_ns, base.sha1],
               "time": time.time()}
        path = self.entry_path(image)
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        atomic_write_bytes(path, data)
        return path

    def discard(self, image: str | os.PathLike[str]) -> None:
        """Forget the unsaved edits of `image` (after a save or a revert)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.entry_path(image))

    def has_entry(self, image: str | os.PathLike[str]) -> bool:
        return self.entry_path(image).exists()

    def pending(self) -> list[JournalEntry]:
        """Entries left by earlier sessions (oldest first). Corrupt entries are skipped and listed in
        `self.problems` (they stay on disk until `clear_all`)."""
        self.problems = ProblemList()
        entries: list[JournalEntry] = []
        try:
            names = sorted(n for n in os.listdir(self.folder) if n.endswith(".json") and not n.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return entries
        for name in names:
            path = self.folder / name
            try:
                entries.append(self._parse(path, json.loads(path.read_bytes())))
            except FileNotFoundError:
                continue
            except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
                self.problems.add(path, f"unreadable journal entry skipped: {exc}", severity=Severity.WARNING,
                                  rule="journal.corrupt")
        entries.sort(key=lambda e: e.timestamp)
        return entries

    def _parse(self, path: Path, doc: Any) -> JournalEntry:
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ValueError("not a labeltrain journal entry")
        image = doc["image"]
        if not isinstance(image, str) or not image:
            raise ValueError("no image path")
        boxes = []
        for row in doc["boxes"]:
            cls_id, x1, y1, x2, y2, attrs = row
            if not isinstance(cls_id, int) or not all(isinstance(v, int | float) for v in (x1, y1, x2, y2)):
                raise ValueError(f"bad box {row!r}")
            boxes.append(Box(cls_id, float(x1), float(y1), float(x2), float(y2), dict(attrs)))
        exists, size, mtime_ns, sha1 = doc["base"]
        classes = doc["classes"]
        if not all(isinstance(c, str) for c in classes):
            raise ValueError("bad class names")
        return JournalEntry(image, self.root / image if not os.path.isabs(image) else Path(image),
                            int(doc["width"]), int(doc["height"]), tuple(boxes), bool(doc.get("verified")),
                            ClassNames.of(classes), Fingerprint(bool(exists), int(size), int(mtime_ns), sha1),
                            float(doc["time"]), path)

    def clear_all(self) -> None:
        """Remove every entry (corrupt ones and leftovers of interrupted writes included)."""
        try:
            names = os.listdir(self.folder)
        except (FileNotFoundError, NotADirectoryError):
            return
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(self.folder / name)
