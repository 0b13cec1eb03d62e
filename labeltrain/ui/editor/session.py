"""The editing session of one dataset: what is on disk, what is edited, and keeping the two safe.

- Loading an image records the fingerprint of its label file; saving checks it, so a file changed on disk by
  another tool (or a git checkout) is never overwritten silently: the window asks reload / overwrite / keep
  both (`Prompts.conflict`).
- Saving is atomic (core.label_store); an empty file never replaces one with boxes unless the user deleted
  them in this session; nothing is written for an image that was not really changed (no phantom edits).
- Unsaved edits are journaled (debounced) under <root>/.labeltrain/journal; a save or an undo back to the saved
  state removes the entry. After a crash the next opening of the dataset offers to restore them.
- Autosave: on image switch and every `autosave_interval_ms` (both switchable); with autosave off, switching
  away from an edited image asks save / discard / cancel.
- Verified flags live in the dataset's sidecar (core.project_state), so they work for every label format.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from labeltrain.core.dataset import Dataset, ImageItem
from labeltrain.core.journal import Journal, JournalEntry
from labeltrain.core.label_store import (
    MISSING,
    Fingerprint,
    LabelConflict,
    LabelStore,
    LoadedLabels,
    fingerprint,
)
from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.core.project_state import ProjectState
from labeltrain.ui.editor.document import LabelDocument

AUTOSAVE_INTERVAL_MS = 30_000
JOURNAL_DEBOUNCE_MS = 400


class Prompts:
    """Questions the session asks the user. The window installs dialog-backed answers; tests replace them."""

    def conflict(self, path: Path) -> str:            # 'reload' | 'overwrite' | 'keep_both' | 'cancel'
        return "cancel"

    def unsaved(self, image: Path) -> str:            # 'save' | 'discard' | 'cancel'
        return "cancel"

    def restore(self, entries: list[JournalEntry]) -> bool | None:  # True restore, False discard, None later
        return None

    def confirm(self, title: str, text: str, info: str = "") -> bool:
        return False

    def error(self, title: str, message: str) -> None:
        pass


class EditSession(QObject):
    """Load / save / journal / verified flags for the images of one dataset, around a LabelDocument."""

    saved = Signal(str, bool)          # image path, whether it now has a label file
    unsavedChanged = Signal(str, bool)  # image path, has unsaved edits
    verifiedChanged = Signal(str, bool)
    reloaded = Signal(str)             # image path whose boxes were re-read from disk
    message = Signal(str)              # a status-bar message
    countsChanged = Signal(object)     # Counter: boxes per class added (negative: removed) by a save

    def __init__(self, document: LabelDocument, prompts: Prompts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.prompts = prompts
        self.dataset: Dataset | None = None
        self.store: LabelStore | None = None
        self.state: ProjectState | None = None
        self.journal: Journal | None = None
        self.autosave_on_switch = True
        self._base: dict[str, Fingerprint] = {}       # image -> fingerprint of its label file when loaded/saved
        self._disk_classes: dict[str, Counter[int]] = {}  # image -> class ids in its label file as loaded/saved
        self._images: dict[str, Path] = {}
        self._saved_paths: set[Path] = set()             # label files written in this session
        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_INTERVAL_MS)
        self._autosave.timeout.connect(self.autosave)
        self._journal_timer = QTimer(self)
        self._journal_timer.setSingleShot(True)
        self._journal_timer.setInterval(JOURNAL_DEBOUNCE_MS)
        self._journal_timer.timeout.connect(self.flush_journal)
        self._journal_dirty: set[str] = set()
        document.changed.connect(self._on_doc_changed)
        document.dirtyChanged.connect(self._on_dirty_changed)

    # --- dataset -------------------------------------------------------------------------------------------------
    def open_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.store = LabelStore(dataset)
        self.state = ProjectState.load(dataset.root)
        if self.state.save_format or self.state.label_dir:
            self.set_save_format(self.state.save_format or "yolo", self.state.label_dir)
        self.journal = Journal(dataset.root)
        self._base.clear()
        self._disk_classes.clear()
        self._images.clear()
        self._saved_paths.clear()
        self.doc.forget_all()

    def close_dataset(self) -> None:
        self.flush_journal()
        self.dataset = self.store = self.state = self.journal = None
        self.doc.forget_all()

    @property
    def classes(self) -> ClassNames:
        return self.dataset.classes if self.dataset is not None else ClassNames()

    def add_class(self, name: str) -> int:
        """Id of class `name`, appending it to the registry when new (written with the next save)."""
        assert self.dataset is not None
        self.dataset.classes, cls_id = self.dataset.classes.with_name(name)
        return cls_id

    def set_autosave_timer(self, on: bool, interval_ms: int = AUTOSAVE_INTERVAL_MS) -> None:
        self._autosave.setInterval(interval_ms)
        if on:
            self._autosave.start()
        else:
            self._autosave.stop()

    def autosave_timer_on(self) -> bool:
        return self._autosave.isActive()

    def set_save_format(self, name: str, label_dir: Path | None = None) -> None:
        if self.store is None:
            return
        self.store.save_format = name
        self.store.label_dir = label_dir
        for key in list(self._base):  # fingerprints of the files in the new format / folder
            self._base[key] = fingerprint(self.store.label_path_for(key))
        if self.state is not None and (self.state.save_format, self.state.label_dir) != (name, label_dir):
            self.state.save_format = name
            self.state.label_dir = label_dir
            self._save_state()

    # --- images --------------------------------------------------------------------------------------------------
    def enter(self, item: ImageItem) -> LoadedLabels:
        """Read `item`'s labels from disk and put them in the document (keeping its undo history when the
        disk still holds what the history ended on)."""
        assert self.store is not None
        loaded = self.store.load(item)
        key = item.image
        self._images[key] = Path(item.image)
        self._base[key] = loaded.fingerprint
        if loaded.annotation is None:
            self.doc.unload()
            return loaded
        ann = loaded.annotation
        self._disk_classes[key] = Counter(b.cls for b in ann.boxes)
        self.doc.load(key, (ann.width, ann.height), ann.boxes)
        return loaded

    def leave(self) -> bool:
        """Called before switching away from the current image. False: stay (the user cancelled or the save
        failed)."""
        key = self.doc.key
        if key is None or not self.doc.is_dirty():
            return True
        if self.autosave_on_switch:
            return self.save_current()
        answer = self.prompts.unsaved(Path(key))
        if answer == "save":
            return self.save_current()
        if answer == "discard":
            self.revert_current()
            return True
        return False

    def save_current(self, *, explicit: bool = False) -> bool:
        """Save the image on screen if it has unsaved edits. `explicit` (Ctrl+S) also writes a clean image
        whose file does not exist yet in the current save format (a format switch, or confirming that an
        image without boxes is a negative). A clean image whose file exists is never rewritten: no phantom
        edits, no dropped unparseable rows. Returns False when it could not be saved."""
        key = self.doc.key
        if key is None or self.store is None:
            return True
        dirty = self.doc.is_dirty()
        base = self._base.get(key, MISSING)
        if not dirty and not (explicit and not base.exists):
            return True
        size = self.doc.size
        assert size is not None
        annotation = Annotation(Path(key), size[0], size[1], tuple(self.doc.boxes))
        user_removed = not annotation.boxes  # dirty and empty: the user deleted the boxes; clean: no file yet
        try:
            self._base[key] = self.store.save(annotation, base, allow_empty=user_removed)
        except LabelConflict as conflict:
            return self._resolve_conflict(annotation, conflict.path)
        except Exception as exc:  # disk full, permissions...: keep the edits, say why
            self.prompts.error("Cannot save labels", f"{key}:\n{type(exc).__name__}: {exc}")
            self.message.emit(f"Not saved: {exc}")
            return False
        self._after_save(key, annotation)
        return True

    def saved_label_paths(self) -> list[Path]:
        """Label files this session wrote (discovery did not see them: class changes must include them)."""
        return sorted(p for p in self._saved_paths if p.exists())

    def _after_save(self, key: str, annotation: Annotation) -> None:
        if self.store is not None:
            self._saved_paths.add(self.store.label_path_for(key))
        new = Counter(b.cls for b in annotation.boxes)
        delta = Counter(new)
        delta.subtract(self._disk_classes.get(key, Counter()))
        self._disk_classes[key] = new
        self.countsChanged.emit(delta)
        self.doc.mark_saved(key)
        if self.journal is not None:
            self.journal.discard(key)
        self._journal_dirty.discard(key)
        self.saved.emit(key, self._base[key].exists)
        self.message.emit(f"Saved {Path(key).name}")

    def _resolve_conflict(self, annotation: Annotation, path: Path) -> bool:
        assert self.store is not None
        key = str(annotation.image_path)
        answer = self.prompts.conflict(path)
        if answer == "reload":
            self.revert_current()
            self.message.emit(f"Reloaded {path.name} from disk; your edits were dropped")
            return True
        if answer == "keep_both":
            copy, self._base[key] = self.store.keep_both(annotation, allow_empty=True)
            self._after_save(key, annotation)
            if copy is not None:
                self.message.emit(f"Saved; the version changed on disk was kept as {copy.name}")
            return True
        if answer == "overwrite":
            self._base[key] = self.store.save(annotation, self._base[key], allow_empty=True, force=True)
            self._after_save(key, annotation)
            return True
        return False

    def revert_current(self) -> None:
        """Drop the current image's edits and re-read it from disk (history starts fresh)."""
        key = self.doc.key
        if key is None or self.store is None or self.dataset is None:
            return
        if self.journal is not None:
            self.journal.discard(key)
        self._journal_dirty.discard(key)
        loaded = self.store.load(self._item_for(key) or ImageItem(key, None))
        self._base[key] = loaded.fingerprint
        if loaded.annotation is not None:
            ann = loaded.annotation
            self.doc.load(key, (ann.width, ann.height), ann.boxes, keep_history=False)
            disk = Counter(b.cls for b in ann.boxes)
            delta = Counter(disk)
            delta.subtract(self._disk_classes.get(key, Counter()))
            self._disk_classes[key] = disk
            self.countsChanged.emit(delta)
        self.reloaded.emit(key)

    def _item_for(self, key: str) -> ImageItem | None:
        if self.dataset is None:
            return None
        for item in self.dataset.items:  # only on revert: a linear search is fine
            if item.image == key:
                return item
        return None

    def autosave(self) -> None:
        if self.doc.is_dirty():
            self.save_current()

    def changed_on_disk(self) -> bool:
        """Whether the current image's label file differs from what was loaded (polled on focus-in)."""
        key = self.doc.key
        if key is None or self.store is None:
            return False
        item = self._item_for(key)
        if item is None:
            return False
        return not fingerprint(self.store.label_path_for(item)).same_content(self._base.get(key, MISSING))

    # --- verified ------------------------------------------------------------------------------------------------
    def is_verified(self, image: str) -> bool:
        return self.state is not None and self.state.is_verified(image)

    def verified_paths(self) -> set[str]:
        """Absolute paths of the verified images (from the sidecar's keys: no per-item work for 100k images)."""
        if self.state is None:
            return set()
        return {os.path.normpath(self.state.resolve(k)) for k in self.state.verified_images()}

    def toggle_verified(self, image: str) -> bool:
        if self.state is None:
            return False
        on = not self.state.is_verified(image)
        self.state.set_verified(image, on)
        self._save_state()
        self.verifiedChanged.emit(image, on)
        return on

    def _save_state(self) -> None:
        assert self.state is not None
        try:
            self.state.save()
        except OSError as exc:
            self.message.emit(f"Cannot write the dataset's .labeltrain/state.json: {exc}")

    # --- journal -------------------------------------------------------------------------------------------------
    def _on_doc_changed(self) -> None:
        key = self.doc.key
        if key is not None and self.doc.is_dirty():
            self._journal_dirty.add(key)
            self._journal_timer.start()

    def _on_dirty_changed(self, key: str, dirty: bool) -> None:
        if dirty:  # the first edit (during its redo() the stack still reads clean, so _on_doc_changed missed it)
            self._journal_dirty.add(key)
            self._journal_timer.start()
        else:
            self._journal_dirty.discard(key)
            if self.journal is not None:
                self.journal.discard(key)
        self.unsavedChanged.emit(key, dirty)

    def flush_journal(self) -> None:
        """Write the journal entries of edited images now (the debounce timer calls this)."""
        if self.journal is None:
            self._journal_dirty.clear()
            return
        for key in list(self._journal_dirty):
            boxes = self.doc.boxes_of(key)
            size = self.doc.size if key == self.doc.key else None
            if boxes is None or size is None or not self.doc.is_dirty(key):
                continue
            ann = Annotation(Path(key), size[0], size[1], boxes)
            try:
                self.journal.record(key, ann, self.classes, self._base.get(key, MISSING))
            except OSError as exc:
                self.message.emit(f"Cannot write the crash journal: {exc}")
        self._journal_dirty.clear()

    def pending_recovery(self) -> list[JournalEntry]:
        return self.journal.pending() if self.journal is not None else []

    def restore(self, entry: JournalEntry) -> Annotation:
        """Apply a journal entry to its image as an unsaved (undoable) edit; the caller shows the image."""
        ann = entry.annotation()
        self.doc.apply(ann.boxes, "Restore unsaved edits")
        return ann

    def boxes_for(self, key: str) -> tuple[Box, ...] | None:
        return self.doc.boxes_of(key)
