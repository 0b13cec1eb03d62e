"""Dataset discovery on real files: every layout, label pairing, natural order, problems instead of exceptions."""

import builtins
import io
import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from labeltrain.core import formats
from labeltrain.core.dataset import (
    Dataset,
    ImageItem,
    discover,
    img2label_path,
    iter_image_batches,
    load_annotation,
    natural_key,
    natural_sorted,
)
from labeltrain.core.model import Annotation, Box, ClassNames

JPEG_STUB = b"\xff\xd8\xff\xe0 not really a jpeg"


def touch(path: Path, data: bytes = JPEG_STUB) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def real_image(path: Path, size=(64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 120, 30)).save(path)
    return path


def names_of(ds: Dataset) -> list[str]:
    return [os.path.relpath(it.image, ds.root).replace(os.sep, "/") for it in ds.items]


def rules(ds: Dataset) -> set[str]:
    return {p.rule for p in ds.problems}


# --- natural order -------------------------------------------------------------------------------------------
def test_natural_key_orders_numbers_by_value():
    names = ["img10.jpg", "img2.jpg", "IMG1.jpg", "img1.png", "a.jpg", "img02.jpg"]
    assert sorted(names, key=natural_key) == ["a.jpg", "IMG1.jpg", "img1.png", "img02.jpg", "img2.jpg",
                                              "img10.jpg"]
    assert natural_sorted(names) == sorted(names, key=natural_key)


def test_natural_sorted_fast_path_matches_key():
    names = [f"IMG_{i:05d}.JPG" for i in range(500)] + [f"img_{i:05d}.jpg" for i in range(500)]
    random.Random(3).shuffle(names)
    assert natural_sorted(names) == sorted(names, key=natural_key)


def test_natural_sorted_numbers_of_varying_length():
    names = [f"img{i}.jpg" for i in range(300)] + ["img007.jpg", "img0.jpg", "img00.jpg"]
    random.Random(5).shuffle(names)
    assert natural_sorted(names) == sorted(names, key=natural_key)
    two = [f"v{i % 7}_f{i}.png" for i in range(200)]
    random.Random(6).shuffle(two)
    assert natural_sorted(two) == sorted(two, key=natural_key)


@given(st.lists(st.from_regex(r"(ab|AB)?[0-9]{1,3}(x[0-9]{1,2})?\.jpg", fullmatch=True), max_size=30))
def test_natural_sorted_same_text_names(names):
    assert natural_sorted(names) == sorted(names, key=natural_key)


@given(st.lists(st.text(alphabet="aAbB019._-é", min_size=1, max_size=8), max_size=30))
def test_natural_sorted_is_sorted_by_natural_key(names):
    assert natural_sorted(names) == sorted(names, key=natural_key)


@given(st.lists(st.from_regex(r"[a-cA-C]{0,2}[0-9]{3}[a-c]?\.jpg", fullmatch=True), max_size=30))
def test_natural_sorted_same_layout_names(names):
    assert natural_sorted(names) == sorted(names, key=natural_key)


# --- folder layout -------------------------------------------------------------------------------------------
def test_folder_labels_beside_images_natural_order_and_classes(tmp_path):
    for n in (1, 2, 10, 11):
        touch(tmp_path / f"img{n}.jpg")
        touch(tmp_path / f"img{n}.txt", b"0 0.5 0.5 0.2 0.2\n")
    touch(tmp_path / "img3.PNG")  # upper-case extension, no label yet
    touch(tmp_path / "notes.txt", b"hello")
    touch(tmp_path / "readme.md", b"x")
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    ds = discover(tmp_path)
    assert ds.layout == "folder" and ds.label_format == "yolo" and ds.resolved_label_mode == "beside"
    assert names_of(ds) == ["img1.jpg", "img2.jpg", "img3.PNG", "img10.jpg", "img11.jpg"]
    assert [it.label is not None for it in ds.items] == [True, True, False, True, True]
    assert ds.items[0].label == str(tmp_path / "img1.txt")
    assert ds.classes == ClassNames(("cat", "dog"))
    assert ds.classes_file == tmp_path / "classes.txt"
    assert ds.label_path(tmp_path / "img3.PNG") == tmp_path / "img3.txt"
    assert not ds.problems


