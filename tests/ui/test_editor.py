"""The annotation editor driven through the real window with mouse and key events; assertions on the files
written to disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from labeltrain.ui.app import configure_app
from labeltrain.ui.main_window import MainWindow
from tests.ui.support import (
    click,
    drag,
    go_to_name,
    install_prompts,
    key,
    make_dataset,
    open_and_wait,
    wait_image,
    yolo_rows,
)

CLASSES = ["cat", "dog", "bird"]
K = Qt.Key
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "photos", {
        "a.jpg": (400, 300, ["0 0.5 0.5 0.25 0.2"]),       # cat at x 150..250, y 120..180
        "b.jpg": (400, 300, None),                          # no label file yet
        "c.jpg": (800, 600, ["1 0.25 0.25 0.1 0.1"]),
    }, CLASSES)


@pytest.fixture
def win(qtbot, qapp):
    configure_app(qapp)
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def _boxes(win: MainWindow) -> list[tuple[int, float, float, float, float]]:
    return [(b.cls, b.x1, b.y1, b.x2, b.y2) for b in win.document.boxes]


def test_draw_with_sticky_class_autosaves_on_switch(qtbot, win, data):
    prompts = install_prompts(win)
    open_and_wait(qtbot, win, data)
    go_to_name(qtbot, win, "b.jpg")
    key(win.view, K.Key_2)                      # nothing selected: current class = dog (id 1)
    assert win.editor.current_class == 1
    key(win.view, K.Key_W)
    assert win.view.create_mode
    drag(win, (40, 50), (140, 110))
    assert _boxes(win) == [(1, 40, 50, 140, 110)]
    assert not win.view.create_mode              # one box per `w` unless "keep create mode"
    assert win.document.is_dirty()
    assert not (data / "b.txt").exists()
    key(win.view, K.Key_D)                       # switching autosaves
    wait_image(qtbot, win)
    assert yolo_rows(data / "b.txt") == [pytest.approx([1, 0.225, 0.2666666667, 0.25, 0.2])]
    assert prompts.asked == []


def test_a_click_is_not_a_box_and_drawing_clamps_to_the_image(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    win.editor.set_current_class(0)
    key(win.view, K.Key_W)
    click(win, 100, 100)
    assert _boxes(win)[1:] == []
    drag(win, (350, 250), (460, 380))             # ends outside the 400x300 image
    assert _boxes(win)[1] == (0, 350, 250, 400, 300)


def test_move_resize_undo_redo_one_step_per_drag(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    assert _boxes(win) == [(0, 150, 120, 250, 180)]
    drag(win, (200, 150), (230, 170), steps=8)    # move by (30, 20) in 8 mouse moves
    assert _boxes(win) == [(0, 180, 140, 280, 200)]
    drag(win, (280, 200), (300, 260))             # bottom-right corner handle
    assert _boxes(win) == [(0, 180, 140, 300, 260)]
    drag(win, (180, 170), (170, 170))             # left edge
    assert _boxes(win) == [(0, 170, 140, 300, 260)]
    stack = win.document.stack
    assert stack.count() == 3
    key(win.view, K.Key_Z, CTRL)
    assert _boxes(win) == [(0, 180, 140, 300, 260)]
    key(win.view, K.Key_Z, CTRL)
    key(win.view, K.Key_Z, CTRL)
    assert _boxes(win) == [(0, 150, 120, 250, 180)]
    assert not win.document.is_dirty()           # undone to what is on disk: nothing to save
    key(win.view, K.Key_Z, CTRL | SHIFT)
    key(win.view, K.Key_Y, CTRL)
    assert _boxes(win) == [(0, 180, 140, 300, 260)]


def test_select_delete_duplicate_nudge_digit(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    click(win, 200, 150)
    assert win.document.selected == 0
    assert win.box_list.currentItem() is not None
    key(win.view, K.Key_D, CTRL)
    assert _boxes(win)[1] == (0, 160, 130, 260, 190)
    assert win.document.selected == 1
    for _ in range(3):
        key(win.view, K.Key_Right)
    key(win.view, K.Key_Down, SHIFT)
    assert _boxes(win)[1] == (0, 163, 140, 263, 200)
    assert win.document.stack.count() == 2       # duplicate + the merged nudges
    key(win.view, K.Key_3)                       # box selected: its class becomes bird
    assert _boxes(win)[1][0] == 2
    assert win.editor.current_class is None
    key(win.view, K.Key_Delete)
    assert _boxes(win) == [(0, 150, 120, 250, 180)]
    key(win.view, K.Key_S, CTRL)
    assert yolo_rows(data / "a.txt") == [[0, 0.5, 0.5, 0.25, 0.2]]


def test_unchanged_file_is_not_rewritten(qtbot, win, data):
    before = (data / "a.txt").read_bytes()
    mtime = (data / "a.txt").stat().st_mtime_ns
    open_and_wait(qtbot, win, data)
    key(win.view, K.Key_S, CTRL)
    go_to_name(qtbot, win, "b.jpg")
    assert (data / "a.txt").read_bytes() == before
    assert (data / "a.txt").stat().st_mtime_ns == mtime
    assert not (data / "b.txt").exists()


def test_class_popup_picks_and_adds_classes(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    assert win.editor.current_class is None      # "ask": the popup opens after drawing
    key(win.view, K.Key_W)
    drag(win, (10, 10), (60, 60))
    popup = win.editor.popup
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup.filter, "bi")
    key(popup.filter, K.Key_Return)
    assert _boxes(win)[-1] == (2, 10, 10, 60, 60)
    # Ctrl+E on the selected box, type a new class name
    key(win.view, K.Key_E, CTRL)
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(popup.filter, "horse")
    key(popup.filter, K.Key_Return)
    assert win.session.classes.names == ("cat", "dog", "bird", "horse")
    assert _boxes(win)[-1][0] == 3
    key(win.view, K.Key_S, CTRL)
    assert (data / "classes.txt").read_text().split() == ["cat", "dog", "bird", "horse"]
    assert [r[0] for r in yolo_rows(data / "a.txt")] == [0, 3]
    # Esc cancels: a drawn box without a class is dropped
    key(win.view, K.Key_W)
    drag(win, (300, 10), (350, 60))
    qtbot.waitUntil(popup.isVisible)
    key(popup.filter, K.Key_Escape)
    assert len(_boxes(win)) == 2


def test_copy_previous_boxes_and_hide(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    key(win.view, K.Key_D)
    wait_image(qtbot, win)
    key(win.view, K.Key_V, CTRL)
    assert _boxes(win) == [(0, 150, 120, 250, 180)]
    key(win.view, K.Key_V, CTRL)                  # the same boxes again are not duplicated
    assert len(_boxes(win)) == 1
    key(win.view, K.Key_D)                        # c.jpg is twice as large: boxes scale
    wait_image(qtbot, win)
    key(win.view, K.Key_V, CTRL)
    assert _boxes(win)[-1] == pytest.approx((0, 300, 240, 500, 360))
    assert yolo_rows(data / "b.txt") == [[0, 0.5, 0.5, 0.25, 0.2]]


def test_verified_flag_sidecar_and_unverified_navigation(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    win.view.setFocus()
    key(win.view, K.Key_Space)
    assert win.act_verify.isChecked()
    state = data / ".labeltrain" / "state.json"
    assert state.exists() and "a.jpg" in state.read_text()
    key(win.view, K.Key_D, CTRL | SHIFT)          # next unverified: b.jpg
    wait_image(qtbot, win)
    assert Path(win.document.key).name == "b.jpg"
    key(win.view, K.Key_A, CTRL | SHIFT)          # a.jpg is verified: nothing before b
    assert Path(win.document.key).name == "b.jpg"
    go_to_name(qtbot, win, "a.jpg")
    key(win.view, K.Key_Space)
    assert not win.act_verify.isChecked()
    assert "a.jpg" not in state.read_text()


def test_external_change_conflict_reload_and_keep_both(qtbot, win, data):
    prompts = install_prompts(win)
    open_and_wait(qtbot, win, data)
    click(win, 200, 150)
    key(win.view, K.Key_Delete)
    (data / "a.txt").write_text("2 0.1 0.1 0.1 0.1\n")   # another tool wrote the file meanwhile
    prompts.conflict_answer = "cancel"
    key(win.view, K.Key_S, CTRL)
    assert prompts.asked[-1][0] == "conflict"
    assert (data / "a.txt").read_text() == "2 0.1 0.1 0.1 0.1\n"   # never overwritten silently
    assert win.document.is_dirty()
    prompts.conflict_answer = "keep_both"
    key(win.view, K.Key_W)
    win.editor.set_current_class(1)
    drag(win, (10, 10), (50, 50))
    key(win.view, K.Key_S, CTRL)
    assert yolo_rows(data / "a.txt") == [pytest.approx([1, 0.075, 0.1, 0.1, 0.1333333333])]
    copies = list(data.glob("a.conflict-*.txt"))
    assert len(copies) == 1 and copies[0].read_text() == "2 0.1 0.1 0.1 0.1\n"
    # reload: the edits go, the disk version shows
    click(win, 30, 30)
    key(win.view, K.Key_Delete)
    (data / "a.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    prompts.conflict_answer = "reload"
    key(win.view, K.Key_S, CTRL)
    assert _boxes(win) == [(1, 100, 75, 300, 225)]
    assert not win.document.is_dirty()


def test_autosave_off_asks_on_switch_and_on_close(qtbot, win, data):
    prompts = install_prompts(win)
    open_and_wait(qtbot, win, data)
    win.act_autosave.trigger()
    assert not win.act_autosave.isChecked()
    click(win, 200, 150)
    key(win.view, K.Key_Delete)
    prompts.unsaved_answer = "cancel"
    key(win.view, K.Key_D)
    assert Path(win.document.key).name == "a.jpg"   # cancelled: stays
    prompts.unsaved_answer = "save"
    key(win.view, K.Key_D)
    wait_image(qtbot, win)
    assert (data / "a.txt").read_text() == ""         # the user removed the only box: an empty file is right
    win.editor.set_current_class(0)
    key(win.view, K.Key_W)
    drag(win, (10, 10), (50, 50))
    prompts.unsaved_answer = "cancel"
    assert not win.close()
    prompts.unsaved_answer = "discard"
    assert win.close()
    assert not (data / "b.txt").exists()


def test_unreadable_image_does_not_crash_and_unknown_ids_are_kept(qtbot, win, tmp_path):
    root = make_dataset(tmp_path / "d", {"a.jpg": (200, 100, ["0 0.5 0.5 0.2 0.2", "7 0.3 0.3 0.1 0.1"])}, CLASSES)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    open_and_wait(qtbot, win, root)
    click(win, 100, 50)
    key(win.view, K.Key_Right)
    key(win.view, K.Key_D)                         # autosave, then the broken image
    wait_image(qtbot, win)
    assert win.view.placeholder_text()
    rows = yolo_rows(root / "a.txt")
    assert [r[0] for r in rows] == [0, 7]          # the unknown id 7 is written back unchanged
    assert rows[0][1] == pytest.approx(0.505)
    key(win.view, K.Key_W)
    drag(win, (10, 10), (50, 50))                  # nothing to draw on: no crash, nothing written
    assert not (root / "broken.txt").exists()
    QApplication.processEvents()


def test_save_format_voc_and_label_folder_are_remembered(qtbot, win, data, tmp_path):
    open_and_wait(qtbot, win, data)
    click(win, 200, 150)
    key(win.view, K.Key_Right)
    win.set_save_format("voc")
    key(win.view, K.Key_S, CTRL)
    xml = (data / "a.xml").read_text()
    assert "<name>cat</name>" in xml and "<xmin>151</xmin>" in xml and "<width>400</width>" in xml
    out = tmp_path / "elsewhere"
    win.set_save_format("yolo", out)
    key(win.view, K.Key_Left)
    key(win.view, K.Key_S, CTRL)
    assert yolo_rows(out / "a.txt") == [pytest.approx([0, 0.5, 0.5, 0.25, 0.2])]
    # a new window on the same dataset saves the same way
    win.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    open_and_wait(qtbot, again, data)
    assert again.session.store.save_format == "yolo" and again.session.store.label_dir == out
    again.shutdown()


def test_autosave_timer_saves_without_switching(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    win.session.set_autosave_timer(True, interval_ms=200)
    click(win, 200, 150)
    key(win.view, K.Key_Up, SHIFT)
    qtbot.waitUntil(lambda: not win.document.is_dirty(), timeout=5000)
    assert yolo_rows(data / "a.txt")[0][2] == pytest.approx(140 / 300)   # moved up 10 px: centre 140


def test_pan_with_space_or_middle_drag_and_esc_cancels_a_drag(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    key(win.view, K.Key_Plus, CTRL)
    key(win.view, K.Key_Plus, CTRL)
    key(win.view, K.Key_Plus, CTRL)
    h = win.view.horizontalScrollBar()
    before = h.value()
    drag(win, (200, 150), (150, 150), button=Qt.MouseButton.MiddleButton)
    assert h.value() > before
    assert _boxes(win) == [(0, 150, 120, 250, 180)]      # panning moved no box
    assert not win.act_verify.isChecked()
    # Space held + drag pans too, and the Space tap does not toggle "verified"
    vp = win.view.viewport()
    QTest.keyPress(win.view, K.Key_Space)
    before = h.value()
    drag(win, (200, 150), (180, 150))
    QTest.keyRelease(win.view, K.Key_Space)
    assert h.value() > before
    assert not win.act_verify.isChecked()
    assert _boxes(win) == [(0, 150, 120, 250, 180)]
    # Esc during a move: the box snaps back, nothing recorded
    a = win.view.viewportTransform().map(QPointF(200, 150)).toPoint()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(vp, a + QPoint(40, 0))
    key(win.view, K.Key_Escape)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a + QPoint(40, 0))
    assert _boxes(win) == [(0, 150, 120, 250, 180)]
    assert win.document.stack.count() == 0


def test_recent_datasets_and_resume_at_the_last_image(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    go_to_name(qtbot, win, "c.jpg")
    win.editing.fill_recent_menu()
    entries = [a.text() for a in win.recent_menu.actions()]
    assert entries == [str(data)]
    win.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    open_and_wait(qtbot, again, data)
    assert Path(again.document.key).name == "c.jpg"
    again.shutdown()


def test_right_click_on_a_box_selects_it_and_asks_for_its_menu(qtbot, win, data):
    open_and_wait(qtbot, win, data)
    win.view.boxMenuRequested.disconnect(win.editing._box_menu)   # the menu itself would block the test
    with qtbot.waitSignal(win.view.boxMenuRequested) as blocker:
        QTest.mouseClick(win.view.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                         win.view.viewportTransform().map(QPointF(200, 150)).toPoint())
    assert blocker.args[0] == 0 and win.document.selected == 0
