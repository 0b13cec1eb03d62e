"""Class registry operations rewriting real label files: ids, names, backups, unknown ids, bad files, cancel."""

import json
import os
from pathlib import Path

import pytest
import yaml
from PIL import Image

from labeltrain.core.class_ops import (
    add_class,
    apply_rewrite,
    delete_class,
    interrupted_rewrites,
    merge_classes,
    plan_rewrite,
    remap_annotation,
    rename_class,
    reorder_classes,
    restore_backup,
)
from labeltrain.core.dataset import discover
from labeltrain.core.model import Annotation, Box, ClassNames

NAMES = ClassNames.of(["cat", "dog", "bird"])
A_TXT = b"0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.05 0.05\n  2\t0.3 0.3 0.1 0.1 \n7 0.9 0.9 0.1 0.1\n"
B_TXT = b"0 0.25 0.25 0.1 0.1\r\n0 0.5 0.5 0.2 0.2\r\n"
C_TXT = b"2 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n"  # polygon row


def image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48)).save(path)


@pytest.fixture
def yolo(tmp_path):
    for name, text in (("a", A_TXT), ("b", B_TXT), ("c", C_TXT)):
        image(tmp_path / f"{name}.png")
        (tmp_path / f"{name}.txt").write_bytes(text)
    (tmp_path / "classes.txt").write_text("cat\ndog\nbird\n")
    return tmp_path


def run(root, change_fn, *args, **kw):
    ds = discover(root, **kw)
    assert ds.classes == NAMES
    change = change_fn(ds.classes, *args)
    plan = plan_rewrite(ds, change)
    report = apply_rewrite(plan)
    return ds, plan, report


def backup_of(report, name: str) -> bytes:
    return (report.backup_dir / name).read_bytes()


def test_merge_rewrites_ids_and_backs_up(yolo):
    ds, plan, report = run(yolo, merge_classes, "dog", "cat")
    assert sorted(p.path.name for p in plan.files) == ["a.txt", "c.txt"]   # b.txt has only cats
    assert (yolo / "a.txt").read_bytes() == (b"0 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.05 0.05\n  1\t0.3 0.3 0.1 0.1 \n"
                                             b"7 0.9 0.9 0.1 0.1\n")
    assert (yolo / "b.txt").read_bytes() == B_TXT
    assert (yolo / "c.txt").read_bytes() == b"1 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n"
    assert (yolo / "classes.txt").read_text() == "cat\nbird\n"
    assert ds.classes.names == ("cat", "bird")
    # backups hold the old contents, below .labeltrain/backups/<timestamp>/
    assert report.backup_dir.parent == yolo / ".labeltrain" / "backups"
    assert backup_of(report, "a.txt") == A_TXT and backup_of(report, "c.txt") == C_TXT
    assert backup_of(report, "classes.txt") == b"cat\ndog\nbird\n"
    assert not (report.backup_dir / "b.txt").exists()
    # the unknown id 7 is kept and reported (in the plan and in the report)
    for problems in (plan.problems, report.problems):
        (unknown,) = [p for p in problems if p.rule == "classes.unknown_id"]
        assert unknown.file == yolo / "a.txt" and unknown.line == 4
    assert json.loads((report.backup_dir / "manifest.json").read_text())["status"] == "done"
    assert interrupted_rewrites(yolo) == []


def test_delete_removes_boxes_and_shifts_ids(yolo):
    ds, plan, report = run(yolo, delete_class, 1)
    assert (yolo / "a.txt").read_bytes() == b"0 0.5 0.5 0.2 0.2\n  1\t0.3 0.3 0.1 0.1 \n7 0.9 0.9 0.1 0.1\n"
    assert (yolo / "c.txt").read_bytes() == b"1 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n"
    assert (yolo / "classes.txt").read_text() == "cat\nbird\n"
    assert sorted(p.name for p in report.changed) == ["a.txt", "c.txt"]


def test_reorder_is_a_permutation_of_ids(yolo):
    ds, plan, report = run(yolo, reorder_classes, [2, 0, 1])   # bird, cat, dog
    assert (yolo / "classes.txt").read_text() == "bird\ncat\ndog\n"
    assert (yolo / "a.txt").read_bytes() == (b"1 0.5 0.5 0.2 0.2\n2 0.1 0.1 0.05 0.05\n  0\t0.3 0.3 0.1 0.1 \n"
                                             b"7 0.9 0.9 0.1 0.1\n")
    assert (yolo / "b.txt").read_bytes() == b"1 0.25 0.25 0.1 0.1\r\n1 0.5 0.5 0.2 0.2\r\n"
    assert (yolo / "c.txt").read_bytes() == b"0 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n"
    # restoring the backup undoes it
    restore_backup(report.backup_dir)
    assert (yolo / "a.txt").read_bytes() == A_TXT and (yolo / "classes.txt").read_text() == "cat\ndog\nbird\n"


