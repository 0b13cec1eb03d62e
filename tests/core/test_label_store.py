"""LabelStore on real files: conflicts, keep-both, empty-file policy, byte-exact round trips, class names."""

import json
import os
import random
import re
from pathlib import Path

import pytest
import yaml
from PIL import Image

from labeltrain.core.dataset import discover
from labeltrain.core.label_store import (
    EmptyOverwriteError,
    Fingerprint,
    LabelConflict,
    LabelStore,
    conflict_copy_path,
    fingerprint,
    write_class_names,
)
from labeltrain.core.model import Box, ClassNames
from labeltrain.core.problems import ProblemList

W, H = 640, 480


def image(path: Path, size=(W, H)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (40, 90, 160)).save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    """LabelImg-style folder: images with YOLO files beside them and a classes.txt."""
    image(tmp_path / "a.png")
    image(tmp_path / "b.png")
    (tmp_path / "a.txt").write_bytes(b"0 0.500000 0.400000 0.200000 0.100000\n1 0.25 0.75 0.1 0.3\n")
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    return tmp_path


def store_of(root, **kw) -> tuple:
    ds = discover(root)
    items = {Path(it.image).name: it for it in ds.items}
    return LabelStore(ds, **kw), items


# --- fingerprints ----------------------------------------------------------------------------------------
def test_fingerprint_missing_and_content(tmp_path):
    f = tmp_path / "x.txt"
    assert fingerprint(f) == Fingerprint(False)
    f.write_bytes(b"0 0.5 0.5 0.1 0.1\n")
    fp = fingerprint(f)
    assert fp.exists and fp.size == 18 and fp.sha1 is not None
    os.utime(f, ns=(1, 1))  # touched: same content is not a change
    assert fingerprint(f).same_content(fp)
    f.write_bytes(b"0 0.5 0.5 0.1 0.2\n")
    assert not fingerprint(f).same_content(fp)
    assert fingerprint(tmp_path).exists and fingerprint(tmp_path).sha1 is None


# --- round trips -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("content", [
    b"0 0.500000 0.400000 0.200000 0.100000\n1 0.25 0.75 0.1 0.3\n",       # LabelImg's 6 decimals
    b"\xef\xbb\xbf1 0.48046875 0.5 0.1 0.2\r\n0 0.4804687500000001 0.1 0.05 0.05",  # BOM, CRLF, no final newline
    b"0 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n",                                # polygon row
    b"  0   0.5 0.5 0.2 0.2  \n\n",                                        # odd spacing, blank line
])
def test_saving_an_unchanged_file_keeps_its_bytes_and_mtime(folder, content):
    label = folder / "a.txt"
    label.write_bytes(content)
    os.utime(label, ns=(10**18, 10**18))
    store, items = store_of(folder)
    loaded = store.load(items["a.png"])
    assert loaded.label_path == label and loaded.annotation.boxes
    fp = store.save(loaded.annotation, loaded.fingerprint)
    assert label.read_bytes() == content
    assert label.stat().st_mtime_ns == 10**18
    assert fp.same_content(loaded.fingerprint)


def test_unchanged_rows_keep_their_text_when_another_box_changes(folder):
    label = folder / "a.txt"
    label.write_bytes(b"0 0.500000 0.400000 0.200000 0.100000\n1 0.4804687500000001 0.75 0.1 0.3\n")
    store, items = store_of(folder)
    loaded = store.load(items["a.png"])
    first, second = loaded.annotation.boxes
    edited = loaded.annotation.with_boxes([first, second.moved(10, 0), Box(0, 10, 20, 110, 70)])
    store.save(edited, loaded.fingerprint)
    rows = label.read_text().splitlines()
    assert rows[0] == "0 0.500000 0.400000 0.200000 0.100000"
    assert rows[1] == "1 0.49609375 0.75 0.1 0.3"
    assert rows[2] == "0 0.09375 0.09375 0.15625 0.1041666667"
    again = store.load(items["a.png"])
    assert [b.cls for b in again.annotation.boxes] == [0, 1, 0]
    for got, want in zip(again.annotation.boxes, edited.boxes):
        assert max(abs(got.x1 - want.x1), abs(got.y2 - want.y2)) < 1e-6
    # a second save of what was just loaded writes nothing
    before = label.read_bytes()
    store.save(again.annotation, again.fingerprint)
    assert label.read_bytes() == before


