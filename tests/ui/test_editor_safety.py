"""Never lose a label: crash recovery from a killed app, class rename/merge rewriting the files, EXIF-rotated
images edited in the trainer's coordinates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from labeltrain.ui.app import configure_app
from labeltrain.ui.main_window import MainWindow
from tests.ui.support import click, drag, install_prompts, key, make_dataset, open_and_wait, yolo_rows

CLASSES = ["cat", "dog", "bird"]
REPO = Path(__file__).resolve().parents[2]


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


CHILD = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from pathlib import Path
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[2])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    app = QApplication([])
    from labeltrain.ui.main_window import MainWindow
    from tests.ui.support import drag, key
    from PySide6.QtCore import Qt
    win = MainWindow(); win.resize(1000, 700); win.show()
    win.act_autosave.trigger()          # autosave off: the edits exist only in memory and in the journal
    win.open_path(sys.argv[1])
    deadline = time.time() + 20
    while win.document.key is None or win.view.loaded_image() is None:
        app.processEvents(); time.sleep(0.01)
        assert time.time() < deadline
    win.editor.set_current_class(2)
    key(win.view, Qt.Key.Key_W)
    drag(win, (20, 30), (120, 90))
    end = time.time() + 1.0             # longer than the journal's debounce
    while time.time() < end:
        app.processEvents(); time.sleep(0.01)
    print("edited", len(win.document.boxes), flush=True)
    while True:
        app.processEvents(); time.sleep(0.05)
""")


