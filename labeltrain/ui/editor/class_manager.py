"""Class registry operations from the class list: add, rename, merge, delete, move up/down.

Changes that alter ids or names inside label files go through core.class_ops: plan (how many files change),
confirm with the user (saying how many, and that a backup is kept), then rewrite every affected file in a
worker thread with progress, backing the old files up under <root>/.labeltrain/backups/. The image on screen is
saved first and re-read afterwards; undo histories are dropped because the ids they hold are stale.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import QInputDialog, QMenu, QTreeWidget, QWidget

from labeltrain.core import class_ops
from labeltrain.ui.background import run_with_progress
from labeltrain.ui.editor.session import EditSession


class ClassManager(QObject):
    changed = Signal(str)   # a summary of what was done

    def __init__(self, session: EditSession, parent_widget: QWidget, reload_current: Callable[[], None]) -> None:
        super().__init__(parent_widget)
        self.session = session
        self.parent_widget = parent_widget
        self.reload_current = reload_current

    # --- the operations (tests call these; the menu asks for names first) -----------------------------------------
    def add(self, name: str) -> bool:
        return self._run(lambda c: class_ops.add_class(c, name), f"Added class “{name}”")

    def rename(self, cls_id: int, name: str) -> bool:
        old = self.session.classes.name(cls_id)
        return self._run(lambda c: class_ops.rename_class(c, cls_id, name), f"Renamed “{old}” to “{name}”")

    def merge(self, source: int, target: int) -> bool:
        names = self.session.classes
        return self._run(lambda c: class_ops.merge_classes(c, source, target),
                         f"Merged “{names.name(source)}” into “{names.name(target)}”")

    def delete(self, cls_id: int) -> bool:
        return self._run(lambda c: class_ops.delete_class(c, cls_id),
                         f"Deleted class “{self.session.classes.name(cls_id)}” and its boxes")

    def move(self, cls_id: int, delta: int) -> bool:
        n = len(self.session.classes)
        j = cls_id + delta
        if not (0 <= cls_id < n and 0 <= j < n):
            return False
        order = list(range(n))
        order[cls_id], order[j] = order[j], order[cls_id]
        return self._run(lambda c: class_ops.reorder_classes(c, order), "Reordered classes")

    def _run(self, make_change, done_text: str) -> bool:
        session = self.session
        dataset = session.dataset
        if dataset is None or not session.save_current():
            return False
        try:
            change = make_change(dataset.classes)
        except ValueError as exc:
            session.prompts.error("Classes", str(exc))
            return False
        extra = session.saved_label_paths()
        plan = run_with_progress(self.parent_widget, "Finding the label files this changes…",
                                 lambda progress, cancelled: class_ops.plan_rewrite(
                                     dataset, change, extra_files=extra, progress=progress, cancelled=cancelled))
        if plan.cancelled:
            return False
        if not plan.supported:
            session.prompts.error("Classes", "\n".join(p.message for p in plan.problems))
            return False
        n = len(plan.files)
        if n and not session.prompts.confirm(
                "Change classes", f"{done_text}: {n} label file{'s' if n != 1 else ''} will be rewritten.",
                "The files are backed up first under .labeltrain/backups in the dataset folder."):
            return False
        report = run_with_progress(self.parent_widget, "Rewriting label files…",
                                   lambda progress, cancelled: class_ops.apply_rewrite(plan, progress, cancelled))
        if report.cancelled:
            self.changed.emit("Class change cancelled; the files were restored")
            session.doc.forget_all()
            self.reload_current()
            return False
        session.doc.forget_all()
        self.reload_current()
        failed = f"; {len(report.failed)} file(s) could not be written" if report.failed else ""
        self.changed.emit(f"{done_text}; {len(report.changed)} file(s) rewritten{failed}")
        return True

    # --- menu ------------------------------------------------------------------------------------------------------
    def attach(self, class_list: QTreeWidget) -> None:
        class_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        class_list.customContextMenuRequested.connect(lambda pos: self._menu(class_list, pos))

    def _menu(self, class_list: QTreeWidget, pos: QPoint) -> None:
        item = class_list.itemAt(pos)
        row = class_list.indexOfTopLevelItem(item) if item is not None else -1
        names = self.session.classes
        menu = QMenu(class_list)
        menu.addAction("Add Class…", self.ask_add)
        if 0 <= row < len(names):
            menu.addAction(f"Rename “{names.name(row)}”…", lambda: self.ask_rename(row))
            merge = menu.addMenu(f"Merge “{names.name(row)}” Into")
            for j, name in enumerate(names):
                if j != row:
                    merge.addAction(name, lambda j=j: self.merge(row, j))
            menu.addAction(f"Delete “{names.name(row)}” and Its Boxes…", lambda: self.delete(row))
            menu.addSeparator()
            menu.addAction("Move Up", lambda: self.move(row, -1)).setEnabled(row > 0)
            menu.addAction("Move Down", lambda: self.move(row, 1)).setEnabled(row < len(names) - 1)
        menu.exec(class_list.mapToGlobal(pos))

    def ask_add(self) -> None:
        name, ok = QInputDialog.getText(self.parent_widget, "Add class", "Name of the new class:")
        if ok and name.strip():
            self.add(name.strip())

    def ask_rename(self, cls_id: int) -> None:
        name, ok = QInputDialog.getText(self.parent_widget, "Rename class", "New name:",
                                        text=self.session.classes.name(cls_id))
        if ok and name.strip():
            self.rename(cls_id, name.strip())