def test_random_boxes_do_not_drift_over_save_load_cycles(folder):
    rng = random.Random(3)
    store, items = store_of(folder)
    loaded = store.load(items["b.png"])
    boxes = []
    for _ in range(50):
        x, y = rng.uniform(0, W - 50), rng.uniform(0, H - 50)
        boxes.append(Box(rng.randrange(2), x, y, x + rng.uniform(1, 50), y + rng.uniform(1, 50)))
    fp = store.save(loaded.annotation.with_boxes(boxes), loaded.fingerprint)
    first = (folder / "b.txt").read_bytes()
    for _ in range(3):
        loaded = store.load(items["b.png"])
        for got, want in zip(loaded.annotation.boxes, boxes):
            assert abs(got.x1 - want.x1) < 1e-6 and abs(got.y2 - want.y2) < 1e-6
        # re-create the boxes as new objects (as an edit would), write them again: same bytes
        fresh = [Box(b.cls, b.x1, b.y1, b.x2, b.y2) for b in loaded.annotation.boxes]
        (folder / "b.txt").write_bytes(b"")  # force a full re-render from the floats
        fp = store.save(loaded.annotation.with_boxes(fresh), fingerprint(folder / "b.txt"))
        assert (folder / "b.txt").read_bytes() == first
    assert fp.exists


# --- conflicts -----------------------------------------------------------------------------------------------
def test_external_change_is_a_conflict(folder):
    store, items = store_of(folder)
    loaded = store.load(items["a.png"])
    (folder / "a.txt").write_bytes(b"1 0.5 0.5 0.5 0.5\n")  # another tool / git checkout
    edited = loaded.annotation.with_boxes(loaded.annotation.boxes[:1])
    with pytest.raises(LabelConflict) as info:
        store.save(edited, loaded.fingerprint)
    assert info.value.path == folder / "a.txt"
    assert info.value.base == loaded.fingerprint and info.value.now == fingerprint(folder / "a.txt")
    assert (folder / "a.txt").read_bytes() == b"1 0.5 0.5 0.5 0.5\n"
    store.save(edited, loaded.fingerprint, force=True)
    assert (folder / "a.txt").read_bytes() == b"0 0.5 0.4 0.2 0.1\n"  # same numbers; their file had no such row


def test_external_create_and_delete_are_conflicts(folder):
    store, items = store_of(folder)
    loaded_b = store.load(items["b.png"])
    assert not loaded_b.fingerprint.exists
    (folder / "b.txt").write_bytes(b"0 0.5 0.5 0.5 0.5\n")
    with pytest.raises(LabelConflict):
        store.save(loaded_b.annotation.with_boxes([Box(1, 1, 1, 9, 9)]), loaded_b.fingerprint)
    loaded_a = store.load(items["a.png"])
    (folder / "a.txt").unlink()
    with pytest.raises(LabelConflict):
        store.save(loaded_a.annotation, loaded_a.fingerprint)
    assert not (folder / "a.txt").exists()


def test_conflict_copy_path_never_overwrites(tmp_path):
    label = tmp_path / "img.txt"
    first = conflict_copy_path(label)
    assert re.fullmatch(r"img\.conflict-\d{8}-\d{6}\.txt", first.name) and first.parent == tmp_path
    first.write_text("x")
    second = conflict_copy_path(label)
    assert second != first and second.name.startswith(first.stem) and second.suffix == ".txt"