def test_crash_recovery_after_kill(qtbot, win, tmp_path):
    root = make_dataset(tmp_path / "d", {"a.jpg": (400, 300, ["0 0.5 0.5 0.25 0.2"])}, CLASSES)
    before = (root / "a.txt").read_bytes()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(tmp_path / "child-settings")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(REPO))
    try:
        line = child.stdout.readline().decode()
        assert line.strip() == "edited 2", line or child.stderr.read().decode()[-2000:]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert (root / "a.txt").read_bytes() == before            # nothing was saved before the kill
    assert list((root / ".labeltrain" / "journal").iterdir())  # but the edit was journaled

    prompts = install_prompts(win)
    prompts.restore_answer = True
    open_and_wait(qtbot, win, root)
    qtbot.waitUntil(lambda: any(kind == "restore" for kind, _ in prompts.asked))
    qtbot.waitUntil(lambda: len(win.document.boxes) == 2)
    assert win.document.is_dirty()
    assert [(b.cls, b.x1, b.y1, b.x2, b.y2) for b in win.document.boxes][1] == (2, 20, 30, 120, 90)
    key(win.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert [r[0] for r in yolo_rows(root / "a.txt")] == [0, 2]
    assert not list((root / ".labeltrain" / "journal").glob("*.json"))


def test_discarding_recovery_deletes_the_journal(qtbot, win, tmp_path):
    root = make_dataset(tmp_path / "d", {"a.jpg": (400, 300, ["0 0.5 0.5 0.25 0.2"])}, CLASSES)
    prompts = install_prompts(win)
    open_and_wait(qtbot, win, root)
    win.act_autosave.trigger()
    win.editor.set_current_class(1)
    key(win.view, Qt.Key.Key_W)
    drag(win, (20, 30), (120, 90))
    win.session.flush_journal()
    journal = root / ".labeltrain" / "journal"
    assert list(journal.glob("*.json"))
    win.document.forget_all()                 # as if the process had died: the journal stays
    prompts.restore_answer = False
    open_and_wait(qtbot, win, root)
    qtbot.waitUntil(lambda: any(kind == "restore" for kind, _ in prompts.asked))
    assert not list(journal.glob("*.json"))
    assert len(win.document.boxes) == 1


def test_rename_and_merge_rewrite_every_file(qtbot, win, tmp_path):
    root = make_dataset(tmp_path / "d", {
        "a.jpg": (200, 100, ["0 0.5 0.5 0.2 0.2", "2 0.3 0.3 0.1 0.1"]),
        "b.jpg": (200, 100, ["1 0.5 0.5 0.2 0.2"]),
        "c.jpg": (200, 100, ["2 0.5 0.5 0.2 0.2", "7 0.2 0.2 0.1 0.1"]),
    }, CLASSES)
    prompts = install_prompts(win)
    open_and_wait(qtbot, win, root)
    qtbot.waitUntil(lambda: win.class_list.counts() is not None)
    assert win.class_list.counts() == {0: 1, 1: 1, 2: 2, 7: 1}

    before = {p.name: p.read_bytes() for p in root.glob("*.txt")}
    assert win.class_manager.rename(0, "kitten")
    assert (root / "classes.txt").read_text().split() == ["kitten", "dog", "bird"]
    assert {p.name: p.read_bytes() for p in root.glob("*.txt") if p.name != "classes.txt"} == \
        {k: v for k, v in before.items() if k != "classes.txt"}       # ids unchanged: no label file touched
    assert win.view.box_items()[0].class_name == "kitten"

    # merge bird (2) into kitten (0): ids above 2 are unknown and stay as they are
    assert win.class_manager.merge(2, 0)
    assert prompts.asked[-1][0] == "confirm" and "2 label files" in prompts.asked[-1][1]
    assert (root / "classes.txt").read_text().split() == ["kitten", "dog"]
    assert [r[0] for r in yolo_rows(root / "a.txt")] == [0, 0]
    assert [r[0] for r in yolo_rows(root / "b.txt")] == [1]
    assert [r[0] for r in yolo_rows(root / "c.txt")] == [0, 7]
    backups = list((root / ".labeltrain" / "backups").glob("*/a.txt"))
    assert len(backups) == 1 and backups[0].read_bytes() == before["a.txt"]
    qtbot.waitUntil(lambda: win.class_list.counts() == {0: 3, 1: 1, 7: 1})
    assert [b.cls for b in win.document.boxes] == [0, 0]      # the image on screen was re-read

    # declining the confirmation changes nothing
    prompts.confirm_answer = False
    snapshot = {p.name: p.read_bytes() for p in root.glob("*.txt")}
    assert not win.class_manager.delete(1)
    assert {p.name: p.read_bytes() for p in root.glob("*.txt")} == snapshot


def test_class_change_includes_files_created_in_this_session(qtbot, win, tmp_path):
    root = make_dataset(tmp_path / "d", {"a.jpg": (200, 100, None), "b.jpg": (200, 100, ["1 0.5 0.5 0.2 0.2"])},
                        CLASSES)
    install_prompts(win)
    open_and_wait(qtbot, win, root)
    win.editor.set_current_class(2)
    key(win.view, Qt.Key.Key_W)
    drag(win, (20, 20), (60, 60))
    assert win.class_manager.move(2, -1)                      # bird <-> dog
    assert (root / "classes.txt").read_text().split() == ["cat", "bird", "dog"]
    assert [r[0] for r in yolo_rows(root / "a.txt")] == [1]
    assert [r[0] for r in yolo_rows(root / "b.txt")] == [2]


def _exif_rotated_jpeg(path: Path, stored_w: int, stored_h: int, orientation: int) -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (stored_h, stored_w, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, quality=90, exif=exif)


def test_exif_rotated_image_is_edited_in_trainer_coordinates(qtbot, win, tmp_path):
    root = tmp_path / "exif"
    root.mkdir()
    _exif_rotated_jpeg(root / "phone.jpg", 400, 200, 6)       # stored 400x200, shown rotated: 200x400
    (root / "classes.txt").write_text("cat\n")
    open_and_wait(qtbot, win, root)
    assert win.document.size == (200, 400)
    assert win.view.image_size() == (200, 400)
    oriented = cv2.imread(str(root / "phone.jpg"))               # what the trainer decodes
    assert oriented.shape[:2] == (400, 200)
    win.editor.set_current_class(0)
    key(win.view, Qt.Key.Key_W)
    drag(win, (20, 300), (120, 380))
    click(win, 70, 340)
    key(win.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    rows = yolo_rows(root / "phone.txt")
    assert rows == [pytest.approx([0, 70 / 200, 340 / 400, 100 / 200, 80 / 400])]
