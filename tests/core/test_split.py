"""Split: deterministic, stratified, and written in a form the trainer (Ultralytics) resolves to our files."""

import dataclasses
import os
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from labeltrain.core.dataset import discover
from labeltrain.core.datayaml import load_data_yaml
from labeltrain.core.model import ClassNames
from labeltrain.core.problems import ProblemList
from labeltrain.core.split import list_line, make_split, split_counts, write_split


def touch(path: Path, data: bytes = b"\xff\xd8\xff") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_dataset(root: Path, counts: dict[str, int], *, layout: str = "ultralytics") -> Path:
    """Images with one class each ('a', 'b') or none ('-'), natural-number names, in `layout`."""
    i = 0
    for kind, n in counts.items():
        for _ in range(n):
            i += 1
            if layout == "ultralytics":
                image = root / "images" / f"img{i}.jpg"
                label = root / "labels" / f"img{i}.txt"
            else:
                image = root / f"img{i}.jpg"
                label = root / f"img{i}.txt"
            touch(image)
            if kind != "-":
                touch(label, f"{'ab'.index(kind)} 0.5 0.5 0.1 0.1\n".encode())
            elif i % 2:
                touch(label, b"")  # empty label file = background too
    (root / "classes.txt").write_text("a\nb\n")
    return root


def test_split_counts():
    assert split_counts(1, 0.2, 0.0) == (0, 0)
    assert split_counts(2, 0.01, 0.0) == (1, 0)
    assert split_counts(3, 0.01, 0.01) == (1, 1)
    assert split_counts(100, 0.2, 0.1) == (20, 10)
    assert split_counts(2, 0.5, 0.4) == (1, 0)  # one training image stays


def test_deterministic_and_independent_of_listing_order(tmp_path):
    ds = discover(make_dataset(tmp_path, {"a": 30, "b": 10, "-": 10}))
    first = make_split(ds, 0.2, 0.1, seed=7)
    assert first == make_split(ds, 0.2, 0.1, seed=7)
    shuffled = list(ds.items)
    random.Random(1).shuffle(shuffled)
    assert make_split(dataclasses.replace(ds, items=shuffled), 0.2, 0.1, seed=7) == first
    assert make_split(ds, 0.2, 0.1, seed=8) != first
    every = sorted(p for paths in first.values() for p in paths)
    assert every == sorted(it.image for it in ds.items)  # a partition
    assert len(first["val"]) == 10 and len(first["test"]) == 5


def test_stratified_by_class_presence(tmp_path):
    ds = discover(make_dataset(tmp_path, {"a": 80, "b": 20, "-": 50}))
    splits = make_split(ds, 0.2, seed=0)
    kind = {it.image: ("-" if it.label is None or not Path(it.label).read_text().strip()
                       else "ab"[int(Path(it.label).read_text()[0])]) for it in ds.items}
    val_kinds = [kind[p] for p in splits["val"]]
    assert len(splits["val"]) == 30
    assert (val_kinds.count("a"), val_kinds.count("b"), val_kinds.count("-")) == (16, 4, 10)
    assert splits["test"] == []


def test_rare_class_stratum_and_tiny_datasets(tmp_path):
    ds = discover(make_dataset(tmp_path / "two", {"a": 2}))
    splits = make_split(ds, 0.01)
    assert len(splits["val"]) == 1 and len(splits["train"]) == 1
    ds = discover(make_dataset(tmp_path / "one", {"a": 1}))
    assert make_split(ds, 0.5) == {"train": [ds.items[0].image], "val": [], "test": []}


def test_bad_fractions(tmp_path):
    ds = discover(make_dataset(tmp_path, {"a": 3}))
    with pytest.raises(ValueError):
        make_split(ds, 0.6, 0.5)


def _ultralytics_images(list_path: str) -> list[str]:
    """What the trainer lists for a split (its own get_img_files), without building a dataset."""
    from ultralytics.data.base import BaseDataset

    return BaseDataset.get_img_files(SimpleNamespace(prefix="", fraction=1.0), list_path)


