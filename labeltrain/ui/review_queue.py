"""The label-error review queue in the editor: F8 / Shift+F8 go to the next / previous disputed box of the last
mining result (most suspicious first), select the labelled box in question, and say what the model thinks in
the status bar. A missing box comes with the model's box as a proposal: double-click it to accept it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from labeltrain.core.disputes import MISSING, Dispute
from labeltrain.core.proposals import Proposal

if TYPE_CHECKING:
    from labeltrain.ui.main_window import MainWindow


class ReviewQueue(QObject):
    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.entries: list[tuple[str, Dispute]] = []
        self.position = -1

    def set_entries(self, entries: list[tuple[str, Dispute]]) -> None:
        self.entries = list(entries)
        self.position = -1

    def step(self, delta: int) -> bool:
        """Go to the next (delta 1) or previous (-1) entry; False at either end or without a queue."""
        if not self.entries:
            self.win.statusBar().showMessage("No label-error queue yet: Model > Label errors finds one", 5000)
            return False
        target = self.position + delta
        if not 0 <= target < len(self.entries):
            self.win.statusBar().showMessage("End of the label-error queue" if delta > 0 else
                                             "Start of the label-error queue", 4000)
            return False
        self.position = target
        self.show_current()
        return True

    def show_current(self) -> None:
        image, dispute = self.entries[self.position]
        self.win.workspace.open_in_editor(image, dispute.box_index)
        if dispute.kind == MISSING and dispute.prediction is not None:
            p = dispute.prediction
            self.win.assisting.session.offer(image, [Proposal(p.cls, p.x1, p.y1, p.x2, p.y2, p.conf or 1.0)])
        self.win.statusBar().showMessage(
            f"Label error {self.position + 1} / {len(self.entries)} (score {dispute.score:.2f}): {dispute.message}",
            15000)
