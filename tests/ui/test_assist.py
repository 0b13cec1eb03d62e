"""Model-assisted labelling through the real editor (offscreen) with a really trained tiny model: proposals come
from the model in the background, are drawn apart from the boxes, are suppressed where a human box is, become
boxes only when accepted (one undo step), and go away when rejected; human boxes are never changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labeltrain.core.proposals import SUPPRESS_IOU, Proposal, visible
from labeltrain.ui.main_window import MainWindow
from tests.ui.support import go_to_name, key, open_and_wait, view_point, yolo_rows

CONF = 0.005  # the tiny model's scores are low

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def val_folder(tiny_weights: Path, tmp_path: Path) -> Path:
    """A copy of the tiny model's validation images with their labels, as a LabelImg-style folder."""
    data = tiny_weights.parents[3] / "data"
    out = tmp_path / "val"
    out.mkdir()
    for image in sorted((data / "images" / "val").glob("*.png")):
        (out / image.name).write_bytes(image.read_bytes())
        (out / f"{image.stem}.txt").write_bytes((data / "labels" / "val" / f"{image.stem}.txt").read_bytes())
    (out / "classes.txt").write_text("square\ncircle\n")
    return out


def prelabel(qtbot, win: MainWindow, weights: Path, scope: str = "image") -> None:
    session = win.assisting.session
    session.set_model(weights)
    session.set_conf(CONF)
    assert win.assisting.prelabel(scope)
    qtbot.waitUntil(lambda: not session.busy, timeout=60_000)


def test_proposals_are_shown_apart_and_accepted_as_one_undoable_edit(qtbot, window: MainWindow, val_folder: Path,
                                                                    tiny_weights: Path) -> None:
    open_and_wait(qtbot, window, val_folder)
    go_to_name(qtbot, window, "val_000.png")
    human = window.document.boxes
    assert human
    # with the human boxes in place, proposals on them are suppressed: the human box wins
    prelabel(qtbot, window, tiny_weights)
    all_props = window.assisting.session.proposals(window.document.key)
    assert all_props, "the model proposed nothing at all"
    assert window.assisting.shown() == visible(all_props, human, CONF)
    assert len(window.assisting.shown()) < len([p for p in all_props if p.score >= CONF])  # some were on a label
    assert window.document.boxes == human and not window.document.is_dirty()
    # remove the human boxes (as if the image were unlabelled): every proposal above the slider shows
    window.document.apply([], "clear")
    shown = window.assisting.shown()
    assert shown == [p for p in all_props if p.score >= CONF]
    assert [it.proposal for it in window.view.proposals.items] == shown
    assert window.assisting.panel.list.count() == len(shown)
    # double-click the first proposal on the canvas: it becomes a box (one undo step) and leaves the proposals
    first = shown[0]
    centre = view_point(window, (first.x1 + first.x2) / 2, (first.y1 + first.y2) / 2)
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    assert len(window.document.boxes) == 1
    box = window.document.boxes[0]
    assert (box.cls, round(box.x1, 3), round(box.y2, 3)) == (first.cls, round(max(first.x1, 0), 3),
                                                             round(min(first.y2, 96), 3))
    assert first not in window.assisting.session.proposals(window.document.key)
    key(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.boxes == ()
    # the slider hides low-confidence proposals; reject all clears what is shown without touching the labels
    window.assisting.session.set_conf(1.0)
    assert window.assisting.shown() == []
    window.assisting.session.set_conf(CONF)
    before = window.document.boxes
    window.assisting.reject_all()
    assert window.assisting.shown() == [] and window.document.boxes == before


def test_accept_all_then_save_writes_the_boxes(qtbot, window: MainWindow, val_folder: Path,
                                               tiny_weights: Path) -> None:
    (val_folder / "val_001.txt").unlink()  # an unlabelled image
    open_and_wait(qtbot, window, val_folder)
    prelabel(qtbot, window, tiny_weights, scope="unlabelled")
    session = window.assisting.session
    assert [Path(p).name for p in session._proposals] == ["val_001.png"]  # only the unlabelled image
    go_to_name(qtbot, window, "val_001.png")
    shown = window.assisting.shown()
    assert shown
    key(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # accept all
    assert len(window.document.boxes) == len(shown) and window.assisting.shown() == []
    assert window.document.boxes[0].attrs.get("proposed_by") == "best.pt"
    assert window.save()
    rows = yolo_rows(val_folder / "val_001.txt")
    assert [int(r[0]) for r in rows] == [p.cls for p in shown]


def test_visible_rules() -> None:
    from labeltrain.core.model import Box

    props = [Proposal(0, 10, 10, 50, 50, 0.9), Proposal(1, 60, 60, 90, 90, 0.3), Proposal(0, 12, 12, 52, 52, 0.2)]
    human = [Box(1, 11, 11, 51, 51)]  # overlaps the first and the third (any class)
    assert visible(props, human, 0.1) == [props[1]]
    assert visible(props, [], 0.25) == props[:2]
    assert visible(props, [Box(0, 0, 0, 30, 30)], 0.1) == props  # IoU 0.11 < SUPPRESS_IOU
    assert SUPPRESS_IOU < 0.5
