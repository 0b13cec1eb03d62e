"""Write -> read round trips of every label format, canonical text stability and a conversion chain.

Images are real PNG and JPEG files (written once per module) and sizes come from the real header reader, so the
tests go through the same code path as the app. Boxes must survive within 1e-6 of the image size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labeltrain.core import formats
from labeltrain.core.formats import WriteOptions, header_size
from labeltrain.core.model import Annotation, Box, ClassNames

TOLERANCE = 1e-6  # normalised coordinates
# (width, height, extension). Large images are JPEG: reading a PNG's EXIF makes Pillow decode the pixels.
IMAGES = [(1, 1, "png"), (3, 7, "jpg"), (64, 48, "png"), (333, 500, "jpg"), (1920, 1080, "jpg")]
PER_IMAGE = ["yolo", "voc", "createml", "labelme"]
NAMED = ["voc", "coco", "createml", "labelme"]  # formats that store class names, not ids
VERIFIED = {"voc", "createml"}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("images")
    paths = []
    for i, (w, h, ext) in enumerate(IMAGES):
        path = root / f"img{i}_{w}x{h}.{ext}"
        assert cv2.imwrite(str(path), np.full((h, w, 3), 80 + 30 * i, np.uint8))
        assert header_size(path) == (w, h)
        paths.append(path)
    return paths


# --- strategies -----------------------------------------------------------------------------------------------
_name = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=12).map(
    str.strip).filter(bool)
class_names = st.lists(_name, min_size=1, max_size=6, unique=True).map(ClassNames.of)


def _coord(limit: int) -> st.SearchStrategy[float]:
    return st.one_of(st.integers(0, limit).map(float),
                     st.floats(0, limit, allow_nan=False, allow_infinity=False))


@st.composite
def _box(draw: st.DrawFn, width: int, height: int, n_classes: int) -> Box:
    x1, x2 = sorted((draw(_coord(width)), draw(_coord(width))))
    y1, y2 = sorted((draw(_coord(height)), draw(_coord(height))))
    return Box(draw(st.integers(0, n_classes - 1)), x1, y1, x2, y2)


@st.composite
def _annotation(draw: st.DrawFn, image: Path, classes: ClassNames) -> Annotation:
    width, height, _ = IMAGES[int(image.name[3:image.name.index("_")])]
    boxes = draw(st.lists(_box(width, height, len(classes)), max_size=8))
    return Annotation(image, width, height, tuple(boxes), draw(st.booleans()))


@st.composite
def one_image(draw: st.DrawFn, images: list[Path]) -> tuple[Annotation, ClassNames]:
    classes = draw(class_names)
    image = draw(st.sampled_from(images))
    return draw(_annotation(image, classes)), classes


@st.composite
def dataset(draw: st.DrawFn, images: list[Path]) -> tuple[list[Annotation], ClassNames]:
    classes = draw(class_names)
    chosen = draw(st.lists(st.sampled_from(images), min_size=1, max_size=3, unique=True))
    return [draw(_annotation(image, classes)) for image in chosen], classes


# --- helpers --------------------------------------------------------------------------------------------------
def assert_same(got: Annotation, want: Annotation, got_classes: ClassNames, want_classes: ClassNames,
                *, verified: bool = False, same_ids: bool = True) -> None:
    assert got.image_path == want.image_path
    assert (got.width, got.height) == (want.width, want.height)
    assert len(got.boxes) == len(want.boxes)
    for g, w in zip(got.boxes, want.boxes):
        assert got_classes.name(g.cls) == want_classes.name(w.cls)
        if same_ids:
            assert g.cls == w.cls
        for a, b, size in ((g.x1, w.x1, want.width), (g.y1, w.y1, want.height),
                           (g.x2, w.x2, want.width), (g.y2, w.y2, want.height)):
            assert abs(a - b) / size <= TOLERANCE, (g, w)
    if verified:
        assert got.verified == want.verified


def _only_annotation(result: formats.ReadResult) -> Annotation:
    assert not result.problems.errors(), result.problems
    assert len(result.annotations) == 1
    return result.annotations[0]


# --- per-image formats ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt_name", PER_IMAGE)
def test_per_image_round_trip(fmt_name: str, images: list[Path]) -> None:
    fmt = formats.get(fmt_name)

    @given(one_image(images))
    def check(case: tuple[Annotation, ClassNames]) -> None:
        ann, classes = case
        with tempfile.TemporaryDirectory() as tmp:
            label = fmt.label_path(ann.image_path, Path(tmp))
            fmt.write_file(label, ann, classes, allow_clear=True)
            got = _only_annotation(fmt.read_file(label, ann.image_path, classes))
            assert_same(got, ann, classes, classes, verified=fmt_name in VERIFIED)
            # Reading a canonical file and writing it again reproduces its text.
            again = label.with_name("again" + label.suffix)
            fmt.write_file(again, got, classes)
            assert again.read_bytes() == label.read_bytes()
            if fmt_name in NAMED:  # names alone are enough: an empty registry grows in order of appearance
                fresh = fmt.read_file(label, ann.image_path, ClassNames())
                got = _only_annotation(fresh)
                assert_same(got, ann, fresh.classes, classes, same_ids=False)
                assert set(fresh.classes) == {classes.name(b.cls) for b in ann.boxes}

    check()


@pytest.mark.parametrize("fmt_name", ["coco", "createml"])
def test_collection_round_trip(fmt_name: str, images: list[Path]) -> None:
    fmt = formats.get(fmt_name)
    root = images[0].parent

    @given(dataset(images))
    def check(case: tuple[list[Annotation], ClassNames]) -> None:
        anns, classes = case
        with tempfile.TemporaryDirectory() as tmp:
            (target,) = fmt.write_dataset(anns, classes, WriteOptions(root, Path(tmp) / "a"))
            result = fmt.read_collection(target, root, classes)
            assert not result.problems.errors(), result.problems
            assert result.classes == classes
            assert len(result.annotations) == len(anns)
            for got, want in zip(result.annotations, anns):
                assert_same(got, want, classes, classes, verified=fmt_name in VERIFIED)
            (again,) = fmt.write_dataset(result.annotations, classes, WriteOptions(root, Path(tmp) / "b"))
            assert again.read_bytes() == target.read_bytes()
            fresh = fmt.read_collection(target, root, ClassNames())
            for got, want in zip(fresh.annotations, anns):
                assert_same(got, want, fresh.classes, classes, same_ids=fmt_name == "coco")

    check()


@given(st.data())
def test_conversion_chain_preserves_boxes(images: list[Path], data: st.DataObject) -> None:
    """yolo -> voc -> coco -> createml -> labelme -> yolo keeps every box within 1e-6 (normalised)."""
    original, classes = data.draw(dataset(images))
    root = images[0].parent
    anns = original
    with tempfile.TemporaryDirectory() as tmp:
        for step, name in enumerate(["yolo", "voc", "coco", "createml", "labelme", "yolo"]):
            fmt = formats.get(name)
            options = WriteOptions(root, Path(tmp) / f"{step}_{name}")
            written = fmt.write_dataset(anns, classes, options)
            if name in ("coco", "createml"):
                result = fmt.read_collection(written[0], root, classes)
            else:
                result = formats.ReadResult(classes=classes)
                for ann in anns:
                    result.extend(fmt.read_file(fmt.label_path_in(options, ann.image_path), ann.image_path,
                                                classes))
            assert not result.problems.errors(), (name, result.problems)
            assert result.classes == classes
            anns = result.annotations
    assert len(anns) == len(original)
    for got, want in zip(anns, original):
        assert_same(got, want, classes, classes)


# --- fixed canonical files -------------------------------------------------------------------------------------
LABELIMG_VOC = """<annotation verified="yes">
\t<folder>{folder}</folder>
\t<filename>{name}</filename>
\t<path>{path}</path>
\t<source>
\t\t<database>Unknown</database>
\t</source>
\t<size>
\t\t<width>64</width>
\t\t<height>48</height>
\t\t<depth>1</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>Straßenschild &amp; 猫</name>
\t\t<pose>Left</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>0</difficult>
\t\t<occluded>1</occluded>
\t\t<bndbox>
\t\t\t<xmin>12.5</xmin>
\t\t\t<ymin>3</ymin>
\t\t\t<xmax>63.0000000001</xmax>
\t\t\t<ymax>47</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""


