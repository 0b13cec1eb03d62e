"""Every label file in tests/data/bad goes through its reader and through detect_file: nothing may raise,
and the expected Problem must be reported with the file and a line number or a JSON/XML path.

The table below says, for each file, which reader reads it, what the problem message contains, how many
boxes survive and what `detect_file` says. A label file in the folder without a row fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from labeltrain.core import formats
from labeltrain.core.formats import ReadResult
from labeltrain.core.model import ClassNames

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
LABEL_SUFFIXES = {".xml", ".json", ".txt"}
CLASSES = ClassNames.of(["cat", "dog"])


@dataclass(frozen=True)
class Case:
    fmt: str
    expect: str  # substring of one problem message; that problem must carry the file and a line or path
    boxes: int | None = 0  # boxes read (None: no annotation at all)
    detect: str | None = None  # what detect_file says
    collection: bool = False  # read with read_collection instead of read_file


CASES: dict[str, Case] = {
    # Pascal VOC
    "voc_malformed.xml": Case("voc", "not well-formed XML", 1, "voc"),
    "voc_truncated.xml": Case("voc", "not well-formed XML", 1, "voc"),
    "voc_billion_laughs.xml": Case("voc", "declares XML entities", 0, "voc"),
    "voc_xxe_file.xml": Case("voc", "declares XML entities", 0, "voc"),
    "voc_xxe_parameter.xml": Case("voc", "declares XML entities", 0, "voc"),
    "voc_xxe_utf16.xml": Case("voc", "declares XML entities", 0, "voc"),
    "voc_external_dtd.xml": Case("voc", "external DTD", 2, "voc"),
    "voc_missing_bndbox.xml": Case("voc", "has no <bndbox>", 1, "voc"),
    "voc_text_in_numbers.xml": Case("voc", "<xmin> is not a finite number", 1, "voc"),
    "voc_negative_size.xml": Case("voc", "invalid image width '-64'", 1, "voc"),
    "voc_rotated_size.xml": Case("voc", "EXIF orientation", 1, "voc"),
    "voc_wrong_root.xml": Case("voc", "not <annotation>", 0, "voc"),
    "voc_empty.xml": Case("voc", "empty file", 0, None),
    "voc_binary_garbage.xml": Case("voc", "not well-formed XML", 0, None),
    # COCO
    "coco_wrong_types.json": Case("coco", "bbox must be [x, y, width, height]", None, "coco", True),
    "coco_path_traversal.json": Case("coco", "points outside the image folder", None, "coco", True),
    "coco_nan.json": Case("coco", "bbox values must be finite numbers", None, "coco", True),
    "coco_truncated.json": Case("coco", "not valid JSON", None, "coco", True),
    "coco_top_level_number.json": Case("coco", "top level is a number", None, None, True),
    "coco_top_level_array.json": Case("coco", "top level is a array", None, None, True),
    "coco_size_mismatch.json": Case("coco", "EXIF orientation", None, "coco", True),
    # CreateML
    "createml_missing_coordinates.json": Case("createml", "coordinates must be an object", 1, "createml"),
    "createml_wrong_types.json": Case("createml", "coordinates.x must be a finite number", 0, "createml"),
    "createml_wrong_image.json": Case("createml", "none of the 2 entries is for", 0, "createml"),
    "createml_collection_traversal.json": Case("createml", "not a relative path inside", None, "createml", True),
    "createml_not_a_list.json": Case("createml", "top level is a string", 0, None),
    # labelme
    "labelme_circle_and_1pt_rect.json": Case("labelme", "rectangle 'dog' needs 2 points", 2, "labelme"),
    "labelme_bad_points.json": Case("labelme", "point must be [x, y]", 0, "labelme"),
    "labelme_shapes_not_list.json": Case("labelme", "shapes must be an array", 0, "labelme"),
    "json_empty.json": Case("labelme", "empty file", 0, None),
    "json_binary_garbage.json": Case("labelme", "not UTF-8", 0, None),
    "json_deep_nesting.json": Case("labelme", "nested too deeply", 0, None),
    # YOLO
    "yolo_bom_crlf.txt": Case("yolo", "labels require 5 columns, 4 columns detected", 2, "yolo"),
    "yolo_4_columns.txt": Case("yolo", "labels require 5 columns, 4 columns detected", 0, "yolo"),
    "yolo_6_columns.txt": Case("yolo", "labels require 5 columns, 6 columns detected", 0, "yolo"),
    "yolo_nan_inf.txt": Case("yolo", "NaN or infinite", 0, "yolo"),
    "yolo_negative.txt": Case("yolo", "negative label values", 1, "yolo"),
    "yolo_out_of_range.txt": Case("yolo", "non-normalized or out of bounds", 2, "yolo"),
    "yolo_unknown_class.txt": Case("yolo", "exceeds dataset class count 2", 3, "yolo"),
    "yolo_not_numbers.txt": Case("yolo", "not a number", 0, "yolo"),
    "yolo_binary_garbage.txt": Case("yolo", "not a number", 0, "yolo"),
}
ENTITY_FILES = ["voc_billion_laughs.xml", "voc_xxe_file.xml", "voc_xxe_parameter.xml", "voc_xxe_utf16.xml"]


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 64x48 image named like the image the bad files refer to."""
    folder = tmp_path_factory.mktemp("bad_images")
    assert cv2.imwrite(str(folder / "img.png"), np.zeros((48, 64, 3), np.uint8))
    return folder


