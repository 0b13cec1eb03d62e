"""The window's model-assisted labelling: the Assist dock and the proposals drawn on the editor's canvas, kept
in step with the image on screen; accept = one undoable document edit (proposals never touch human boxes);
the model offered by default is the newest of the dataset's runs (or the one a training just produced)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from labeltrain.core.dataset import Dataset
from labeltrain.core.proposals import Proposal
from labeltrain.training.runs import model_files
from labeltrain.ui.editor.assist import AssistSession
from labeltrain.ui.editor.assist_panel import AssistPanel

if TYPE_CHECKING:
    from labeltrain.ui.main_window import MainWindow


class Assisting(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.session = AssistSession(self)
        self.panel = AssistPanel(self.session, win)
        self._shown: list[Proposal] = []

    def connect(self) -> None:
        win, session, panel = self.win, self.session, self.panel
        win.document.changed.connect(self.refresh)
        session.changed.connect(lambda image: self.refresh() if image == win.document.key else None)
        session.confChanged.connect(lambda _conf: self.refresh())
        session.finished.connect(lambda text: win.statusBar().showMessage(text, 6000))
        session.failed.connect(lambda text: win.statusBar().showMessage(text, 10000))
        win.view.proposalClicked.connect(self._clicked)
        win.view.proposalActivated.connect(lambda i: self.accept([self._shown[i]]) if i < len(self._shown) else None)
        panel.proposalSelected.connect(win.view.proposals.highlight)
        panel.acceptRequested.connect(self.accept)
        panel.rejectRequested.connect(self.reject)
        panel.prelabelRequested.connect(self.prelabel)
        win.datasetLoaded.connect(self._dataset_opened)
        win.workspace.bestWeightsChanged.connect(self._trained)
        win.imageShown.connect(lambda _path: self.refresh())

    # --- what is shown -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        doc = self.win.document
        key = doc.key
        self._shown = self.session.visible(key, doc.boxes) if key else []
        classes = self.win.session.classes
        self.win.view.proposals.show(self._shown, classes)
        self.panel.show_proposals(self._shown, classes)

    def shown(self) -> list[Proposal]:
        return list(self._shown)

    def _clicked(self, index: int) -> None:
        self.panel.select(index)
        self.win.view.proposals.highlight(index)

    # --- decisions ---------------------------------------------------------------------------------------
    def accept(self, proposals: list[Proposal]) -> int:
        """Add these proposals as boxes of the image on screen (one undo step); returns how many."""
        doc = self.win.document
        if doc.key is None or doc.size is None or not proposals:
            return 0
        width, height = doc.size
        source = self.session.model.name if self.session.model else ""
        boxes = [p.as_box(width, height, source) for p in proposals]
        first = len(doc.boxes)
        text = "Accept proposal" if len(boxes) == 1 else f"Accept {len(boxes)} proposals"
        doc.apply([*doc.boxes, *boxes], text, select=first if len(boxes) == 1 else None)
        self.session.remove(doc.key, proposals)
        return len(boxes)

    def reject(self, proposals: list[Proposal]) -> None:
        if self.win.document.key is not None:
            self.session.remove(self.win.document.key, proposals)

    def accept_all(self) -> None:
        n = self.accept(self.shown())
        if n:
            self.win.statusBar().showMessage(f"Accepted {n} proposal(s)", 3000)

    def reject_all(self) -> None:
        self.reject(self.shown())

    # --- running -----------------------------------------------------------------------------------------
    def prelabel(self, scope: str = "image") -> bool:
        """Pre-label the image on screen ("image"), the images without a label file ("unlabelled") or all."""
        win = self.win
        win.assist_dock.show()
        win.assist_dock.raise_()
        if scope == "image":
            images = [win.document.key] if win.document.key else []
        else:
            items = win.file_model.items()
            if scope == "unlabelled":
                items = [it for it in items if not win.file_model.is_labelled(it)]
            images = [it.image for it in items]
        return self.session.prelabel(images)

    def _dataset_opened(self, dataset: Dataset) -> None:
        """Another dataset: no proposals, and the model offered is one of its own runs (another dataset's model
        would propose other classes), until the user picks one."""
        self.session.clear()
        self.session.set_model(None)
        self.panel.set_models(model_files(Path(dataset.root) / "runs"), keep_current=False)

    def _trained(self, weights: str) -> None:
        self.session.set_model(Path(weights))
        dataset = self.win.dataset()
        if dataset is not None:
            self.panel.set_models(model_files(Path(dataset.root) / "runs"))

    def close(self) -> None:
        self.session.close()