def test_rename_and_add_touch_no_yolo_file(yolo):
    mtimes = {p.name: p.stat().st_mtime_ns for p in yolo.glob("[abc].txt")}
    ds, plan, report = run(yolo, rename_class, "dog", "puppy")
    assert plan.files == [] and report.changed == []
    assert (yolo / "classes.txt").read_text() == "cat\npuppy\nbird\n"
    assert backup_of(report, "classes.txt") == b"cat\ndog\nbird\n"
    change = add_class(ds.classes, "fish")
    report = apply_rewrite(plan_rewrite(ds, change))
    assert (yolo / "classes.txt").read_text() == "cat\npuppy\nbird\nfish\n"
    assert {p.name: p.stat().st_mtime_ns for p in yolo.glob("[abc].txt")} == mtimes
    assert (yolo / "a.txt").read_bytes() == A_TXT


def test_data_yaml_names_follow(tmp_path):
    image(tmp_path / "images" / "train" / "a.png")
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_bytes(b"1 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images/train  # training\nval: images/train\n"
                                        "names:\n- cat\n- dog\n- bird\n")
    ds, plan, report = run(tmp_path, merge_classes, "bird", "dog")
    assert (tmp_path / "labels" / "train" / "a.txt").read_bytes() == b"1 0.5 0.5 0.1 0.1\n"
    text = (tmp_path / "data.yaml").read_text()
    assert "train: images/train  # training\n" in text
    assert yaml.safe_load(text)["names"] == ["cat", "dog"]
    assert backup_of(report, "data.yaml").decode().endswith("- bird\n")
    assert not (tmp_path / "classes.txt").exists()


def voc_xml(*names: str) -> bytes:
    objects = "".join(f"\t<object>\n\t\t<name>{n}</name>\n\t\t<bndbox>\n\t\t\t<xmin>1</xmin>\n\t\t\t<ymin>2</ymin>\n"
                      f"\t\t\t<xmax>30</xmax>\n\t\t\t<ymax>40</ymax>\n\t\t</bndbox>\n\t</object>\n" for n in names)
    return (f"<annotation>\n\t<filename>x.png</filename>\n\t<size>\n\t\t<width>64</width>\n\t\t<height>48</height>"
            f"\n\t\t<depth>3</depth>\n\t</size>\n{objects}</annotation>\n").encode()


@pytest.fixture
def voc(tmp_path):
    image(tmp_path / "a.png")
    image(tmp_path / "b.png")
    (tmp_path / "a.xml").write_bytes(voc_xml("cat", "dog", "bird", "zebra"))
    (tmp_path / "b.xml").write_bytes(voc_xml("cat"))
    (tmp_path / "classes.txt").write_text("cat\ndog\nbird\n")
    return tmp_path


def test_voc_by_name(voc):
    ds, plan, report = run(voc, reorder_classes, [1, 2, 0])
    assert plan.files == [] and (voc / "a.xml").read_bytes() == voc_xml("cat", "dog", "bird", "zebra")
    assert (voc / "classes.txt").read_text() == "dog\nbird\ncat\n"
    change = rename_class(ds.classes, "dog", "puppy")
    report = apply_rewrite(plan_rewrite(ds, change))
    assert (voc / "a.xml").read_bytes() == voc_xml("cat", "puppy", "bird", "zebra")
    assert (voc / "b.xml").read_bytes() == voc_xml("cat")
    report = apply_rewrite(plan_rewrite(ds, delete_class(ds.classes, "cat")))
    assert (voc / "a.xml").read_bytes() == voc_xml("puppy", "bird", "zebra")   # unknown 'zebra' kept
    assert (voc / "b.xml").read_bytes() == voc_xml()
    assert backup_of(report, "b.xml") == voc_xml("cat")
    assert ds.classes.names == ("puppy", "bird")


def test_json_formats_by_name(tmp_path):
    image(tmp_path / "a.png")
    labelme = {"version": "5", "shapes": [{"label": "dog", "points": [[1, 2], [3, 4]], "shape_type": "rectangle"},
                                          {"label": "cat", "points": [[1, 2], [3, 4]], "shape_type": "rectangle"}],
               "imagePath": "a.png", "imageHeight": 48, "imageWidth": 64}
    (tmp_path / "a.json").write_text(json.dumps(labelme))
    (tmp_path / "classes.txt").write_text("cat\ndog\nbird\n")
    ds, plan, report = run(tmp_path, merge_classes, "dog", "bird")
    assert [s["label"] for s in json.loads((tmp_path / "a.json").read_text())["shapes"]] == ["bird", "cat"]
    createml = [{"image": "b.png", "annotations": [
        {"label": "cat", "coordinates": {"x": 5, "y": 5, "width": 2, "height": 2}},
        {"label": "bird", "coordinates": {"x": 5, "y": 5, "width": 2, "height": 2}}]}]
    cm = tmp_path / "cm" / "b.json"
    cm.parent.mkdir()
    cm.write_text(json.dumps(createml))
    plan = plan_rewrite(ds, delete_class(ds.classes, "cat"), extra_files=[cm])
    assert sorted(p.format for p in plan.files) == ["createml", "labelme"]
    apply_rewrite(plan)
    assert [a["label"] for a in json.loads(cm.read_text())[0]["annotations"]] == ["bird"]
    assert [s["label"] for s in json.loads((tmp_path / "a.json").read_text())["shapes"]] == ["bird"]