def test_folder_recursive_skips_hidden_and_special_folders(tmp_path):
    touch(tmp_path / "b" / "x1.jpg")
    touch(tmp_path / "a" / "deep" / "x2.jpg")
    touch(tmp_path / "a" / "x3.jpg")
    touch(tmp_path / ".hidden" / "h.jpg")
    touch(tmp_path / "__pycache__" / "p.jpg")
    touch(tmp_path / ".dot.jpg")
    (tmp_path / "folder.jpg").mkdir()  # a folder named like an image is not an image
    ds = discover(tmp_path)
    assert names_of(ds) == ["a/x3.jpg", "a/deep/x2.jpg", "b/x1.jpg"]


def test_training_run_folders_inside_the_dataset_are_not_part_of_it(tmp_path):
    """A dataset folder's runs/ holds Ultralytics' plots (train_batch0.jpg, labels.jpg): never dataset images."""
    touch(tmp_path / "images" / "a.jpg")
    touch(tmp_path / "labels" / "a.txt", b"0 0.5 0.5 0.1 0.1\n")
    for run, marker in (("train", "args.yaml"), ("train2", "events.jsonl")):
        touch(tmp_path / "runs" / run / marker, b"x")
        touch(tmp_path / "runs" / run / "train_batch0.jpg")
        touch(tmp_path / "runs" / run / "data" / "val.txt", b"")
    touch(tmp_path / "runs" / "detect" / "train" / "args.yaml", b"x")  # Ultralytics' own layout
    touch(tmp_path / "runs" / "detect" / "train" / "labels.jpg")
    touch(tmp_path / "shots" / "args.jpg")  # a folder without a marker is searched as usual
    ds = discover(tmp_path)
    assert names_of(ds) == ["images/a.jpg", "shots/args.jpg"]
    assert ds.items[0].label == str(tmp_path / "labels" / "a.txt")


