"""The main window's actions (with their shortcuts), menus and toolbar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel

from labeltrain.core.resources import resource_path
from labeltrain.ui.editing import SAVE_FORMATS

if TYPE_CHECKING:
    from labeltrain.ui.main_window import MainWindow


def make_action(win: MainWindow, text: str, slot, shortcuts: tuple[str | QKeySequence.StandardKey, ...] = (),
            icon: str | None = None, short: str = "", tip: str = "") -> QAction:
    """An action with shortcuts, a toolbar text (`short`) and a tooltip naming its shortcut. `icon` names a
    bundled resources/icons/<icon>.svg; until it exists the toolbar shows the text alone."""
    action = QAction(text, win)
    keys = [QKeySequence(k) for k in shortcuts]
    if keys:
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if icon:
        path = resource_path("icons", f"{icon}.svg")
        if path.is_file():
            action.setIcon(QIcon(str(path)))
    if short:
        action.setIconText(short)
    shortcut_text = keys[0].toString(QKeySequence.SequenceFormat.NativeText) if keys else ""
    action.setToolTip((tip or text.replace("&", "").rstrip("…")) + (f"  ({shortcut_text})" if shortcut_text else ""))
    action.triggered.connect(slot)
    win.addAction(action)  # shortcuts work even when the toolbar is hidden
    return action

def build_actions(win: MainWindow) -> None:
    ed = win.editor
    win.act_open_folder = make_action(win, "Open &Folder…", win.choose_folder, ("Ctrl+U",), "open-folder",
                                        "Open Folder", "Open a folder of images")
    win.act_open_file = make_action(win, "&Open Dataset File…", win.choose_dataset_file, ("Ctrl+O",),
                                      "open-file", "Open File", "Open a data.yaml or a COCO / CreateML JSON file")
    win.act_open_image = make_action(win, "Open &Image…", win.choose_image, ("Ctrl+I",))
    win.act_save = make_action(win, "&Save", win.editing.save, ("Ctrl+S",), "save", "Save", "Save the labels of this image")
    win.act_autosave = make_action(win, "&Autosave", win.editing.set_autosave)
    win.act_autosave.setCheckable(True)
    win.act_quit = make_action(win, "&Quit", win.close, (QKeySequence.StandardKey.Quit,))
    win.act_prev = make_action(win, "&Previous Image", win.previous_image, ("A",), "previous", "‹  Previous")
    win.act_next = make_action(win, "&Next Image", win.next_image, ("D",), "next", "Next  ›")
    win.act_prev_unverified = make_action(win, "Previous &Unverified Image", lambda: win.editing.go_unverified(-1),
                                            ("Ctrl+Shift+A",))
    win.act_next_unverified = make_action(win, "Next U&nverified Image", lambda: win.editing.go_unverified(1),
                                            ("Ctrl+Shift+D",))
    win.act_verify = make_action(win, "&Verified", win.editing.toggle_verified, ("Space",), "verified", "Verified",
                                   "Mark this image as checked")
    win.act_verify.setCheckable(True)
    win.act_create = make_action(win, "&Create Box", lambda: win.view.set_create_mode(not win.view.create_mode),
                                   ("W",), "create", "Create Box", "Draw a box (drag on the image)")
    win.act_create.setCheckable(True)
    win.view.createModeChanged.connect(win.act_create.setChecked)
    win.act_keep_create = make_action(win, "&Keep Create Mode", win.editing.set_keep_create)
    win.act_keep_create.setCheckable(True)
    win.act_undo = win.document.undo_group.createUndoAction(win, "&Undo")
    win.act_undo.setShortcuts([QKeySequence("Ctrl+Z")])
    win.act_redo = win.document.undo_group.createRedoAction(win, "&Redo")
    win.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    win.addActions([win.act_undo, win.act_redo])
    win.act_delete = make_action(win, "&Delete Box", ed.delete_selected, ("Del", "Backspace"))
    win.act_duplicate = make_action(win, "D&uplicate Box", ed.duplicate_selected, ("Ctrl+D",))
    win.act_paste_prev = make_action(win, "Copy &Previous Image's Boxes", win.editing.paste_previous_boxes, ("Ctrl+V",))
    win.act_edit_class = make_action(win, "&Edit Class…", lambda: ed.edit_class(), ("Ctrl+E",))
    win.act_digits = [make_action(win, f"Class {d}", lambda _=False, d=d: ed.digit(d), (str(d),))
                       for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)]
    win.act_zoom_in = make_action(win, "Zoom &In", win.view.zoom_in, ("Ctrl++", "Ctrl+="), "zoom-in", "Zoom +")
    win.act_zoom_out = make_action(win, "Zoom &Out", win.view.zoom_out, ("Ctrl+-",), "zoom-out", "Zoom −")
    win.act_fit = make_action(win, "&Fit Window", win.view.zoom_fit, ("Ctrl+F",), "zoom-fit", "Fit")
    win.act_actual = make_action(win, "&Actual Size (100 %)", win.view.zoom_actual, ("Ctrl+0",), "zoom-100",
                                   "100 %")
    win.act_boxes = make_action(win, "Show &Boxes", win._toggle_boxes, ("Ctrl+H",), "boxes", "Boxes")
    win.act_boxes.setCheckable(True)
    win.act_boxes.setChecked(True)
    assist = win.assisting
    win.act_prelabel = make_action(win, "&Pre-label This Image", lambda: assist.prelabel("image"), ("Ctrl+L",),
                                   tip="Ask the chosen model for proposals on this image")
    win.act_prelabel_unlabelled = make_action(win, "Pre-label &Unlabelled Images",
                                              lambda: assist.prelabel("unlabelled"))
    win.act_accept_all = make_action(win, "&Accept All Proposals", assist.accept_all, ("Ctrl+Return",))
    win.act_reject_all = make_action(win, "&Reject All Proposals", assist.reject_all, ("Ctrl+Shift+Backspace",))
    win.act_next_dispute = make_action(win, "Next &Label Error", lambda: win.review_queue.step(1), ("F8",),
                                       tip="The next box the model disputes (Model > Label errors)")
    win.act_prev_dispute = make_action(win, "Previous L&abel Error", lambda: win.review_queue.step(-1),
                                       ("Shift+F8",))
    win.act_about = make_action(win, "&About labeltrain", win.show_about)
    win.act_shortcuts = make_action(win, "&Keyboard Shortcuts", win.editing.show_shortcuts, ("F1",))


def editor_actions(win: MainWindow) -> list[QAction]:
    """The actions whose shortcuts only make sense on the editor's page (single keys, editing, zoom)."""
    return [win.act_prev, win.act_next, win.act_prev_unverified, win.act_next_unverified, win.act_verify,
            win.act_create, win.act_undo, win.act_redo, win.act_delete, win.act_duplicate, win.act_paste_prev,
            win.act_edit_class, *win.act_digits, win.act_zoom_in, win.act_zoom_out, win.act_fit, win.act_actual,
            win.act_boxes, win.act_prelabel, win.act_prelabel_unlabelled, win.act_accept_all, win.act_reject_all,
            win.act_next_dispute, win.act_prev_dispute]

