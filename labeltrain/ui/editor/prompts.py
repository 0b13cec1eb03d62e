"""The editing session's questions, asked with message boxes (tests install their own `Prompts`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from labeltrain.core.journal import JournalEntry
from labeltrain.ui.editor.session import Prompts

_Btn = QMessageBox.StandardButton
_Role = QMessageBox.ButtonRole


class DialogPrompts(Prompts):
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def _ask(self, title: str, text: str, info: str, buttons: list[tuple[str, _Role, str]],
             default: str, icon: QMessageBox.Icon = QMessageBox.Icon.Question) -> str:
        box = QMessageBox(icon, title, text, parent=self.parent)
        box.setInformativeText(info)
        answers = {}
        for label, role, answer in buttons:
            answers[box.addButton(label, role)] = answer
            if answer == default:
                box.setDefaultButton(list(answers)[-1])
        box.exec()
        return answers.get(box.clickedButton(), "cancel")

    def conflict(self, path: Path) -> str:
        return self._ask(
            "Label file changed on disk", f"{path.name} was changed by another program since it was opened.",
            "Reload drops your edits of this image and shows the file on disk. Overwrite replaces the file "
            "with your version. Keep both saves your version and keeps the other one beside it as a "
            ".conflict copy.",
            [("Reload from Disk", _Role.DestructiveRole, "reload"), ("Overwrite", _Role.AcceptRole, "overwrite"),
             ("Keep Both", _Role.AcceptRole, "keep_both"), ("Cancel", _Role.RejectRole, "cancel")],
            "keep_both", QMessageBox.Icon.Warning)

    def unsaved(self, image: Path) -> str:
        return self._ask("Unsaved changes", f"Save the changes to the labels of {image.name}?", "",
                         [("Save", _Role.AcceptRole, "save"), ("Discard", _Role.DestructiveRole, "discard"),
                          ("Cancel", _Role.RejectRole, "cancel")], "save")

    def restore(self, entries: list[JournalEntry]) -> bool | None:
        names = "\n".join(Path(e.image).name for e in entries[:10])
        more = f"\n… and {len(entries) - 10} more" if len(entries) > 10 else ""
        answer = self._ask("Restore unsaved edits?",
                           f"labeltrain stopped before {len(entries)} edited image(s) were saved.",
                           f"{names}{more}\n\nRestore brings the edits back as unsaved changes. Discard deletes "
                           "the recovery data.",
                           [("Restore", _Role.AcceptRole, "restore"), ("Discard", _Role.DestructiveRole, "discard")],
                           "restore")
        return {"restore": True, "discard": False}.get(answer)  # closed: ask again next time

    def confirm(self, title: str, text: str, info: str = "") -> bool:
        return self._ask(title, text, info, [("Continue", _Role.AcceptRole, "yes"),
                                             ("Cancel", _Role.RejectRole, "cancel")], "yes") == "yes"

    def error(self, title: str, message: str) -> None:
        QMessageBox.warning(self.parent, title, message)