def read(name: str, image_dir: Path) -> ReadResult:
    case = CASES[name]
    fmt = formats.get(case.fmt)
    path = BAD / name
    if case.collection:
        return fmt.read_collection(path, image_dir, CLASSES)
    return fmt.read_file(path, image_dir / "img.png", CLASSES)


def test_corpus_is_complete() -> None:
    on_disk = {p.name for p in BAD.iterdir() if p.suffix.lower() in LABEL_SUFFIXES}
    assert on_disk == set(CASES), "every label file in tests/data/bad needs a row in CASES (and vice versa)"
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_is_reported_not_raised(name: str, image_dir: Path) -> None:
    case = CASES[name]
    path = BAD / name
    result = read(name, image_dir)
    assert result.problems, f"{name}: no problem reported"
    matching = [p for p in result.problems if case.expect in p.message]
    assert matching, f"{name}: no problem containing {case.expect!r} in {[str(p) for p in result.problems]}"
    assert any(p.file == path and (p.line is not None or p.where) for p in matching), matching
    if case.boxes is None:
        if not case.collection:
            assert result.annotations == []
    else:
        assert len(result.annotations) == 1
        assert len(result.annotations[0].boxes) == case.boxes
    for problem in result.problems:
        str(problem)  # every problem renders


@pytest.mark.parametrize("name", sorted(CASES))
def test_detect_file_never_raises(name: str) -> None:
    fmt = formats.detect_file(BAD / name)
    assert (fmt.name if fmt else None) == CASES[name].detect


@pytest.mark.parametrize("name", ENTITY_FILES)
def test_entities_are_not_expanded(name: str, image_dir: Path) -> None:
    result = read(name, image_dir)
    assert [p.rule for p in result.problems] == ["voc.security"]
    assert result.classes == CLASSES  # nothing was read, not even a class name
    assert all(not a.boxes for a in result.annotations)
    text = repr(result)
    assert "root:" not in text and "lollol" not in text


def test_bom_crlf_yolo_file_keeps_its_first_row(image_dir: Path) -> None:
    data = (BAD / "yolo_bom_crlf.txt").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # guards against line-ending conversion
    (ann,) = read("yolo_bom_crlf.txt", image_dir).annotations
    assert [b.cls for b in ann.boxes] == [0, 1]
    assert ann.boxes[0].x1 == pytest.approx(0.4 * 64) and ann.boxes[1].y2 == pytest.approx(0.3 * 48)


def test_path_traversal_never_reaches_outside(image_dir: Path) -> None:
    result = read("coco_path_traversal.json", image_dir)
    assert [a.image_path for a in result.annotations] == [image_dir / "img.png"]
    assert len([p for p in result.problems if p.rule == "coco.path"]) == 6
    assert [len(a.boxes) for a in result.annotations] == [1]
    result = read("createml_collection_traversal.json", image_dir)
    assert [a.image_path for a in result.annotations] == [image_dir / "img.png"]
    assert result.annotations[0].verified


def test_coco_wrong_types_skip_only_the_bad_items(image_dir: Path) -> None:
    result = read("coco_wrong_types.json", image_dir)
    wheres = {p.where for p in result.problems}
    assert {"$.annotations[1].bbox", "$.annotations[2].bbox", "$.annotations[3].bbox",
            "$.annotations[6].bbox", "$.images[1].id", "$.categories[1].id"} <= wheres
    # image 1 keeps its one good box; image 4 (no size in the JSON) uses the header size
    assert [(a.width, a.height, len(a.boxes)) for a in result.annotations] == [(64, 48, 1), (64, 48, 1)]
