"""The window's modes on real files: Review and Train pages inside the main window, the editor's keys and docks
only in Label mode, edits saved before the Review page reads the disk, a click on a Review tile landing on that
box in the editor, and a fix made on the Review page shown by the editor when the user comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labeltrain.ui.main_window import MainWindow
from labeltrain.ui.qa.paint import box_rect
from labeltrain.ui.qa.panel import QAPanel
from labeltrain.ui.training import TrainingPanel
from tests.ui.support import go_to_name, key, make_dataset, open_and_wait

CLASSES = ["cat", "dog", "bird"]

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "ds", {
        "a.jpg": (200, 100, ["0 0.25 0.5 0.2 0.4", "1 0.75 0.5 0.3 0.6"]),
        "b.jpg": (120, 160, ["2 0.5 0.5 0.5 0.5", "2 0.5 0.5 0.5 0.5"]),  # a duplicate row
        "c.jpg": (160, 120, ["1 0.5 0.5 0.4 0.4"]),
    }, CLASSES)


def review(qtbot, win: MainWindow) -> QAPanel:
    key(win, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    page = win.workspace.existing_page("review")
    assert isinstance(page, QAPanel) and win.workspace.stack.currentWidget() is page
    qtbot.waitUntil(lambda: page.store.dataset is not None and not page.store.indexing, timeout=20_000)
    return page


def test_editor_keys_and_docks_belong_to_label_mode(qtbot, window: MainWindow, dataset_dir: Path) -> None:
    open_and_wait(qtbot, window, dataset_dir)
    assert window.workspace.existing_page("review") is None  # pages are made on first use
    window.document.select(0)
    page = review(qtbot, window)
    assert not window.files_dock.isVisible() and not window.toolbar.isVisible()
    for k in (Qt.Key.Key_Delete, Qt.Key.Key_D, Qt.Key.Key_2):  # a Del on the grid deletes nothing unseen
        key(page.preview.view, k)
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.document.boxes) == 2 and window.current_row() == 0
    key(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.workspace.mode == "label" and window.files_dock.isVisible() and window.toolbar.isVisible()
    window.document.select(0)
    key(window.view, Qt.Key.Key_Delete)
    assert len(window.document.boxes) == 1
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.document.boxes) == 2


def test_leaving_the_editor_saves_so_review_shows_the_edit(qtbot, window: MainWindow, dataset_dir: Path) -> None:
    open_and_wait(qtbot, window, dataset_dir)
    go_to_name(qtbot, window, "c.jpg")
    window.document.select(0)
    key(window.view, Qt.Key.Key_Delete)
    assert window.document.is_dirty()
    page = review(qtbot, window)
    assert (dataset_dir / "c.txt").read_text() == ""
    record = page.preview.tile_record(str(dataset_dir / "c.jpg"))
    assert record is not None and record.boxes == ()


def test_a_click_on_a_review_tile_box_selects_it_in_the_editor(qtbot, window: MainWindow, dataset_dir: Path) -> None:
    open_and_wait(qtbot, window, dataset_dir)
    page = review(qtbot, window)
    preview = page.preview
    image = str(dataset_dir / "a.jpg")
    qtbot.waitUntil(lambda: page.thumbs.get(image) is not None, timeout=10_000)
    index = preview.model.index(preview.model.row_of(page.store.index_of(image)))
    record = preview.tile_record(image)
    target = box_rect(preview.delegate.image_rect(preview.view.visualRect(index), record), record.boxes[1])
    go_to_name(qtbot, window, "c.jpg")  # the editor is elsewhere meanwhile
    QTest.mouseClick(preview.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     target.center().toPoint())
    assert window.workspace.mode == "label"
    assert window.document.key == image and window.document.selected == 1


def test_a_fix_on_the_review_page_is_shown_when_back_in_the_editor(qtbot, window: MainWindow,
                                                                   dataset_dir: Path) -> None:
    open_and_wait(qtbot, window, dataset_dir)
    go_to_name(qtbot, window, "b.jpg")
    assert len(window.document.boxes) == 2
    page = review(qtbot, window)
    findings = page.findings
    page.setCurrentWidget(findings)
    qtbot.waitUntil(lambda: not findings.is_running() and bool(findings.model.findings), timeout=20_000)
    findings.search.setText("duplicate")
    assert findings.proxy.rowCount() == 1
    findings.confirm = lambda title, details: True
    findings.table.selectRow(0)
    findings.fix_selected()
    assert (dataset_dir / "b.txt").read_text() == "2 0.5 0.5 0.5 0.5\n"
    window.workspace.set_mode("label")
    assert len(window.document.boxes) == 1 and not window.document.is_dirty()


def test_train_page_gets_the_open_dataset(qtbot, window: MainWindow, dataset_dir: Path) -> None:
    open_and_wait(qtbot, window, dataset_dir)
    key(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    page = window.workspace.existing_page("train")
    assert isinstance(page, TrainingPanel) and window.workspace.stack.currentWidget() is page
    assert page.form.dataset is not None and page.form.dataset.root == dataset_dir
    assert window.workspace.busy_reason() is None