def build_menus_and_toolbar(win: MainWindow) -> None:
    menu = win.menuBar()
    file_menu = menu.addMenu("&File")
    file_menu.addActions([win.act_open_folder, win.act_open_file, win.act_open_image])
    win.recent_menu = file_menu.addMenu("Open &Recent")
    win.recent_menu.aboutToShow.connect(win.editing.fill_recent_menu)
    file_menu.addSeparator()
    file_menu.addActions([win.act_save, win.act_autosave])
    win.format_menu = file_menu.addMenu("Save &Format")
    win.format_group = QActionGroup(win)
    for name, title in SAVE_FORMATS.items():
        act = win.format_menu.addAction(title)
        act.setCheckable(True)
        act.setData(name)
        act.setChecked(name == "yolo")
        win.format_group.addAction(act)
    win.format_group.triggered.connect(lambda act: win.editing.set_save_format(str(act.data())))
    file_menu.addAction(make_action(win, "Change &Label Folder…", win.editing.choose_label_folder))
    file_menu.addSeparator()
    file_menu.addAction(win.act_quit)
    edit_menu = menu.addMenu("&Edit")
    edit_menu.addActions([win.act_undo, win.act_redo])
    edit_menu.addSeparator()
    edit_menu.addActions([win.act_create, win.act_keep_create, win.act_delete, win.act_duplicate,
                          win.act_paste_prev, win.act_edit_class])
    class_menu = edit_menu.addMenu("Set &Class")
    class_menu.addActions(win.act_digits)
    edit_menu.addSeparator()
    edit_menu.addAction(win.act_verify)
    edit_menu.addSeparator()
    edit_menu.addActions([win.act_prelabel, win.act_prelabel_unlabelled, win.act_accept_all, win.act_reject_all])
    view_menu = menu.addMenu("&View")
    view_menu.addActions([win.act_zoom_in, win.act_zoom_out, win.act_fit, win.act_actual])
    view_menu.addSeparator()
    view_menu.addAction(win.act_boxes)
    view_menu.addSeparator()
    for dock in win.editor_docks:
        view_menu.addAction(dock.toggleViewAction())
    go_menu = menu.addMenu("&Go")
    go_menu.addActions(list(win.workspace.actions.values()))
    go_menu.addSeparator()
    go_menu.addActions([win.act_prev, win.act_next, win.act_prev_unverified, win.act_next_unverified,
                        win.act_next_dispute, win.act_prev_dispute])
    win.editor_menus = [edit_menu, view_menu]
    help_menu = menu.addMenu("&Help")
    help_menu.addActions([win.act_shortcuts, win.act_about])

    toolbar = win.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    toolbar.setMovable(False)
    toolbar.setIconSize(QSize(18, 18))
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
    toolbar.addActions([win.act_open_folder, win.act_save])
    toolbar.addSeparator()
    toolbar.addActions([win.act_prev, win.act_next])
    toolbar.addSeparator()
    toolbar.addActions([win.act_create, win.act_verify])
    win.class_combo = QComboBox(win)
    win.class_combo.setMinimumContentsLength(12)
    win.class_combo.setToolTip("Class of the next box (digits 1–9, 0 choose; “Ask” opens the class list "
                                "after each box)")
    win.class_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    win.class_combo.activated.connect(lambda i: win.editor.set_current_class(win.class_combo.itemData(i)))
    win.editor.currentClassChanged.connect(win.editing.show_current_class)
    toolbar.addWidget(QLabel("  Class: "))
    toolbar.addWidget(win.class_combo)
    toolbar.addSeparator()
    toolbar.addActions([win.act_zoom_in, win.act_zoom_out, win.act_fit, win.act_actual])
    toolbar.addSeparator()
    toolbar.addAction(win.act_boxes)
    win.toolbar = toolbar