def test_voc_canonical_labelimg_file_is_reproduced(images: list[Path], tmp_path: Path) -> None:
    image = images[2]
    label = tmp_path / "img.xml"
    text = LABELIMG_VOC.format(folder=image.parent.name, name=image.name, path=image)
    label.write_text(text, encoding="utf-8")
    fmt = formats.get("voc")
    result = fmt.read_file(label, image, ClassNames.of(["cat"]))
    ann = _only_annotation(result)
    assert ann.verified and ann.attrs == {"depth": 1}
    assert result.classes.names == ("cat", "Straßenschild & 猫")
    (box,) = ann.boxes
    assert (box.cls, box.x1, box.y1, box.x2, box.y2) == (1, 12.5, 3.0, 63.0000000001, 47.0)
    assert box.attrs == {"pose": "Left", "truncated": 1, "difficult": 0, "occluded": 1}
    out = tmp_path / "out.xml"
    fmt.write_file(out, ann, result.classes)
    assert out.read_text(encoding="utf-8") == text


def test_coco_non_contiguous_categories_become_contiguous_classes(images: list[Path], tmp_path: Path) -> None:
    image = images[2]
    doc = tmp_path / "instances.json"
    doc.write_text(f"""{{"images": [{{"id": 10, "file_name": "{image.name}", "width": 64, "height": 48}},
                                     {{"id": 11, "file_name": "{images[1].name}", "width": 3, "height": 7}}],
        "annotations": [{{"id": 5, "image_id": 10, "category_id": 90, "bbox": [1.5, 2, 3, 4], "iscrowd": 0,
                          "area": 12}},
                        {{"id": 6, "image_id": 10, "category_id": 3, "bbox": [0, 0, 64, 48]}}],
        "categories": [{{"id": 90, "name": "zebra"}}, {{"id": 3, "name": "cat"}}, {{"id": 7, "name": "dog"}}]}}""")
    fmt = formats.get("coco")
    result = fmt.read_collection(doc, image.parent, ClassNames.of(["dog"]))
    assert not result.problems, result.problems
    assert result.classes.names == ("dog", "cat", "zebra")  # merged by name, new ones in category id order
    first, negative = result.annotations
    assert negative.boxes == () and negative.image_path == images[1]
    zebra, cat = first.boxes
    assert (zebra.cls, zebra.x1, zebra.y1, zebra.x2, zebra.y2) == (2, 1.5, 2.0, 4.5, 6.0)
    assert zebra.attrs == {"id": 5, "iscrowd": 0, "area": 12.0}
    assert cat.cls == 1


def test_coco_images_folder_beside_the_json_is_found(images: list[Path], tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    target = tmp_path / "images" / "x.png"
    target.write_bytes(images[2].read_bytes())
    doc = tmp_path / "annotations.json"
    doc.write_text('{"images": [{"id": 1, "file_name": "x.png", "width": 64, "height": 48}], "annotations": [],'
                   ' "categories": []}')
    result = formats.get("coco").read_collection(doc, None, ClassNames())
    assert not result.problems
    assert [a.image_path for a in result.annotations] == [target]