def test_keep_both_copies_theirs_and_saves_ours(folder):
    store, items = store_of(folder)
    loaded = store.load(items["a.png"])
    theirs = b"1 0.5 0.5 0.5 0.5\n"
    (folder / "a.txt").write_bytes(theirs)
    ours = loaded.annotation.with_boxes(loaded.annotation.boxes[:1])
    with pytest.raises(LabelConflict):
        store.save(ours, loaded.fingerprint)
    copy, fp = store.keep_both(ours)
    assert copy.read_bytes() == theirs and ".conflict-" in copy.name
    assert (folder / "a.txt").read_bytes() == b"0 0.5 0.4 0.2 0.1\n"  # same numbers; their file had no such row
    assert fp == fingerprint(folder / "a.txt")


# --- empty files ------------------------------------------------------------------------------------------------
def test_empty_over_content_is_refused_unless_allowed(folder):
    store, items = store_of(folder)
    loaded = store.load(items["a.png"])
    before = (folder / "a.txt").read_bytes()
    with pytest.raises(EmptyOverwriteError):
        store.save(loaded.annotation.with_boxes([]), loaded.fingerprint)
    assert (folder / "a.txt").read_bytes() == before
    store.save(loaded.annotation.with_boxes([]), loaded.fingerprint, allow_empty=True)
    assert (folder / "a.txt").read_bytes() == b""


def test_negative_image_gets_an_empty_file_only_when_confirmed(folder):
    store, items = store_of(folder)
    loaded = store.load(items["b.png"])
    fp = store.save(loaded.annotation, loaded.fingerprint)
    assert not (folder / "b.txt").exists() and not fp.exists
    fp = store.save(loaded.annotation, loaded.fingerprint, allow_empty=True)
    assert (folder / "b.txt").read_bytes() == b"" and fp.exists


# --- formats, folders, classes ----------------------------------------------------------------------------------
def test_new_class_writes_classes_txt_and_data_yaml(tmp_path):
    image(tmp_path / "images" / "train" / "a.png")
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "data.yaml").write_text("# my dataset\ntrain: images/train\nval: images/train  # same\n"
                                        "nc: 2\nnames:\n  0: cat\n  1: dog\n# end\ndownload: none\n")
    store, items = store_of(tmp_path)
    ds = store.dataset
    loaded = store.load(items["a.png"])
    assert loaded.label_path == tmp_path / "labels" / "train" / "a.txt"
    ds.classes, new_id = ds.classes.with_name("bird")
    store.save(loaded.annotation.with_boxes([*loaded.annotation.boxes, Box(new_id, 1, 1, 50, 50)]),
               loaded.fingerprint)
    text = (tmp_path / "data.yaml").read_text()
    assert text.startswith("# my dataset\ntrain: images/train\nval: images/train  # same\nnc: 3\n")
    assert "# end\ndownload: none\n" in text
    assert yaml.safe_load(text)["names"] == {0: "cat", 1: "dog", 2: "bird"}
    assert (tmp_path / "labels" / "train" / "a.txt").read_text().splitlines()[1].startswith("2 ")
    assert not (tmp_path / "classes.txt").exists()  # names live in data.yaml here


def test_folder_dataset_new_class_writes_classes_txt(folder):
    store, items = store_of(folder)
    loaded = store.load(items["b.png"])
    store.dataset.classes, new_id = store.dataset.classes.with_name("bird")
    store.save(loaded.annotation.with_boxes([Box(new_id, 1, 1, 9, 9)]), loaded.fingerprint)
    assert (folder / "classes.txt").read_text() == "cat\ndog\nbird\n"
    # a renamed registry is class_ops' business: save does not rewrite it
    store.dataset.classes = ClassNames.of(["kitten", "dog", "bird"])
    loaded = store.load(items["b.png"])
    store.save(loaded.annotation.with_boxes([Box(0, 1, 1, 9, 9)]), loaded.fingerprint)
    assert (folder / "classes.txt").read_text() == "cat\ndog\nbird\n"


