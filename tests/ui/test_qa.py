"""Dataset QA views on real files (offscreen): the live previewer (boxes parsed from disk as the trainer parses
them, refresh after an external write, filters, click -> openInEditor), the class gallery, the findings list with
a full check and a fix, the trainer's eye from the real dataloader, the health view's numbers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from labeltrain.core.dataset import discover
from labeltrain.core.project_state import ProjectState
from labeltrain.ui.qa.gallery import EntryRole
from labeltrain.ui.qa.paint import box_rect
from labeltrain.ui.qa.panel import QAPanel
from labeltrain.ui.qa.records import DROPPED, IGNORED, KEPT, REJECTED
from labeltrain.ui.qa.thumbs import cache_dir
from labeltrain.ui.qa.tile_model import ERRORS, TileFilter
from labeltrain.ui.qa.tile_model import REJECTED as REJECTED_FILTER
from tests.training.synthetic import make_dataset as make_ultralytics_dataset
from tests.ui.support import make_dataset

CLASSES = ["cat", "dog", "bird"]

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "ds", {
        "a.jpg": (200, 100, ["0 0.25 0.5 0.2 0.4", "1 0.75 0.5 0.3 0.6"]),
        "b.jpg": (120, 160, ["2 0.5 0.5 0.5 0.5", "2 0.5 0.5 0.5 0.5"]),     # a duplicate row: dropped
        "c.jpg": (160, 120, ["1 0.5 0.5 0.4 0.4", "5 0.2 0.2 0.1 0.1"]),     # class 5 of 3: image ignored
        "d.jpg": (100, 100, None),                                          # no label file
        "e.jpg": (100, 100, []),                                            # empty: background
    }, CLASSES)


@pytest.fixture
def panel(qtbot):
    qa = QAPanel(auto_check=False)
    qtbot.addWidget(qa)
    qa.resize(1100, 720)
    qa.show()
    qtbot.waitExposed(qa)
    yield qa
    qa.close_workers()


def open_dataset(qtbot, qa: QAPanel, root: Path):
    ds = discover(root)
    with qtbot.waitSignal(qa.store.indexFinished, timeout=20_000):
        qa.set_dataset(ds)
    qtbot.waitUntil(lambda: all(qa.thumbs.get(i.image) is not None or qa.thumbs.error(i.image)
                                for i in ds.items[:40]), timeout=20_000)
    return ds


def boxes_of(qa: QAPanel, image: Path) -> list[tuple]:
    record = qa.preview.tile_record(str(image))
    assert record is not None
    return [(b.cls, round(b.xc, 4), round(b.yc, 4), round(b.w, 4), round(b.h, 4), b.line, b.state)
            for b in record.boxes]


def shown_images(qa: QAPanel) -> set[str]:
    model = qa.preview.model
    return {Path(model.index(r).data(Qt.ItemDataRole.DisplayRole)).stem for r in range(model.rowCount())}


def test_previewer_draws_the_boxes_the_trainer_reads(qtbot, panel: QAPanel, dataset_dir: Path) -> None:
    open_dataset(qtbot, panel, dataset_dir)
    assert panel.preview.model.rowCount() == 5
    assert boxes_of(panel, dataset_dir / "a.jpg") == [(0, 0.25, 0.5, 0.2, 0.4, 1, KEPT),
                                                      (1, 0.75, 0.5, 0.3, 0.6, 2, KEPT)]
    assert [b[-1] for b in boxes_of(panel, dataset_dir / "b.jpg")] == [KEPT, DROPPED]
    assert [b[-1] for b in boxes_of(panel, dataset_dir / "c.jpg")] == [IGNORED, REJECTED]
    c = panel.preview.tile_record(str(dataset_dir / "c.jpg"))
    assert c.rejected and {f.rule for f in c.findings} == {"label.class_range"}
    assert {f.rule for f in panel.preview.tile_record(str(dataset_dir / "d.jpg")).findings} == {"label.missing"}
    assert panel.preview.tile_record(str(dataset_dir / "a.jpg")).findings == ()
    # thumbnails were decoded off the UI thread and cached on disk
    assert panel.thumbs.get(str(dataset_dir / "a.jpg")) is not None
    assert len(list(cache_dir().rglob("*.jpg"))) == 5
    panel.preview.grab().save(str(dataset_dir.parent / "preview.png"))


@pytest.mark.parametrize("atomic", [False, True], ids=["in-place write", "atomic rename"])
def test_previewer_refreshes_after_an_external_write(qtbot, panel: QAPanel, dataset_dir: Path, atomic: bool) -> None:
    open_dataset(qtbot, panel, dataset_dir)
    label = dataset_dir / "a.txt"
    text = "2 0.5 0.5 0.1 0.1\n9 0.1 0.1 0.1 0.1\n"
    t0 = time.perf_counter()
    if atomic:
        tmp = dataset_dir / ".a.txt.tmp"
        tmp.write_text(text)
        os.replace(tmp, label)
    else:
        with open(label, "w") as f:
            f.write(text)
    qtbot.waitUntil(lambda: len(boxes_of(panel, dataset_dir / "a.jpg")) == 2
                    and boxes_of(panel, dataset_dir / "a.jpg")[0][0] == 2, timeout=3000)
    assert time.perf_counter() - t0 < 1.5
    record = panel.preview.tile_record(str(dataset_dir / "a.jpg"))
    assert record.rejected and [f.rule for f in record.findings] == ["label.class_range"]
    assert [f.line for f in record.findings] == [2]
    # a second write (the watch must survive the first: a rename replaces the watched file)
    label.write_text("1 0.5 0.5 0.2 0.2\n")
    qtbot.waitUntil(lambda: boxes_of(panel, dataset_dir / "a.jpg") == [(1, 0.5, 0.5, 0.2, 0.2, 1, KEPT)],
                    timeout=3000)
    assert panel.preview.tile_record(str(dataset_dir / "a.jpg")).findings == ()
    # a label file created for an image that had none
    (dataset_dir / "d.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    qtbot.waitUntil(lambda: len(boxes_of(panel, dataset_dir / "d.jpg")) == 1, timeout=3000)
    assert panel.preview.tile_record(str(dataset_dir / "d.jpg")).findings == ()


def test_filters_by_class_rule_split_and_verified(qtbot, panel: QAPanel, tmp_path: Path) -> None:
    root = tmp_path / "ul"
    make_ultralytics_dataset(root, n_train=6, n_val=3, size=64, seed=3)
    (root / "labels" / "train" / "train_002.txt").write_text("0 0.5 0.5 0.2 0.2\n0 1.5 0.5 0.2 0.2\n")
    (root / "labels" / "val" / "val_001.txt").write_text("1 0.5 0.5 0.3 0.3\n")
    state = ProjectState.load(root)
    state.set_verified(root / "images" / "train" / "train_000.png", True)
    state.save()
    ds = open_dataset(qtbot, panel, root)
    preview = panel.preview
    assert preview.model.rowCount() == 9
    preview.set_filter(TileFilter(cls=1))
    with_circle = {Path(i.image).stem for i in ds.items
                   if "1" in {line.split()[0] for line in Path(i.label).read_text().splitlines() if line.strip()}}
    assert shown_images(panel) == with_circle and "val_001" in with_circle
    preview.set_filter(TileFilter(rule="label.non_normalized"))
    assert shown_images(panel) == {"train_002"}
    preview.set_filter(TileFilter(rule=REJECTED_FILTER))
    assert shown_images(panel) == {"train_002"}
    preview.set_filter(TileFilter(rule=ERRORS, split="val"))
    assert shown_images(panel) == set()
    preview.set_filter(TileFilter(split="val"))
    assert shown_images(panel) == {"val_000", "val_001", "val_002"}
    preview.set_filter(TileFilter(verified=True))
    assert shown_images(panel) == {"train_000"}
    preview.set_filter(TileFilter(verified=False, text="VAL_00"))
    assert shown_images(panel) == {"val_000", "val_001", "val_002"}
    # the filter bar shows the same choice
    assert preview.filters.current() == TileFilter(verified=False, text="VAL_00")
    preview.set_filter(TileFilter())
    assert preview.model.rowCount() == 9


def test_click_on_a_box_opens_it_in_the_editor(qtbot, panel: QAPanel, dataset_dir: Path) -> None:
    open_dataset(qtbot, panel, dataset_dir)
    preview = panel.preview
    image = str(dataset_dir / "a.jpg")
    row = preview.model.row_of(preview.store.index_of(image))
    tile = preview.view.visualRect(preview.model.index(row))
    record = preview.tile_record(image)
    target = box_rect(preview.delegate.image_rect(tile, record), record.boxes[1]).center().toPoint()
    with qtbot.waitSignal(panel.openInEditor, timeout=2000) as blocker:
        QTest.mouseClick(preview.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)
    assert blocker.args == [image, 1]
    outside = QPoint(tile.left() + 6, tile.top() + 6)  # the image area's corner: no box there
    with qtbot.waitSignal(panel.openInEditor, timeout=2000) as blocker:
        QTest.mouseClick(preview.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, outside)
    assert blocker.args == [image, None]


def test_editor_box_index_skips_rows_the_editor_cannot_read(qtbot, panel: QAPanel, dataset_dir: Path) -> None:
    (dataset_dir / "a.txt").write_text("0 0.5 0.5 0.1\nbad row here x y\n1 0.5 0.5 0.4 0.4\n")
    open_dataset(qtbot, panel, dataset_dir)
    gallery = panel.gallery
    gallery.set_class(1)
    rows = [gallery.model.index(r).data(EntryRole) for r in range(gallery.model.rowCount())]
    a_row = next(r for r, (i, _box) in enumerate(rows) if panel.store.records[i].name == "a.jpg")
    panel.setCurrentWidget(gallery)
    with qtbot.waitSignal(panel.openInEditor, timeout=2000) as blocker:
        rect = gallery.view.visualRect(gallery.model.index(a_row))
        QTest.mouseClick(gallery.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         rect.center())
    assert blocker.args == [str(dataset_dir / "a.jpg"), 0]  # line 3 is the editor's first box


def test_crop_gallery_lists_every_box_of_a_class(qtbot, panel: QAPanel, dataset_dir: Path) -> None:
    open_dataset(qtbot, panel, dataset_dir)
    gallery = panel.gallery
    panel.setCurrentWidget(gallery)
    gallery.set_class(2)
    entries = [gallery.model.index(r).data(EntryRole) for r in range(gallery.model.rowCount())]
    assert [(panel.store.records[i].name, box.line, box.state) for i, box in entries] == [
        ("b.jpg", 1, KEPT), ("b.jpg", 2, DROPPED)]
    gallery.set_class(1)
    assert [(panel.store.records[i].name, box.line) for i, box in
            (gallery.model.index(r).data(EntryRole) for r in range(gallery.model.rowCount()))] == [
        ("a.jpg", 2), ("c.jpg", 1)]
    entries = [gallery.model.index(r).data(EntryRole) for r in range(gallery.model.rowCount())]
    keys = [gallery.delegate.key(i, box) for i, box in entries]
    qtbot.waitUntil(lambda: all(gallery.crops.get(k) is not None for k in keys), timeout=10_000)  # cut off-thread
    for key in keys:
        img, rel = gallery.crops.get(key)
        assert img.width() > 0 and 0 <= rel.x() < rel.right() <= 1.0001
    with qtbot.waitSignal(panel.openInEditor, timeout=2000) as blocker:
        QTest.mouseClick(gallery.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         gallery.view.visualRect(gallery.model.index(1)).center())
    assert blocker.args == [str(dataset_dir / "c.jpg"), 0]


def test_findings_run_check_click_and_fix(qtbot, panel: QAPanel, dataset_dir: Path) -> None:
    open_dataset(qtbot, panel, dataset_dir)
    findings = panel.findings
    (dataset_dir / "orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with qtbot.waitSignal(findings.checkFinished, timeout=20_000) as blocker:
        findings.run_check()
    report = blocker.args[0]
    assert report.summary["images_rejected"] == 1
    rules = {f.rule for f in findings.model.findings}
    assert {"label.class_range", "label.duplicate", "label.missing", "label.empty", "dataset.orphan_label"} <= rules
    # filter the table, then click a finding: the editor opens its image at the box of its line
    findings.search.setText("duplicate")
    assert findings.proxy.rowCount() == 1
    index = findings.proxy.index(0, 2)
    with qtbot.waitSignal(panel.openInEditor, timeout=2000) as blocker:
        QTest.mouseClick(findings.table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         findings.table.visualRect(index).center())
    assert blocker.args == [str(dataset_dir / "b.jpg"), 1]
    # the safe fix: shown, confirmed, applied with a backup; the watcher refreshes the tile
    asked = []
    findings.confirm = lambda title, details: asked.append(details) or True
    findings.table.selectRow(0)
    assert findings.fix_button.isEnabled()
    findings.fix_selected()
    assert asked and "b.txt" in asked[0]
    assert (dataset_dir / "b.txt").read_text() == "2 0.5 0.5 0.5 0.5\n"
    assert list((dataset_dir / ".labeltrain" / "backups").glob("*/manifest.json"))
    qtbot.waitUntil(lambda: [b[-1] for b in boxes_of(panel, dataset_dir / "b.jpg")] == [KEPT], timeout=3000)
    findings.search.setText("")
    qtbot.waitUntil(lambda: "label.duplicate" not in {f.rule for f in findings.model.findings}, timeout=3000)


def test_health_view_counts(qtbot, panel: QAPanel, tmp_path: Path) -> None:
    root = tmp_path / "ul"
    make_ultralytics_dataset(root, n_train=8, n_val=2, size=64, seed=1)
    open_dataset(qtbot, panel, root)
    panel.setCurrentWidget(panel.health)
    qtbot.waitUntil(lambda: panel.health.stats is not None and not panel.health.is_busy(), timeout=10_000)
    stats = panel.health.stats
    expected = {"train": [0, 0], "val": [0, 0]}
    for split in ("train", "val"):
        for label in (root / "labels" / split).glob("*.txt"):
            for line in label.read_text().split("\n"):
                if line.strip():
                    expected[split][int(line.split()[0])] += 1
    assert {k: v.tolist() for k, v in stats.instances.items()} == expected
    assert stats.images == {"train": 8, "val": 2}
    assert stats.names == ("square", "circle")
    assert "rare_class" in {w.kind for w in stats.warnings}
    assert "instances" in panel.health.warnings.text() or "square" in panel.health.warnings.text()
    assert len(panel.health.p_instances.listDataItems()) >= 2
    panel.health.threshold.setValue(1)
    assert "rare_class" not in {w.kind for w in panel.health.stats.warnings}
    panel.grab().save(str(tmp_path / "health.png"))


def test_trainers_eye_shows_a_batch_from_the_real_dataloader(qtbot, panel: QAPanel, tmp_path: Path) -> None:
    root = tmp_path / "ul"
    make_ultralytics_dataset(root, n_train=8, n_val=2, size=64, seed=2)
    open_dataset(qtbot, panel, root)
    eye = panel.trainers_eye
    panel.setCurrentWidget(eye)
    eye.imgsz.setCurrentIndex(eye.imgsz.findData(160))
    eye.batch.setValue(4)
    with qtbot.waitSignal(eye.batchShown, timeout=120_000) as blocker:
        eye.next_batch()
    batch = blocker.args[0]
    assert len(batch.samples) == 4 and batch.settings.augment and batch.settings.imgsz == 160
    assert batch.names == {0: "square", 1: "circle"}
    assert all(s.image.shape == (160, 160, 3) for s in batch.samples)
    assert len(eye.view.cell_rects()) == 4
    qtbot.waitUntil(lambda: not eye.is_busy(), timeout=10_000)
    with qtbot.waitSignal(eye.batchShown, timeout=60_000) as blocker:
        eye.augment.setChecked(False)  # debounced request
    assert not blocker.args[0].settings.augment
    assert eye.sliders["mosaic"][0].isEnabled() is False
    eye.grab().save(str(tmp_path / "eye.png"))


def test_verified_flags_follow_the_sidecar(qtbot, panel: QAPanel, dataset_dir: Path) -> None:
    open_dataset(qtbot, panel, dataset_dir)
    panel.preview.set_filter(TileFilter(verified=True))
    assert shown_images(panel) == set()
    state = ProjectState.load(dataset_dir)  # the editor marks an image verified and saves its sidecar
    state.set_verified(dataset_dir / "b.jpg", True)
    with qtbot.waitSignal(panel.store.verifiedChanged, timeout=3000):
        state.save()
    assert shown_images(panel) == {"b"}
    state.set_verified(dataset_dir / "e.jpg", True)
    with qtbot.waitSignal(panel.store.verifiedChanged, timeout=3000):
        state.save()
    assert shown_images(panel) == {"b", "e"}


def test_label_files_beyond_the_watch_limit_are_polled(qtbot, panel: QAPanel, dataset_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("labeltrain.ui.qa.watch.file_watch_limit", lambda: 1)
    open_dataset(qtbot, panel, dataset_dir)
    folders, watched, polled = panel.store.watcher.watched_count()
    assert (folders, watched, polled) == (1, 1, 4)  # d.jpg has no label file yet: polled too
    with open(dataset_dir / "c.txt", "w") as f:  # in place: no folder event, only polling sees it
        f.write("0 0.5 0.5 0.2 0.2\n")
    qtbot.waitUntil(lambda: boxes_of(panel, dataset_dir / "c.jpg") == [(0, 0.5, 0.5, 0.2, 0.2, 1, KEPT)],
                    timeout=3000)
    assert not panel.preview.tile_record(str(dataset_dir / "c.jpg")).rejected


def test_thumbnail_cache_is_keyed_by_path_mtime_and_size(tmp_path: Path) -> None:
    from labeltrain.ui.qa.thumbs import cache_key, load_thumbnail
    from tests.ui.support import write_image

    image = tmp_path / "x.jpg"
    write_image(image, 640, 320)
    first = load_thumbnail(str(image), tmp_path / "thumbs")
    assert first.shape == (128, 256, 3)
    key = cache_key(str(image))
    assert (tmp_path / "thumbs" / key[:2] / f"{key}.jpg").is_file()
    write_image(image, 300, 600, seed=3)
    os.utime(image, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    assert cache_key(str(image)) != key
    assert load_thumbnail(str(image), tmp_path / "thumbs").shape == (256, 128, 3)


def test_other_label_formats_are_drawn_through_the_registry(qtbot, panel: QAPanel, dataset_dir: Path,
                                                             tmp_path: Path) -> None:
    from labeltrain.core.convert import convert

    convert(dataset_dir, tmp_path / "voc", "voc", copy_images=True)
    open_dataset(qtbot, panel, tmp_path / "voc")
    record = panel.preview.tile_record(str(tmp_path / "voc" / "images" / "a.jpg"))
    assert not record.yolo and record.label.endswith("a.xml")
    names = panel.store.dataset.classes
    assert sorted((names.name(b.cls), round(b.xc, 3), round(b.w, 3)) for b in record.boxes) == [
        ("cat", 0.25, 0.2), ("dog", 0.75, 0.3)]
    qtbot.waitUntil(lambda: "VOC" in panel.preview.status.text(), timeout=2000)
