"""The bundled sample project: reproducible from tools/make_sample.py, and its planted mistakes are real."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from labeltrain.core.classfile import read_classes_txt
from labeltrain.core.formats.yolo import parse_yolo
from labeltrain.core.images import read_header

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "resources" / "sample"
EPS = 1e-6  # pixels: YOLO text keeps 10 decimals of the normalised values


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_sample", REPO / "tools" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix != ".cache"}


@pytest.fixture(scope="module")
def mistakes() -> dict:
    return json.loads((SAMPLE / "mistakes.json").read_text(encoding="utf-8"))


def test_generator_is_deterministic(tmp_path: Path) -> None:
    gen = _load_generator()
    gen.generate(tmp_path / "a")
    fresh, bundled = _files(tmp_path / "a"), _files(SAMPLE)
    assert sorted(fresh) == sorted(bundled), "run `python tools/make_sample.py` to refresh resources/sample"
    differing = [name for name in fresh if fresh[name].read_bytes() != bundled[name].read_bytes()]
    assert not differing, f"regenerated files differ from resources/sample: {differing[:10]}"


def test_generator_twice_same_bytes(tmp_path: Path) -> None:
    gen = _load_generator()
    gen.generate(tmp_path / "a")
    gen.generate(tmp_path / "b")
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == sorted(b)
    assert all(a[n].read_bytes() == b[n].read_bytes() for n in a)


def test_sample_shape() -> None:
    classes, problems = read_classes_txt(SAMPLE / "classes.txt")
    assert list(classes) == ["circle", "square", "triangle"]
    assert not list(problems)
    images = sorted((SAMPLE / "images").glob("*.jpg"))
    assert 100 <= len(images) <= 200
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 2_500_000
    for name in ("README.md", "MISTAKES.md"):
        assert (SAMPLE / name).is_file()


def test_mistakes_point_at_existing_files_and_lines(mistakes: dict) -> None:
    records = mistakes["mistakes"]
    kinds = {r["kind"] for r in records}
    assert kinds == {"class_out_of_range", "duplicate_row", "non_normalized", "negative_coordinate", "zero_width",
                     "four_columns", "crlf_bom", "missing_label_file", "orphan_label", "exif_rotated",
                     "swapped_class", "missing_box"}
    assert len({r["image"] for r in records}) <= 12
    for r in records:
        image, label = SAMPLE / r["image"], SAMPLE / r["file"]
        if r["kind"] == "missing_label_file":
            assert image.is_file() and not label.exists()
            assert r["boxes"], "the unlabelled image must have visible objects"
            continue
        if r["kind"] == "orphan_label":
            assert label.is_file() and not image.exists()
            continue
        assert image.is_file() and label.is_file(), r
        if r["line"] is not None:
            lines = label.read_bytes().decode("utf-8-sig").splitlines()
            assert len(lines) >= r["line"], r
            assert lines[r["line"] - 1] == r["row"], r


def _check(record: dict) -> tuple[list, list[str]]:
    image, label = SAMPLE / record["image"], SAMPLE / record["file"]
    header = read_header(image)
    text = label.read_bytes().decode("utf-8")
    classes, _ = read_classes_txt(SAMPLE / "classes.txt")
    boxes, problems = parse_yolo(text, header.width, header.height, classes, label)
    return boxes, [f"{p.line}:{p.rule}" for p in problems]


def test_planted_row_errors_are_reported_on_their_line(mistakes: dict) -> None:
    rules = {"class_out_of_range": "yolo.class", "non_normalized": "yolo.range",
             "negative_coordinate": "yolo.range", "four_columns": "yolo.columns"}
    for r in mistakes["mistakes"]:
        if r["kind"] in rules:
            _, found = _check(r)
            assert f"{r['line']}:{rules[r['kind']]}" in found, (r, found)


def test_special_files_are_valid(mistakes: dict) -> None:
    by_kind = {r["kind"]: r for r in mistakes["mistakes"]}
    crlf = SAMPLE / by_kind["crlf_bom"]["file"]
    raw = crlf.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    boxes, found = _check(by_kind["crlf_bom"])
    assert boxes and not found

    exif = by_kind["exif_rotated"]
    header = read_header(SAMPLE / exif["image"])
    assert header.orientation == 6
    assert [header.width, header.height] == exif["oriented_size"]
    boxes, found = _check(exif)
    assert boxes and not found
    assert all(-EPS <= b.x1 < b.x2 <= header.width + EPS and -EPS <= b.y1 < b.y2 <= header.height + EPS
               for b in boxes)

    zero = by_kind["zero_width"]
    boxes, _ = _check(zero)
    assert boxes[zero["line"] - 1].width == 0

    dup = by_kind["duplicate_row"]
    lines = (SAMPLE / dup["file"]).read_text(encoding="utf-8").splitlines()
    assert lines[dup["duplicate_of_line"] - 1] == lines[dup["line"] - 1]


def test_clean_labels_parse_without_problems(mistakes: dict) -> None:
    planted = {r["file"] for r in mistakes["mistakes"]}
    classes, _ = read_classes_txt(SAMPLE / "classes.txt")
    negatives = set(mistakes["negatives"])
    n_boxes = 0
    for image in sorted((SAMPLE / "images").glob("*.jpg")):
        label = SAMPLE / "labels" / (image.stem + ".txt")
        rel = label.relative_to(SAMPLE).as_posix()
        if rel in planted:
            continue
        header = read_header(image)
        boxes, problems = parse_yolo(label.read_text(encoding="utf-8"), header.width, header.height, classes, label)
        assert not list(problems), (rel, [str(p) for p in problems])
        if image.relative_to(SAMPLE).as_posix() in negatives:
            assert not boxes and label.read_bytes() == b""
        else:
            assert boxes, rel
        for b in boxes:
            assert 0 <= b.cls < 3
            assert -EPS <= b.x1 < b.x2 <= header.width + EPS and -EPS <= b.y1 < b.y2 <= header.height + EPS
        n_boxes += len(boxes)
    assert n_boxes >= 300