def test_folder_labels_in_root_labels_folder(tmp_path):
    for sub in ("s1", "s2"):
        touch(tmp_path / sub / "p.jpg")
        touch(tmp_path / "labels" / sub / "p.txt", b"0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "labels" / "classes.txt").write_text("thing\n")
    ds = discover(tmp_path)
    assert ds.resolved_label_mode == "label_dir" and ds.label_dir == tmp_path / "labels"
    assert names_of(ds) == ["s1/p.jpg", "s2/p.jpg"]
    assert [it.label for it in ds.items] == [str(tmp_path / "labels" / s / "p.txt") for s in ("s1", "s2")]
    assert ds.classes == ClassNames(("thing",))
    assert ds.label_path(str(tmp_path / "s1" / "new.jpg")) == tmp_path / "labels" / "s1" / "new.txt"


def test_folder_images_dir_uses_trainer_mapping(tmp_path):
    touch(tmp_path / "images" / "a.jpg")
    touch(tmp_path / "images" / "b.jpg")
    touch(tmp_path / "labels" / "a.txt", b"0 0.5 0.5 0.1 0.1\n")
    ds = discover(tmp_path)
    assert ds.layout == "folder" and ds.resolved_label_mode == "images_to_labels"
    assert ds.items[0].label == str(tmp_path / "labels" / "a.txt") and ds.items[1].label is None
    assert ds.label_path(ds.items[1].image) == tmp_path / "labels" / "b.txt"
    assert str(ds.label_path(ds.items[1].image)) == img2label_path(ds.items[1].image)


def test_opening_the_images_folder_finds_labels_beside_it(tmp_path):
    touch(tmp_path / "images" / "a.jpg")
    touch(tmp_path / "images" / "b.jpg")
    touch(tmp_path / "labels" / "a.txt", b"0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "labels" / "classes.txt").write_text("one\n")
    ds = discover(tmp_path / "images")
    assert ds.root == tmp_path / "images" and ds.resolved_label_mode == "images_to_labels"
    assert [it.label for it in ds.items] == [str(tmp_path / "labels" / "a.txt"), None]
    assert ds.classes == ClassNames(("one",))
    make_ultralytics(tmp_path / "proj")
    ds = discover(tmp_path / "proj" / "images")
    assert ds.layout == "ultralytics" and ds.root == tmp_path / "proj" and len(ds.items) == 9


def test_explicit_label_dir(tmp_path):
    images, labels = tmp_path / "imgs", tmp_path / "elsewhere"
    touch(images / "sub" / "q.jpg")
    touch(labels / "sub" / "q.xml", b"<annotation><object><name>x</name></object></annotation>")
    ds = discover(images, label_dir=labels)
    assert ds.label_format == "voc" and ds.label_dir == labels
    assert ds.items[0].label == str(labels / "sub" / "q.xml")
    assert ds.label_path(ds.items[0].image) == labels / "sub" / "q.xml"


def test_no_labels_yet_defaults_to_yolo_beside(tmp_path):
    touch(tmp_path / "x.jpg")
    ds = discover(tmp_path)
    assert ds.label_format == "yolo" and ds.resolved_label_mode == "beside"
    assert ds.items == [ImageItem(str(tmp_path / "x.jpg"), None, None)]


@pytest.mark.parametrize("fmt", ["voc", "labelme", "createml", "yolo"])
def test_label_format_detected_from_files(tmp_path, fmt):
    image = real_image(tmp_path / "photo.jpg")
    classes = ClassNames(("cat",))
    ann = Annotation(image, 64, 48, (Box(0, 4, 5, 30, 40),))
    target = tmp_path / ("photo" + formats.get(fmt).suffix)
    formats.get(fmt).write_file(target, ann, classes, allow_clear=True)
    if fmt == "yolo":
        (tmp_path / "classes.txt").write_text("cat\n")
    ds = discover(tmp_path)
    assert ds.label_format == fmt
    assert ds.items[0].label == str(target)
    result = load_annotation(ds, ds.items[0])
    assert not result.problems.errors(), result.problems
    (box,) = result.annotations[0].boxes
    assert ds.classes.name(box.cls) == "cat"
    assert (round(box.x1), round(box.y1), round(box.x2), round(box.y2)) == (4, 5, 30, 40)


def test_forced_label_format(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "a.txt", b"0 0.5 0.5 0.1 0.1\n")
    ds = discover(tmp_path, label_format="voc")
    assert ds.label_format == "voc" and ds.items[0].label is None
    assert ds.label_path(ds.items[0].image) == tmp_path / "a.xml"


def test_same_stem_flag(tmp_path):
    touch(tmp_path / "dup.jpg")
    touch(tmp_path / "dup.png")
    touch(tmp_path / "other" / "dup.jpg")  # another folder: its own label file, fine
    ds = discover(tmp_path)
    flagged = [p for p in ds.problems if p.rule == "dataset.same_stem"]
    assert len(flagged) == 1
    assert flagged[0].severity == "warning" and "dup.jpg" in flagged[0].message and "dup.png" in flagged[0].message


def test_unicode_names(tmp_path):
    names = ["фото_2.jpg", "фото_10.jpg", "写真1.png", "café ünïcode.jpeg", "emoji🙂.jpg"]
    for n in names:
        touch(tmp_path / "données" / n)
        stem = n.rsplit(".", 1)[0]
        touch(tmp_path / "données" / f"{stem}.txt", b"0 0.5 0.5 0.1 0.1\n")
    ds = discover(tmp_path)
    assert sorted(names_of(ds)) == sorted(f"données/{n}" for n in names)
    assert names_of(ds).index("données/фото_2.jpg") < names_of(ds).index("données/фото_10.jpg")
    assert all(it.label is not None and Path(it.label).is_file() for it in ds.items)


def test_unicode_image_reads_through_load_annotation(tmp_path):
    image = real_image(tmp_path / "снимок 1.jpg", (100, 50))
    (tmp_path / "снимок 1.txt").write_text("0 0.5 0.5 0.2 0.4\n")
    ds = discover(tmp_path)
    res = load_annotation(ds, ds.items[0])
    assert res.annotations[0].image_path == image
    (box,) = res.annotations[0].boxes
    assert (box.x1, box.y1, box.x2, box.y2) == pytest.approx((40, 15, 60, 35))


def test_labels_found_in_two_places_warns(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "b.jpg")
    touch(tmp_path / "a.txt", b"0 0.5 0.5 0.1 0.1\n")
    touch(tmp_path / "b.txt", b"0 0.5 0.5 0.1 0.1\n")
    touch(tmp_path / "labels" / "a.txt", b"0 0.5 0.5 0.1 0.1\n")
    ds = discover(tmp_path)
    assert ds.resolved_label_mode == "beside"
    assert "dataset.labels_in_two_places" in rules(ds)


def test_listing_opens_no_image_or_label_file(tmp_path, monkeypatch):
    for i in range(20):
        touch(tmp_path / "d" / f"{i}.jpg")
        touch(tmp_path / "d" / f"{i}.txt", b"0 0.5 0.5 0.1 0.1\n")
    real_open = io.open

    def guarded_open(file, *args, **kwargs):
        name = os.fspath(file) if isinstance(file, str | os.PathLike) else ""
        if name.endswith((".jpg", ".txt")) and not name.endswith("classes.txt"):
            raise AssertionError(f"discover opened {name}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(Image, "open", lambda *a, **k: (_ for _ in ()).throw(AssertionError("decoded")))
    ds = discover(tmp_path)
    assert len(ds.items) == 20 and all(it.label for it in ds.items)


# --- Ultralytics layout ----------------------------------------------------------------------------------------
def make_ultralytics(root: Path, splits=("train", "val", "test"), n=3) -> Path:
    for split in splits:
        for i in range(n):
            touch(root / "images" / split / f"{split}{i}.jpg")
            if i:
                touch(root / "labels" / split / f"{split}{i}.txt", b"1 0.5 0.5 0.1 0.1\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nval: images/val\nnames: [a, b]\n")
    return root


def test_ultralytics_layout(tmp_path):
    root = make_ultralytics(tmp_path)
    touch(root / "runs" / "val_batch0.jpg")  # not a training image
    ds = discover(root)
    assert ds.layout == "ultralytics" and ds.label_format == "yolo"
    assert ds.data_yaml == root / "data.yaml"
    assert ds.classes == ClassNames(("a", "b"))
    assert ds.splits() == {"train": 3, "val": 3, "test": 3}
    assert names_of(ds)[:3] == ["images/train/train0.jpg", "images/train/train1.jpg", "images/train/train2.jpg"]
    first, second = ds.items[0], ds.items[1]
    assert first.label is None and second.label == str(root / "labels" / "train" / "train1.txt")
    assert ds.label_path(first.image) == root / "labels" / "train" / "train0.txt"


def test_ultralytics_layout_with_labels_beside_images(tmp_path):
    for split in ("train", "val"):
        touch(tmp_path / "images" / split / "p.jpg")
        touch(tmp_path / "images" / split / "p.txt", b"0 0.5 0.5 0.1 0.1\n")
    ds = discover(tmp_path)
    assert ds.layout == "ultralytics" and ds.resolved_label_mode == "beside"
    assert all(it.label == it.image[:-4] + ".txt" for it in ds.items)
    assert "dataset.labels_beside_images" in rules(ds)


def test_roboflow_layout_split_folders(tmp_path):
    for split in ("train", "valid", "test"):
        touch(tmp_path / split / "images" / "x.jpg")
        touch(tmp_path / split / "labels" / "x.txt", b"0 0.5 0.5 0.1 0.1\n")
    ds = discover(tmp_path)
    assert ds.layout == "ultralytics"
    assert {it.split for it in ds.items} == {"train", "val", "test"}
    assert all(it.label for it in ds.items)


# --- data.yaml -----------------------------------------------------------------------------------------------
def test_datayaml_with_lists_and_folders(tmp_path):
    root = tmp_path / "ds"
    for i in (1, 2, 10):
        touch(root / "images" / "all" / f"im{i}.jpg")
        touch(root / "labels" / "all" / f"im{i}.txt", b"0 0.5 0.5 0.1 0.1\n")
    touch(root / "images" / "val" / "v.jpg")
    lists = root / "lists"
    lists.mkdir()
    # './' is relative to the list's folder (Ultralytics' rule); absolute paths as they are
    (lists / "train.txt").write_text(f"./../images/all/im10.jpg\n{root / 'images' / 'all' / 'im2.jpg'}\n"
                                     "./../images/all/missing.jpg\n\n")
    (root / "data.yaml").write_text("train: lists/train.txt\nval: images/val\ntest: [lists/test.txt]\n"
                                    "names: {0: only}\n")
    (lists / "test.txt").write_text("images/all/im1.jpg\n")  # relative without './': warned
    ds = discover(root / "data.yaml")
    assert ds.layout == "datayaml" and ds.data_yaml == root / "data.yaml" and ds.root == root
    assert ds.classes == ClassNames(("only",))
    assert [(n, it.split) for n, it in zip(names_of(ds), ds.items)] == [
        ("images/all/im2.jpg", "train"), ("images/all/im10.jpg", "train"),
        ("images/val/v.jpg", "val"), ("images/all/im1.jpg", "test")]
    assert ds.items[0].label == str(root / "labels" / "all" / "im2.txt")
    assert ds.items[2].label is None
    missing = [p for p in ds.problems if p.rule == "dataset.missing_image"]
    assert len(missing) == 1 and missing[0].line == 3 and missing[0].file == lists / "train.txt"
    assert "dataset.list_relative" in rules(ds)


def test_datayaml_split_overlap(tmp_path):
    touch(tmp_path / "images" / "a.jpg")
    (tmp_path / "t.txt").write_text("./images/a.jpg\n")
    (tmp_path / "data.yaml").write_text("train: t.txt\nval: t.txt\nnames: [x]\n")
    ds = discover(tmp_path / "data.yaml")
    assert len(ds.items) == 1 and ds.items[0].split == "train"
    assert "dataset.split_overlap" in rules(ds)


def test_broken_datayaml_is_reported(tmp_path):
    (tmp_path / "data.yaml").write_text("train: [a\n")
    ds = discover(tmp_path / "data.yaml")
    assert not ds.items
    syntax = [p for p in ds.problems if p.rule == "datayaml.syntax"]
    assert syntax and syntax[0].line is not None


def test_folder_with_split_yaml_gets_splits(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "b.jpg")
    (tmp_path / "train.txt").write_text("./a.jpg\n")
    (tmp_path / "val.txt").write_text("./b.jpg\n")
    (tmp_path / "data.yaml").write_text("train: train.txt\nval: val.txt\nnames: [k]\n")
    ds = discover(tmp_path)
    assert ds.layout == "folder" and ds.data_yaml == tmp_path / "data.yaml"
    assert [it.split for it in ds.items] == ["train", "val"]
    assert ds.classes == ClassNames(("k",))


# --- COCO ------------------------------------------------------------------------------------------------------
def test_coco_json(tmp_path):
    images = tmp_path / "images"
    real_image(images / "b10.jpg", (40, 30))
    real_image(images / "b2.jpg", (40, 30))
    doc = {"images": [{"id": 1, "file_name": "b10.jpg", "width": 40, "height": 30},
                      {"id": 2, "file_name": "b2.jpg", "width": 40, "height": 30}],
           "annotations": [{"id": 5, "image_id": 1, "category_id": 7, "bbox": [1, 2, 10, 20], "area": 200,
                            "iscrowd": 0}],
           "categories": [{"id": 7, "name": "seven"}, {"id": 3, "name": "three"}]}
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(doc))
    ds = discover(path)
    assert ds.layout == "coco" and ds.label_format == "coco" and ds.collection_file == path
    assert ds.image_root == images
    assert names_of(ds) == ["b2.jpg", "b10.jpg"]
    assert all(it.label == str(path) for it in ds.items)
    res = load_annotation(ds, ds.items[1])
    (box,) = res.annotations[0].boxes
    assert ds.classes.name(box.cls) == "seven"
    assert (box.x1, box.y1, box.x2, box.y2) == (1, 2, 11, 22)
    assert load_annotation(ds, ds.items[0]).annotations[0].boxes == ()
    assert ds.label_path(ds.items[0].image) == path


def test_coco_json_broken(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"images": [')
    ds = discover(path)
    assert ds.layout == "coco" and not ds.items and ds.problems.errors()
    path.write_text('{"shapes": []}')
    assert "dataset.format" in rules(discover(path))


def test_createml_collection(tmp_path):
    real_image(tmp_path / "one.jpg", (40, 30))
    path = tmp_path / "all.json"
    path.write_text(json.dumps([{"image": "one.jpg", "annotations": [
        {"label": "dog", "coordinates": {"x": 20, "y": 15, "width": 10, "height": 10}}]}]))
    ds = discover(path)
    assert ds.layout == "collection" and ds.label_format == "createml"
    (box,) = load_annotation(ds, ds.items[0]).annotations[0].boxes
    assert ds.classes.name(box.cls) == "dog" and (box.x1, box.y1) == (15, 10)


# --- bad input, streaming, callbacks ---------------------------------------------------------------------------
def test_missing_path_not_a_folder_and_empty(tmp_path):
    assert rules(discover(tmp_path / "nope")) == {"dataset.missing"}
    touch(tmp_path / "file.bin", b"x")
    assert rules(discover(tmp_path / "file.bin")) == {"dataset.not_folder"}
    (tmp_path / "empty").mkdir()
    ds = discover(tmp_path / "empty")
    assert ds.items == [] and rules(ds) == {"dataset.empty"}


def test_symlink_loop_terminates(tmp_path):
    touch(tmp_path / "a" / "x.jpg")
    try:
        os.symlink(tmp_path, tmp_path / "a" / "loop")
    except OSError:
        pytest.skip("no symlinks here")
    ds = discover(tmp_path)
    assert names_of(ds) == ["a/x.jpg"]


def test_iter_image_batches(tmp_path):
    for i in range(25):
        touch(tmp_path / "one" / f"f{i}.jpg")
    for i in range(3):
        touch(tmp_path / "two" / f"g{i}.png")
    batches = list(iter_image_batches(tmp_path, batch=10))
    flat = [p for b in batches for p in b]
    assert [len(b) for b in batches] == [10, 10, 8]
    assert flat == [it.image for it in discover(tmp_path).items]


def test_progress_and_cancel(tmp_path):
    for d in range(5):
        for i in range(300):
            touch(tmp_path / f"d{d}" / f"{i}.jpg", b"")
    seen = []
    ds = discover(tmp_path, progress=seen.append)
    assert seen and seen[-1] == 1500 and seen == sorted(seen)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    ds = discover(tmp_path, cancelled=cancelled)
    assert len(ds.items) < 1500 and "dataset.cancelled" in rules(ds)
