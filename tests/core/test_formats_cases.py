"""Specific behaviours of the VOC, COCO, CreateML and labelme formats (the round trips are property tests in
test_formats_roundtrip.py, hostile input in test_bad_inputs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from labeltrain.core import formats
from labeltrain.core.atomic import EmptyOverwriteError
from labeltrain.core.formats import WriteOptions
from labeltrain.core.formats.coco import PEEK_BYTES, safe_relative_path
from labeltrain.core.model import Annotation, Box, ClassNames

CLASSES = ClassNames.of(["cat", "dog"])


@pytest.fixture()
def image(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    assert cv2.imwrite(str(path), np.zeros((48, 64, 3), np.uint8))
    return path


def _ann(image: Path, *boxes: Box, verified: bool = False) -> Annotation:
    return Annotation(image, 64, 48, boxes, verified)


# --- refusing to replace boxes with nothing -------------------------------------------------------------------
@pytest.mark.parametrize("fmt_name", ["voc", "createml", "labelme"])
def test_empty_write_over_boxes_is_refused_unless_allowed(fmt_name: str, image: Path) -> None:
    fmt = formats.get(fmt_name)
    label = fmt.label_path(image)
    fmt.write_file(label, _ann(image, Box(0, 1, 2, 3, 4)), CLASSES)
    before = label.read_bytes()
    with pytest.raises(EmptyOverwriteError):
        fmt.write_file(label, _ann(image), CLASSES)
    assert label.read_bytes() == before
    fmt.write_file(label, _ann(image), CLASSES, allow_clear=True)
    assert fmt.read_file(label, image, CLASSES).annotations[0].boxes == ()
    fmt.write_file(label, _ann(image, verified=True), CLASSES)  # empty over empty is fine
    label.write_bytes(b"\x00garbage that may still be someone's labels")
    with pytest.raises(EmptyOverwriteError):
        fmt.write_file(label, _ann(image), CLASSES)


# --- VOC --------------------------------------------------------------------------------------------------------
def test_voc_numbers_are_ints_when_integral(image: Path) -> None:
    fmt = formats.get("voc")
    label = fmt.label_path(image)
    fmt.write_file(label, _ann(image, Box(1, 1.0, 2.5, 30.0, 40.125), verified=True), CLASSES)
    text = label.read_text(encoding="utf-8")
    assert '<annotation verified="yes">' in text
    for part in ("<xmin>1</xmin>", "<ymin>2.5</ymin>", "<xmax>30</xmax>", "<ymax>40.125</ymax>",
                 "<name>dog</name>", f"<path>{image}</path>", "<filename>photo.png</filename>"):
        assert part in text


def test_voc_size_of_a_rotated_photo_is_a_warning(tmp_path: Path) -> None:
    """A phone photo stored 64x48 with EXIF orientation 6 is 48x64 for the trainer; LabelImg writes 64x48."""
    photo = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[274] = 6
    Image.new("RGB", (64, 48)).save(photo, exif=exif.tobytes())
    label = tmp_path / "rotated.xml"
    label.write_text("<annotation><size><width>64</width><height>48</height><depth>3</depth></size>"
                     "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax>"
                     "</bndbox></object></annotation>")
    result = formats.get("voc").read_file(label, photo, ClassNames())
    (ann,) = result.annotations
    assert (ann.width, ann.height) == (48, 64)
    (problem,) = result.problems
    assert problem.rule == "voc.size" and problem.severity == "warning" and "EXIF" in problem.message


def test_voc_unreadable_image_falls_back_to_the_xml_size(tmp_path: Path) -> None:
    label = tmp_path / "a.xml"
    label.write_text("<annotation><size><width>640</width><height>480</height></size></annotation>")
    result = formats.get("voc").read_file(label, tmp_path / "missing.jpg", CLASSES)
    assert [(a.width, a.height) for a in result.annotations] == [(640, 480)]
    assert [p.rule for p in result.problems] == ["image.read"]


def test_voc_missing_label_file_is_an_empty_annotation(image: Path) -> None:
    result = formats.get("voc").read_file(image.with_suffix(".xml"), image, CLASSES)
    assert result.annotations == [Annotation(image, 64, 48)] and not result.problems


def test_voc_dataset_writes_relative_paths(image: Path, tmp_path: Path) -> None:
    fmt = formats.get("voc")
    (target,) = fmt.write_dataset([_ann(image, Box(0, 1, 2, 3, 4))], CLASSES,
                                  WriteOptions(image.parent, tmp_path / "voc"))
    assert target == tmp_path / "voc" / "photo.xml"
    assert "<path>photo.png</path>" in target.read_text()


# --- COCO -------------------------------------------------------------------------------------------------------
def test_coco_category_ids_are_class_ids_plus_one(image: Path, tmp_path: Path) -> None:
    fmt = formats.get("coco")
    sub = image.parent / "sub"
    sub.mkdir()
    other = sub / "b.png"
    other.write_bytes(image.read_bytes())
    (target,) = fmt.write_dataset([_ann(image, Box(1, 1, 2, 3.5, 4)), _ann(other)],
                                  ClassNames.of(["cat", "dog", "unused"]), WriteOptions(image.parent, tmp_path))
    doc = json.loads(target.read_text())
    assert target.name == "annotations.json"
    assert [(c["id"], c["name"]) for c in doc["categories"]] == [(1, "cat"), (2, "dog"), (3, "unused")]
    assert [i["file_name"] for i in doc["images"]] == ["photo.png", "sub/b.png"]
    (ann,) = doc["annotations"]
    assert ann["category_id"] == 2 and ann["bbox"] == [1, 2, 2.5, 2] and ann["area"] == 5


@pytest.mark.parametrize("fmt_name", ["coco", "createml"])
def test_collection_writers_refuse_images_outside_the_root(fmt_name: str, image: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not inside the image root"):
        formats.get(fmt_name).write_dataset([_ann(image)], CLASSES, WriteOptions(tmp_path / "elsewhere", tmp_path))


@pytest.mark.parametrize(("name", "expected"), [
    ("a.jpg", "a.jpg"), ("sub/./a.jpg", "sub/a.jpg"), ("sub\\a.jpg", "sub/a.jpg"), ("x/../a.jpg", "a.jpg"),
    ("../a.jpg", None), ("/etc/passwd", None), ("\\\\server\\share\\a.jpg", None), ("C:\\a.jpg", None),
    ("c:a.jpg", None), ("", None), (".", None), ("a\x00.jpg", None), ("a/../../b", None),
])
def test_safe_relative_path(name: str, expected: str | None) -> None:
    rel = safe_relative_path(name)
    assert (rel.as_posix() if rel else None) == expected


# --- CreateML ---------------------------------------------------------------------------------------------------
def test_createml_write_keeps_other_images_entries(image: Path) -> None:
    fmt = formats.get("createml")
    label = fmt.label_path(image)
    other = {"image": "other.png", "verified": True, "annotations": [
        {"label": "dog", "coordinates": {"x": 5, "y": 5, "width": 2, "height": 2}}]}
    label.write_text(json.dumps([other, {"image": "photo.png", "verified": False, "annotations": []}]))
    result = fmt.read_file(label, image, CLASSES)
    assert result.annotations[0].boxes == () and not result.problems
    fmt.write_file(label, _ann(image, Box(0, 10, 10, 20, 30), verified=True), CLASSES)
    doc = json.loads(label.read_text())
    assert doc[0] == other
    assert doc[1] == {"image": "photo.png", "verified": True, "annotations": [
        {"label": "cat", "coordinates": {"x": 15, "y": 20, "width": 10, "height": 20}}]}
    (ann,) = fmt.read_file(label, image, CLASSES).annotations
    assert ann.verified and ann.boxes == (Box(0, 10, 10, 20, 30),)


def test_createml_single_entry_for_another_name_is_used(image: Path) -> None:
    fmt = formats.get("createml")
    label = fmt.label_path(image)
    label.write_text('[{"image": "old_name.png", "annotations": '
                     '[{"label": "bird", "coordinates": {"x": 5, "y": 6, "width": 2, "height": 4}}]}]')
    result = fmt.read_file(label, image, CLASSES)
    (ann,) = result.annotations
    assert ann.boxes == (Box(2, 4, 4, 6, 8),) and result.classes.names == ("cat", "dog", "bird")
    assert [p.severity for p in result.problems] == ["info"]


# --- labelme ----------------------------------------------------------------------------------------------------
def test_labelme_rectangles_in_any_corner_order_and_polygons(image: Path) -> None:
    fmt = formats.get("labelme")
    label = fmt.label_path(image)
    label.write_text(json.dumps({"shapes": [
        {"label": "cat", "points": [[30, 40], [5, 6]], "shape_type": "rectangle", "group_id": 2},
        {"label": "dog", "points": [[1, 10], [20, 2], [10, 30]], "shape_type": "polygon"},
        {"label": "dog", "points": [[1, 10], [20, 2]], "shape_type": "line"},
    ], "imagePath": "photo.png", "imageData": None, "imageHeight": 48, "imageWidth": 64}))
    result = fmt.read_file(label, image, ClassNames())
    (ann,) = result.annotations
    assert ann.boxes == (Box(0, 5, 6, 30, 40, {"group_id": 2}), Box(1, 1, 2, 20, 30))
    assert sorted(p.severity for p in result.problems) == ["info", "warning"]


def test_labelme_image_path_is_relative_to_the_label_file(image: Path, tmp_path: Path) -> None:
    fmt = formats.get("labelme")
    (target,) = fmt.write_dataset([_ann(image, Box(0, 1, 2, 3, 4))], CLASSES,
                                  WriteOptions(image.parent, tmp_path / "labels"))
    doc = json.loads(target.read_text())
    assert doc["imagePath"] == "../photo.png" and doc["imageData"] is None
    assert (doc["imageWidth"], doc["imageHeight"]) == (64, 48)
    assert doc["shapes"][0]["shape_type"] == "rectangle" and doc["shapes"][0]["points"] == [[1, 2], [3, 4]]


# --- detection --------------------------------------------------------------------------------------------------
def test_each_written_file_is_detected_by_its_own_format_only(image: Path, tmp_path: Path) -> None:
    ann = _ann(image, Box(0, 1, 2, 3, 4))
    for fmt in formats.all_formats():
        written = fmt.write_dataset([ann], CLASSES, WriteOptions(image.parent, tmp_path / fmt.name))
        label = written[0]
        claims = [f.name for f in formats.all_formats() if f.detect(label)]
        assert claims == [fmt.name], (label, claims)
    per_image_createml = tmp_path / "photo.json"
    formats.get("createml").write_file(per_image_createml, ann, CLASSES)
    assert [f.name for f in formats.all_formats() if f.detect(per_image_createml)] == ["createml"]


def test_detect_peeks_at_large_files(tmp_path: Path) -> None:
    filler = [{"id": i, "file_name": f"{i}.jpg", "width": 1, "height": 1} for i in range(5000)]
    coco = tmp_path / "big_coco.json"
    coco.write_text(json.dumps({"images": filler, "annotations": [], "categories": []}))
    labelme = tmp_path / "big_labelme.json"
    labelme.write_text(json.dumps({"version": "5.4.1", "shapes": [], "imageData": "A" * 200_000}))
    createml = tmp_path / "big_createml.json"
    createml.write_text(json.dumps([{"image": f"{i}.jpg", "annotations": []} for i in range(5000)]))
    for path, name in ((coco, "coco"), (labelme, "labelme"), (createml, "createml")):
        assert path.stat().st_size > PEEK_BYTES
        fmt = formats.detect_file(path)
        assert fmt is not None and fmt.name == name
    assert formats.detect_file(tmp_path / "does_not_exist.json") is None
    assert formats.detect_file(tmp_path) is None