def test_malformed_yolo_files_are_reported_and_kept(yolo):
    (yolo / "b.txt").write_bytes(b"0 0.5 0.5 0.1 0.1\n\xff\xfe junk\n")
    (yolo / "c.txt").write_bytes(b"dog 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1 0.1\n")
    ds, plan, report = run(yolo, reorder_classes, [1, 0, 2])
    assert (yolo / "b.txt").read_bytes() == b"0 0.5 0.5 0.1 0.1\n\xff\xfe junk\n"
    assert (yolo / "c.txt").read_bytes() == b"dog 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1 0.1\n"
    rules = {(p.file.name, p.rule) for p in report.problems}
    assert ("b.txt", "classes.unreadable") in rules and ("c.txt", "classes.bad_row") in rules


def test_malformed_voc_files_are_reported_and_kept(voc):
    broken = voc_xml("dog")[:-20]
    (voc / "a.xml").write_bytes(broken)
    ds = discover(voc)
    report = apply_rewrite(plan_rewrite(ds, rename_class(ds.classes, "cat", "kitten")))
    assert (voc / "a.xml").read_bytes() == broken
    assert (voc / "b.xml").read_bytes() == voc_xml("kitten")
    assert any(p.file == voc / "a.xml" and p.rule == "classes.unreadable" for p in report.problems)


def test_cancel_mid_rewrite_restores_everything(yolo):
    ds = discover(yolo)
    plan = plan_rewrite(ds, reorder_classes(ds.classes, [2, 1, 0]))
    assert len(plan.files) == 3
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] > 5  # after the 4 backups and 1 rewritten file
    report = apply_rewrite(plan, cancelled=cancelled)
    assert report.cancelled and report.changed == []
    assert [(yolo / f"{n}.txt").read_bytes() for n in "abc"] == [A_TXT, B_TXT, C_TXT]
    assert (yolo / "classes.txt").read_text() == "cat\ndog\nbird\n" and ds.classes == NAMES
    assert json.loads((report.backup_dir / "manifest.json").read_text())["status"] == "cancelled"
    # cancelled during the backups: nothing changed and no backup left
    report = apply_rewrite(plan, cancelled=lambda: True)
    assert report.cancelled and report.backup_dir is None
    assert len(list((yolo / ".labeltrain" / "backups").iterdir())) == 1


def test_interrupted_rewrite_is_detected(yolo):
    ds = discover(yolo)
    plan = plan_rewrite(ds, delete_class(ds.classes, "cat"))
    report = apply_rewrite(plan)
    manifest = report.backup_dir / "manifest.json"
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "status": "started"}))  # as if the process died half-way
    assert interrupted_rewrites(yolo) == [report.backup_dir]
    assert sorted(p.name for p in restore_backup(report.backup_dir)) == ["a.txt", "b.txt", "c.txt", "classes.txt"]
    assert (yolo / "b.txt").read_bytes() == B_TXT


def test_planning_validates_and_remaps():
    with pytest.raises(ValueError):
        add_class(NAMES, "dog")
    with pytest.raises(ValueError):
        add_class(NAMES, "  ")
    with pytest.raises(ValueError):
        rename_class(NAMES, "dog", "cat")
    with pytest.raises(ValueError):
        merge_classes(NAMES, 1, "dog")
    with pytest.raises(ValueError):
        reorder_classes(NAMES, [0, 0, 1])
    with pytest.raises(ValueError):
        delete_class(NAMES, 3)
    change = merge_classes(NAMES, "cat", "bird")
    assert change.new.names == ("dog", "bird") and change.mapping == (1, 0, 1)
    assert change.name_map() == {"cat": "bird"} and change.ids_change
    assert not rename_class(NAMES, 0, "kitten").ids_change
    assert reorder_classes(NAMES, [2, 0, 1]).name_map() == {}
    ann = Annotation(Path(os.sep) / "x.png", 10, 10, (Box(0, 0, 0, 1, 1), Box(1, 0, 0, 1, 1), Box(9, 0, 0, 1, 1)))
    assert [b.cls for b in remap_annotation(ann, delete_class(NAMES, 0)).boxes] == [0, 9]
    assert [b.cls for b in remap_annotation(ann, change).boxes] == [1, 0, 9]


def test_collection_datasets_are_refused(tmp_path):
    image(tmp_path / "a.png")
    (tmp_path / "coco.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png", "width": 64,
                                                                "height": 48}], "annotations": [],
                                                    "categories": [{"id": 1, "name": "cat"}]}))
    ds = discover(tmp_path / "coco.json")
    plan = plan_rewrite(ds, rename_class(ds.classes, "cat", "kitten"))
    assert not plan.supported and plan.problems
    report = apply_rewrite(plan)
    assert report.backup_dir is None and report.problems and ds.classes.names == ("cat",)
