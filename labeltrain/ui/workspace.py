"""The window's modes: Label (the editor), Review (the QA views), Train (the training panel), one page each in
a stack, switched from a bar on the left (Ctrl+1 … Ctrl+4). The modes are a registry (`MODES`); pages other than
the editor are created on first use, so the window opens as fast as the editor alone.

What the workspace does between the pages: the editor's docks, toolbar and single-key shortcuts exist only in
Label mode (a `Del` on the Review grid must not delete a box nobody sees); leaving Label mode saves pending edits
when autosave is on (the other pages read the files on disk); coming back re-reads the image on screen if its
label file was changed meanwhile (a fix from the Review page) and nothing is unsaved; "open in editor" from
a Review tile lands on that image with that box selected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QStackedWidget, QToolBar, QWidget

from labeltrain.core.dataset import Dataset
from labeltrain.core.resources import resource_path

if TYPE_CHECKING:
    from labeltrain.ui.main_window import MainWindow


class Page(Protocol):
    """What the workspace asks of a page other than the editor."""

    def set_dataset(self, dataset: Dataset | None) -> None: ...
    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class ModeSpec:
    name: str
    title: str
    icon: str
    shortcut: str
    tip: str
    factory: Callable[[MainWindow], QWidget] | None  # None: the editor (it exists before the workspace)


def _review_page(win: MainWindow) -> QWidget:
    from labeltrain.ui.qa.panel import QAPanel

    panel = QAPanel(win)
    panel.openInEditor.connect(win.workspace.open_in_editor)
    return panel


def _train_page(win: MainWindow) -> QWidget:
    from labeltrain.ui.training import TrainingPanel

    panel = TrainingPanel(win)
    panel.aboutToTrain.connect(win.session.autosave)
    panel.bestWeightsChanged.connect(win.workspace.set_best_weights)
    return panel


def _model_page(win: MainWindow) -> QWidget:
    from labeltrain.ui.model.page import ModelPage

    page = ModelPage(win)
    page.openInEditor.connect(win.workspace.open_in_editor)
    page.queueChanged.connect(win.review_queue.set_entries)
    page.mining.config_provider = win.workspace.training_config
    win.workspace.bestWeightsChanged.connect(page.set_weights)
    return page


MODES: tuple[ModeSpec, ...] = (
    ModeSpec("label", "Label", "mode-label", "Ctrl+1", "Draw and edit boxes", None),
    ModeSpec("review", "Review", "mode-review", "Ctrl+2",
             "The labels as the trainer reads them: preview grid, findings and fixes, class gallery, "
             "trainer's eye, dataset health", _review_page),
    ModeSpec("train", "Train", "mode-train", "Ctrl+3", "Train a YOLO model and watch its curves", _train_page),
    ModeSpec("model", "Model", "mode-model", "Ctrl+4",
             "Evaluate the trained model, export it (ONNX, TF.js, TFLite; verified), find the labels it disputes",
             _model_page),
)


class _Stack(QStackedWidget):
    """A stack that asks for the room of the page on screen only (QStackedWidget's own minimum is the largest
    of all its pages: a wide Model page would squeeze the editor's docks after switching back)."""

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()


class Workspace(QObject):
    """The stack of pages and the mode bar. `page(name)` creates a page on first use."""

    modeChanged = Signal(str)
    bestWeightsChanged = Signal(str)  # the newest best.pt of a training (for model-assisted labelling)

    def __init__(self, win: MainWindow, editor_page: QWidget) -> None:
        super().__init__(win)
        self.win = win
        self.stack = _Stack(win)
        self.stack.addWidget(editor_page)
        self._pages: dict[str, QWidget] = {"label": editor_page}
        self._specs = {spec.name: spec for spec in MODES}
        self._mode = "label"
        self._hidden_docks: list = []
        self._dock_widths: dict = {}
        self._undo_keys: dict[QAction, list[QKeySequence]] = {}
        self.best_weights: str | None = None
        self.bar = QToolBar("Modes", win)
        self.bar.setObjectName("mode_bar")
        self.bar.setMovable(False)
        self.bar.setFloatable(False)
        self.bar.setIconSize(QSize(26, 26))
        self.bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.bar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for spec in MODES:
            act = QAction(spec.title, win)
            path = resource_path("icons", f"{spec.icon}.svg")
            if path.is_file():
                act.setIcon(QIcon(str(path)))
            act.setCheckable(True)
            act.setShortcut(QKeySequence(spec.shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.setToolTip(f"{spec.title}: {spec.tip}  ({spec.shortcut})")
            act.triggered.connect(lambda _=False, n=spec.name: self.set_mode(n))
            self.group.addAction(act)
            self.bar.addAction(act)
            win.addAction(act)
            self.actions[spec.name] = act
        self.actions["label"].setChecked(True)

    def install(self) -> None:
        """Put the stack in the middle and the bar on the left (after the window's own widgets exist)."""
        self.win.setCentralWidget(self.stack)
        self.win.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.bar)

    # --- modes -------------------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def page(self, name: str) -> QWidget:
        """The page of mode `name`, created (and given the open dataset) on first use."""
        page = self._pages.get(name)
        if page is None:
            factory = self._specs[name].factory
            assert factory is not None
            page = factory(self.win)
            self._pages[name] = page
            self.stack.addWidget(page)
            page.set_dataset(self.win.dataset())  # type: ignore[attr-defined]
        return page

    def existing_page(self, name: str) -> QWidget | None:
        return self._pages.get(name)

    def set_mode(self, name: str) -> None:
        if name not in self._specs:
            raise KeyError(f"no mode {name!r} (modes: {', '.join(self._specs)})")
        self.actions[name].setChecked(True)
        if name == self._mode:
            return
        leaving_editor = self._mode == "label"
        if leaving_editor and self.win.session.autosave_on_switch:
            self.win.session.autosave()  # the other pages read the label files on disk
        editor = name == "label"
        if not editor:
            self._show_editor_chrome(False)  # before a new page joins the stack and asks for room
        page = self.page(name)
        self._mode = name
        self.stack.setCurrentWidget(page)
        self.stack.updateGeometry()
        if editor:
            self._show_editor_chrome(True)
            self._reload_if_changed_on_disk()
            self.win.view.setFocus()
        else:
            page.setFocus()
        self.modeChanged.emit(name)

    def open_in_editor(self, image: str, box: int | None = None) -> None:
        """Label mode on `image`, with box `box` (index in the editor's list) selected."""
        self.set_mode("label")
        row = self.win.file_model.row_of(image)
        if row < 0:
            self.win.statusBar().showMessage(f"{image} is not in the dataset open in the editor", 6000)
            return
        if row != self.win.current_row():
            self.win.go_to(row)
        if self.win.current_row() == row and box is not None and 0 <= box < len(self.win.document.boxes):
            self.win.document.select(box)

    def training_config(self):
        """The Train page's settings (k-fold mining trains with them), or the ones it would propose."""
        from labeltrain.training.config import TrainConfig, defaults_for_sample
        from labeltrain.ui.training.data_source import is_sample_project

        train = self._pages.get("train")
        if train is not None:
            return train.form.config()  # type: ignore[attr-defined]
        dataset = self.win.dataset()
        return defaults_for_sample() if is_sample_project(dataset) else TrainConfig()

    def set_best_weights(self, path: str) -> None:
        self.best_weights = path
        self.bestWeightsChanged.emit(path)

    # --- the window's events -----------------------------------------------------------------------------
    def dataset_opened(self, dataset: Dataset | None) -> None:
        for name, page in self._pages.items():
            if name != "label":
                page.set_dataset(dataset)  # type: ignore[attr-defined]

    def busy_reason(self) -> str | None:
        """Why closing now would interrupt work ("a training is running"), or None."""
        train = self._pages.get("train")
        if train is not None and getattr(train, "busy", False) and not train.controller.watching:  # type: ignore[attr-defined]
            return "A training is running. Quitting stops it; its last finished epoch stays resumable."
        return None

    def shutdown(self) -> None:
        """Back to Label mode (so the saved window layout has the editor's docks) and stop every page's work."""
        if self._mode != "label":
            self._show_editor_chrome(True)
            self.stack.setCurrentWidget(self._pages["label"])
            self._mode = "label"
            self.actions["label"].setChecked(True)
        for name, page in self._pages.items():
            if name != "label":
                page.shutdown()  # type: ignore[attr-defined]

    # --- internals ---------------------------------------------------------------------------------------
    def _show_editor_chrome(self, on: bool) -> None:
        """The editor's docks and toolbar: hidden on the other pages, back with the widths they had (a wide page
        shrinks hidden docks; their widths are remembered before hiding and set again after showing)."""
        win = self.win
        if on:
            for dock in self._hidden_docks:
                dock.show()
            if self._hidden_docks:
                win.resizeDocks(self._hidden_docks, [self._dock_widths[d] for d in self._hidden_docks],
                                Qt.Orientation.Horizontal)
            self._hidden_docks = []
        elif not self._hidden_docks:
            self._hidden_docks = [d for d in win.editor_docks if d.isVisible()]
            self._dock_widths = {d: d.width() for d in self._hidden_docks}
            for dock in self._hidden_docks:
                dock.hide()
        win.toolbar.setVisible(on)
        for menu in win.editor_menus:
            menu.menuAction().setEnabled(on)
        self._set_editor_actions(on)

    def _set_editor_actions(self, on: bool) -> None:
        """The editor's actions (single keys a, d, w, Space, digits, Del…) work on its page only: a `Del` on the
        Review grid must not delete a box nobody sees. Undo/redo are enabled by their undo group, so they lose
        their shortcuts instead of being disabled."""
        undo_redo = (self.win.act_undo, self.win.act_redo)
        for act in self.win.editor_actions():
            if act in undo_redo:
                continue
            act.setEnabled(on)
        if on:
            for act, keys in self._undo_keys.items():
                act.setShortcuts(keys)
            self._undo_keys = {}
        elif not self._undo_keys:
            self._undo_keys = {act: act.shortcuts() for act in undo_redo}
            for act in undo_redo:
                act.setShortcuts([])

    def _reload_if_changed_on_disk(self) -> None:
        session = self.win.session
        if session.dataset is None or self.win.document.key is None or self.win.document.is_dirty():
            return
        if session.changed_on_disk():
            session.revert_current()
            self.win.statusBar().showMessage("The labels of this image changed on disk: shown as saved now", 6000)