def test_voc_save_format_and_label_dir(folder):
    store, items = store_of(folder, save_format="voc")
    assert store.label_path_for(items["a.png"]) == folder / "a.xml"
    loaded = store.load(items["a.png"])  # no xml yet: read from the dataset's YOLO file
    assert loaded.source == folder / "a.txt" and loaded.label_path == folder / "a.xml"
    assert not loaded.fingerprint.exists
    fp = store.save(loaded.annotation, loaded.fingerprint)
    xml = (folder / "a.xml").read_text()
    assert "<name>cat</name>" in xml and "<name>dog</name>" in xml and fp.exists
    again = store.load(items["a.png"])
    assert again.source == folder / "a.xml"
    assert [b.cls for b in again.annotation.boxes] == [0, 1]
    assert store.save(again.annotation, again.fingerprint) == fp  # unchanged: nothing written
    store.label_dir = folder / "out"
    assert store.label_path_for(items["a.png"]) == folder / "out" / "a.xml"
    store.save_format = "yolo"
    assert store.label_path_for(items["a.png"]) == folder / "out" / "a.txt"
    with pytest.raises(ValueError):
        store.save_format = "coco"


def test_unreadable_image_gives_no_annotation(folder):
    (folder / "c.png").write_bytes(b"not an image")
    store, items = store_of(folder)
    loaded = store.load(items["c.png"])
    assert loaded.annotation is None and loaded.problems


def test_write_class_names_keeps_list_form_and_refuses_broken_yaml(tmp_path):
    (tmp_path / "data.yaml").write_text("names: [a, b]  # flow\ntrain: x\nval: x\n")
    written = write_class_names(tmp_path, ClassNames.of(["a", "b", "c"]))
    assert set(written) == {tmp_path / "classes.txt", tmp_path / "data.yaml"}
    data = yaml.safe_load((tmp_path / "data.yaml").read_text())
    assert data == {"names": ["a", "b", "c"], "train": "x", "val": "x"}
    (tmp_path / "data.yaml").write_text("names: [a, b\n")
    problems = ProblemList()
    written = write_class_names(tmp_path, ClassNames.of(["z"]), problems=problems)
    assert written == [tmp_path / "classes.txt"] and problems
    assert (tmp_path / "data.yaml").read_text() == "names: [a, b\n"


def test_label_paths_follow_the_trainer_layout_and_collections(tmp_path):
    image(tmp_path / "images" / "train" / "a.png")
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    store, items = store_of(tmp_path, save_format="createml")
    assert store.label_path_for(items["a.png"]) == tmp_path / "labels" / "train" / "a.json"
    store.label_dir = tmp_path / "out"
    assert store.label_path_for(items["a.png"]) == tmp_path / "out" / "images" / "train" / "a.json"
    # a COCO dataset is saved per image where the trainer looks (last /images/ -> /labels/)
    (tmp_path / "coco.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "images/train/a.png", "width": W, "height": H}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40]}],
        "categories": [{"id": 1, "name": "cat"}]}))
    ds = discover(tmp_path / "coco.json")
    store = LabelStore(ds)
    (item,) = ds.items
    assert store.label_path_for(item) == tmp_path / "labels" / "train" / "a.txt"
    loaded = store.load(item)  # the YOLO file exists now: it is what the editor shows and saves
    assert loaded.source == loaded.label_path and loaded.annotation.boxes[0].cls == 0
    (tmp_path / "labels" / "train" / "a.txt").unlink()
    loaded = store.load(item)  # no per-image file: read from the COCO file
    assert loaded.source == tmp_path / "coco.json" and not loaded.fingerprint.exists
    assert [(b.x1, b.y1, b.x2, b.y2) for b in loaded.annotation.boxes] == [(10, 20, 40, 60)]
    store.save(loaded.annotation, loaded.fingerprint)
    assert (tmp_path / "labels" / "train" / "a.txt").read_text() == "0 0.0390625 0.0833333333 0.046875 0.0833333333\n"
    assert (tmp_path / "classes.txt").read_text() == "cat\n"  # the YOLO files need their class names