def test_written_split_is_what_ultralytics_reads(tmp_path):
    from ultralytics.data.utils import check_det_dataset, img2label_paths

    assert os.environ.get("YOLO_OFFLINE") == "1"
    root = make_dataset(tmp_path / "data set ü", {"a": 12, "b": 6, "-": 4})
    ds = discover(root)
    splits = make_split(ds, 0.25, 0.1, seed=3)
    problems = ProblemList()
    yaml_path = write_split(ds, splits, problems=problems)
    assert yaml_path == root / "data.yaml"
    assert not [p for p in problems if p.rule == "split.label_location"]
    for line in (root / "train.txt").read_text().splitlines():
        assert line.startswith("./images/")

    data = check_det_dataset(str(yaml_path), autodownload=False)
    assert data["names"] == {0: "a", 1: "b"} and data["nc"] == 2
    labels = {it.image: it.label for it in ds.items}
    for key in ("train", "val", "test"):
        assert Path(data[key]) == root / f"{key}.txt"
        listed = _ultralytics_images(data[key])
        assert sorted(listed) == sorted(splits[key])
        assert all(Path(p).is_file() for p in listed)
        for image, label in zip(listed, img2label_paths(listed)):
            assert labels[image] in (label, None)
            assert (labels[image] is None) == (not Path(label).exists())

    assert load_data_yaml(yaml_path).ok
    again = discover(root)  # reopening the folder shows the splits
    assert {it.image: it.split for it in again.items} == {p: k for k, ps in splits.items() for p in ps}


def test_labels_beside_images_in_images_folder_warns(tmp_path):
    root = tmp_path / "proj"
    for i in range(4):
        touch(root / "images" / f"x{i}.jpg")
        touch(root / "images" / f"x{i}.txt", b"0 0.5 0.5 0.1 0.1\n")
    ds = discover(root)
    assert ds.resolved_label_mode == "beside"
    problems = ProblemList()
    write_split(ds, make_split(ds, 0.25), problems=problems)
    warned = [p for p in problems if p.rule == "split.label_location"]
    assert len(warned) == 1 and "4 of 4 label files" in warned[0].message
    assert warned[0] in ds.problems


def test_out_dir_outside_dataset_uses_absolute_lines_and_keeps_user_files(tmp_path):
    root = make_dataset(tmp_path / "ds", {"a": 5}, layout="folder")
    (root / "data.yaml").write_text("# the user's own\ntrain: x\nval: y\nnames: [q]\n")
    (root / "train.txt").write_text("mine\n")
    ds = discover(root)
    splits = make_split(ds, 0.2)
    out = tmp_path / "out"
    yaml_path = write_split(ds, splits, out)
    assert yaml_path == out / "data.yaml"
    assert (out / "val.txt").read_text().splitlines() == splits["val"]  # absolute: not below out/
    assert (root / "data.yaml").read_text().startswith("# the user's own")
    # writing into the root backs the user's files up first
    write_split(ds, splits)
    assert (root / "data.yaml.bak").read_text().startswith("# the user's own")
    assert (root / "train.txt.bak").read_text() == "mine\n"
    write_split(ds, splits)  # our own files are simply replaced
    assert not (root / "data.yaml.bak1").exists()
    assert list_line(str(root / "a b" / "c.jpg"), root) == "./a b/c.jpg"


def test_no_val_images_validates_on_train(tmp_path):
    from ultralytics.data.utils import check_det_dataset

    root = make_dataset(tmp_path, {"a": 3})
    ds = discover(root)
    problems = ProblemList()
    yaml_path = write_split(ds, make_split(ds, 0.0), problems=problems)
    assert "split.no_val" in {p.rule for p in problems}
    data = check_det_dataset(str(yaml_path), autodownload=False)
    assert data["val"] == data["train"]


def test_non_yolo_labels_warn_and_classes_fallback(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "a.xml", b"<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                              b"<xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>")
    touch(tmp_path / "b.jpg")
    ds = discover(tmp_path)
    assert ds.label_format == "voc"
    splits = make_split(ds, 0.5)
    problems = ProblemList()
    yaml_path = write_split(ds, splits, problems=problems)
    assert "split.label_format" in {p.rule for p in problems}
    assert load_data_yaml(yaml_path).names == ds.classes or len(load_data_yaml(yaml_path).names) >= 1
    ds2 = discover(make_dataset(tmp_path / "noclasses", {"b": 2}))
    ds2.classes = ClassNames()
    write_split(ds2, make_split(ds2, 0.5))
    assert list(load_data_yaml(ds2.root / "data.yaml").names) == ["class0", "class1"]
