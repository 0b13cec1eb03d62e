"""The window's editing behaviour: what happens when a dataset opens (recovery, verified flags, class
counts, resume), saving and save formats, verified flags, copying the previous image's boxes, and keeping the
box list, class list, class combo and file-list states in step with the document."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, QSettings, QTimer
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from labeltrain.core.class_counts import count_instances
from labeltrain.core.dataset import Dataset
from labeltrain.ui.background import BackgroundJob
from labeltrain.ui.colors import class_color
from labeltrain.ui.editor.class_manager import ClassManager
from labeltrain.ui.panels import swatch
from labeltrain.ui.shortcuts import SHORTCUTS

if TYPE_CHECKING:
    from labeltrain.ui.main_window import MainWindow

SAVE_FORMATS = {"yolo": "YOLO (.txt)", "voc": "Pascal VOC (.xml)", "createml": "CreateML (.json)"}
RECENT_MAX = 10


class Editing(QObject):
    """Created by the main window after its widgets and actions; `connect()` wires the signals."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win

    def connect(self) -> None:
        self.win.view.boxMenuRequested.connect(self._box_menu)
        self.win.document.changed.connect(self._on_boxes_changed)
        self.win.document.selectionChanged.connect(self._on_doc_selection)
        self.win.session.unsavedChanged.connect(self._on_unsaved)
        self.win.session.saved.connect(self._on_saved)
        self.win.session.verifiedChanged.connect(self._on_verified)
        self.win.session.message.connect(lambda text: self.win.statusBar().showMessage(text, 5000))
        self.win.editor.classesChanged.connect(self.on_classes_changed)
        self.win.view.spaceTapped.connect(self.toggle_verified)
        self.win.datasetLoaded.connect(self._on_dataset_for_editor)
        self.win.class_manager = ClassManager(self.win.session, self.win, self._reload_current)
        self.win.class_manager.attach(self.win.class_list)
        self.win.class_manager.changed.connect(self._on_class_change_done)
        self.win.session.countsChanged.connect(self.win.class_list.add_counts)
        self.counts_job = BackgroundJob(self)
        self.counts_job.done.connect(self._on_counts)
        settings = QSettings()
        self.win.act_autosave.setChecked(settings.value("editor/autosave", True, type=bool))
        self.set_autosave(self.win.act_autosave.isChecked())
        self.win.act_keep_create.setChecked(settings.value("editor/keep_create_mode", False, type=bool))
        self.win.view.keep_create_mode = self.win.act_keep_create.isChecked()

    def _box_menu(self, _index: int, pos: QPoint) -> None:
        menu = QMenu(self.win.view)
        menu.addActions([self.win.act_edit_class, self.win.act_duplicate, self.win.act_delete])
        menu.exec(pos)

    def _on_dataset_for_editor(self, dataset: Dataset) -> None:
        self.win.session.open_dataset(dataset)
        self.on_classes_changed()
        self.win.file_model.set_verified_paths(self.win.session.verified_paths())
        self._remember_recent(str(dataset.data_yaml or dataset.collection_file or dataset.root))
        if self.win._select_after_load is None:
            last = QSettings().value(f"resume/{dataset.root}")
            if isinstance(last, str) and last:
                self.win._select_after_load = last
        if self.win._row >= 0 and (item := self.win.file_model.item(self.win._row)) is not None:
            self.win._show_labels(item)  # the first image was shown while the listing went on
        self._count_classes()
        QTimer.singleShot(0, self._offer_recovery)

    def _offer_recovery(self) -> None:
        entries = self.win.session.pending_recovery()
        if not entries:
            return
        answer = self.win.prompts.restore(entries)
        if answer is None:
            return
        if not answer:
            self.win.session.journal.clear_all() if self.win.session.journal is not None else None
            return
        for entry in entries:
            row = self.win.file_model.row_of(entry.image_path)
            if row < 0:
                continue
            self.win.go_to(row)
            if self.win.document.key == self.win.file_model.item(row).image:
                self.win.session.restore(entry)
        self.win.statusBar().showMessage(f"Restored unsaved edits of {len(entries)} image(s)", 8000)

    def _count_classes(self) -> None:
        dataset = self.win.session.dataset
        if dataset is not None:
            self.counts_job.start(lambda _progress, cancelled: count_instances(dataset, cancelled))

    def _on_counts(self, result) -> None:
        counts, _images = result
        self.win.class_list.show_classes(self.win.session.classes, counts)

    def _reload_current(self) -> None:
        item = self.win.file_model.item(self.win._row)
        if item is not None:
            self.win._show_labels(item)
            self._on_boxes_changed()

    def _on_class_change_done(self, text: str) -> None:
        self.win.statusBar().showMessage(text, 8000)
        self.on_classes_changed()
        self._count_classes()

    def save(self) -> bool:
        ok = self.win.session.save_current(explicit=True)
        self.win._update_title()
        return ok

    def set_autosave(self, on: bool) -> None:
        QSettings().setValue("editor/autosave", bool(on))
        self.win.session.autosave_on_switch = bool(on)
        self.win.session.set_autosave_timer(bool(on))

    def set_keep_create(self, on: bool) -> None:
        QSettings().setValue("editor/keep_create_mode", bool(on))
        self.win.view.keep_create_mode = bool(on)

    def set_save_format(self, name: str, label_dir: Path | None = None) -> None:
        if not self.win.session.leave():
            return
        self.win.session.set_save_format(name, label_dir)
        for act in self.win.format_group.actions():
            act.setChecked(act.data() == name)
        self.win.statusBar().showMessage(f"Labels are saved as {SAVE_FORMATS[name]}"
                                     + (f" in {label_dir}" if label_dir else ""), 5000)

    def choose_label_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.win, "Save labels in", self.win._last_dir())
        if folder and self.win.session.store is not None:
            self.set_save_format(self.win.session.store.save_format, Path(folder))

    def toggle_verified(self) -> None:
        item = self.win.file_model.item(self.win._row)
        if item is not None and self.win.session.dataset is not None:
            on = self.win.session.toggle_verified(item.image)
            self.win.act_verify.setChecked(on)
        else:
            self.win.act_verify.setChecked(False)

    def go_unverified(self, step: int) -> None:
        row = self.win._row + step
        while 0 <= row < self.win.file_model.rowCount():
            item = self.win.file_model.item(row)
            if item is not None and not self.win.session.is_verified(item.image):
                self.win.go_to(row)
                return
            row += step
        self.win.statusBar().showMessage("No unverified image " + ("after" if step > 0 else "before") + " this one",
                                     4000)

    def paste_previous_boxes(self) -> None:
        prev = self.win.file_model.item(self.win._row - 1)
        if prev is None or self.win.session.store is None:
            return
        boxes = self.win.document.boxes_of(prev.image)
        loaded = self.win.session.store.load(prev)
        source = loaded.annotation
        if source is None:
            return
        if boxes is None or not self.win.document.is_dirty(prev.image):
            boxes = source.boxes
        added = self.win.editor.paste_boxes(boxes, (source.width, source.height))
        self.win.statusBar().showMessage(f"Copied {added} box(es) from {Path(prev.image).name}", 4000)

    def _on_boxes_changed(self) -> None:
        self.win.box_list.show_boxes(self.win.document.boxes, self.win.session.classes)
        self._on_doc_selection(self.win.document.selected)
        self.win._update_status()

    def _on_doc_selection(self, index: int | None) -> None:
        self.win.box_list.select_index(index)

    def _on_unsaved(self, image: str, on: bool) -> None:
        self.win.file_model.set_unsaved(image, on)
        self.win._update_title()

    def _on_saved(self, image: str, has_file: bool) -> None:
        self.win.file_model.set_labelled(image, has_file)
        self.win._update_title()

    def _on_verified(self, image: str, on: bool) -> None:
        self.win.file_model.set_verified(image, on)

    def on_classes_changed(self) -> None:
        classes = self.win.session.classes
        self.win.view.set_classes(classes)
        self.win.class_list.show_classes(classes)
        self.win.class_combo.clear()
        self.win.class_combo.addItem("Ask every time", None)
        for cls_id, name in enumerate(classes):
            self.win.class_combo.addItem(swatch(class_color(cls_id, len(classes))), f"{name}", cls_id)
        self.show_current_class(self.win.editor.current_class)

    def show_current_class(self, cls_id: int | None) -> None:
        i = self.win.class_combo.findData(cls_id) if cls_id is not None else 0
        self.win.class_combo.setCurrentIndex(max(i, 0))

    def _remember_recent(self, path: str) -> None:
        settings = QSettings()
        recent = [p for p in (settings.value("recent", []) or []) if isinstance(p, str) and p != path]
        settings.setValue("recent", [path, *recent][:RECENT_MAX])

    def fill_recent_menu(self) -> None:
        self.win.recent_menu.clear()
        recent = [p for p in (QSettings().value("recent", []) or []) if isinstance(p, str)]
        for path in recent:
            act = self.win.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.win.open_path(p))
            act.setEnabled(os.path.exists(path))
        if not recent:
            self.win.recent_menu.addAction("No recent datasets").setEnabled(False)

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>" for keys, what in SHORTCUTS)
        QMessageBox.information(self.win, "Keyboard shortcuts", f"<table cellspacing='6'>{rows}</table>")

    def confirm_close(self) -> bool:
        """Unsaved edits on screen: save (or ask, with autosave off). False keeps the window open."""
        key = self.win.document.key
        if key is None:
            return True
        if self.win.session.autosave_on_switch:
            return self.win.session.save_current()
        answer = self.win.prompts.unsaved(Path(key))
        if answer == "save":
            return self.win.session.save_current()
        if answer == "discard":
            if self.win.session.journal is not None:
                self.win.session.journal.discard(key)
            return True
        return False
