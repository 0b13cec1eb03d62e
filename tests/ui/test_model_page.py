"""The Model page in the real window (offscreen), running the real `labeltrain` commands in child processes with
a really trained tiny model: evaluation tables, a verified ONNX export, and the label-error queue that F8 walks
in the editor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from labeltrain.core.dataset import discover, load_annotation
from labeltrain.ui.main_window import MainWindow
from labeltrain.ui.model.page import ModelPage
from tests.ui.support import key, open_and_wait

TIMEOUT = 240_000  # child processes import torch and Ultralytics on a busy 2-core machine

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def project(tiny_weights: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the tiny model's dataset with the model as a run of it (runs/train/weights/best.pt)."""
    data = tiny_weights.parents[3] / "data"
    root = tmp_path / "project"
    shutil.copytree(data, root)
    (root / "data.yaml").write_text((root / "data.yaml").read_text().replace(str(data), str(root)))
    weights = root / "runs" / "train" / "weights" / "best.pt"
    weights.parent.mkdir(parents=True)
    shutil.copy2(tiny_weights, weights)
    return root, weights


def model_page(win: MainWindow) -> ModelPage:
    key(win, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    page = win.workspace.existing_page("model")
    assert isinstance(page, ModelPage) and win.workspace.stack.currentWidget() is page
    return page


def test_evaluate_and_export_from_the_model_page(qtbot, window: MainWindow, project) -> None:
    root, weights = project
    open_and_wait(qtbot, window, root / "data.yaml")
    page = model_page(window)
    assert page.picker.path() == weights  # the dataset's newest run is offered first
    view = page.evaluate
    view.conf.setValue(0.01)
    view.run()
    qtbot.waitUntil(lambda: view.result is not None and not view.job.running, timeout=TIMEOUT)
    r = view.result
    assert r.images == 8 and view.classes.rowCount() == 1 + len(r.classes)
    assert view.classes.item(0, 5).data(Qt.ItemDataRole.DisplayRole) == round(r.map50, 3)
    assert view.images.rowCount() == 8 and view.confusion.rowCount() == 3  # 2 classes + background
    assert view.viewer.pixmap() is not None and not view.viewer.pixmap().isNull()
    export = page.export
    page.tabs.setCurrentWidget(export)
    assert export.current_format() == "onnx"
    export.run()
    qtbot.waitUntil(lambda: export.report is not None and not export.job.running, timeout=TIMEOUT)
    assert export.report["format"] == "onnx" and export.report["verified"] is True
    assert export.table.rowCount() == 1 and export.table.item(0, 6).text() == "pass"
    assert (root / "runs" / "train" / "export" / "best.onnx").is_file()
    assert "export failed" not in export.status.text().lower()


def test_label_error_queue_walks_the_editor(qtbot, window: MainWindow, project) -> None:
    root, weights = project
    # a wrong class planted in a training label file: the model (trained on the clean file) disputes it
    label = root / "labels" / "train" / "train_000.txt"
    rows = label.read_text().splitlines()
    cls, *rest = rows[0].split()
    rows[0] = " ".join([str(1 - int(cls)), *rest])
    label.write_text("\n".join(rows) + "\n")
    open_and_wait(qtbot, window, root / "data.yaml")
    page = model_page(window)
    mining = page.mining
    page.tabs.setCurrentWidget(mining)
    assert mining.in_sample.isChecked() and mining.run_button.isEnabled()
    mining.run()
    qtbot.waitUntil(lambda: mining.result is not None and not mining.job.running, timeout=TIMEOUT)
    result = mining.result
    assert result.in_sample and mining.table.rowCount() == len(result.disputed()) > 0
    assert window.review_queue.entries, "the queue reached the editor"
    # F8 in the editor: the first entry, with its labelled box selected
    window.workspace.set_mode("label")
    key(window.view, Qt.Key.Key_F8)
    image, dispute = window.review_queue.entries[0]
    assert window.document.key == image
    if dispute.box_index is not None:
        assert window.document.selected == dispute.box_index
        dataset = discover(root / "data.yaml")
        item = next(i for i in dataset.items if i.image == image)
        ann = load_annotation(dataset, item).annotations[0]
        box = ann.boxes[dispute.box_index]
        assert (box.x1, box.y1) == pytest.approx((dispute.label.x1, dispute.label.y1), abs=1e-3)
    else:  # a missing box: the model's box is offered as a proposal
        assert window.assisting.session.proposals(image)
    assert "Label error 1 /" in window.statusBar().currentMessage()
    key(window.view, Qt.Key.Key_F8, Qt.KeyboardModifier.ShiftModifier)  # nothing before the first
    assert window.review_queue.position == 0
