"""Dataset-level rules (same stem, orphans, leakage by content, duplicates, rare/unused classes, whole-split
refusals, data.yaml problems) and the planted mistakes of the bundled sample project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labeltrain.core.check import RULES, CheckOptions, run_check
from labeltrain.core.problems import Severity
from tests.core.check.corpus import jpeg

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "sample"
ROW = "0 0.5 0.5 0.2 0.2\n"


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


def _big_jpeg(seed: int) -> bytes:
    data = jpeg(320, 240, seed=seed)
    assert len(data) > 8192
    return data


@pytest.fixture()
def split_dataset(tmp_path):
    """images/{train,val} + labels/{train,val} + data.yaml (3 classes, 'bird' never used)."""
    root = tmp_path / "ds"
    a, b = _big_jpeg(1), _big_jpeg(2)
    twin = bytearray(b)
    twin[6000] ^= 0x01  # same size and same first 4 KiB as b, different content: not a duplicate
    for name, data in {"a.jpg": a, "a.png": a, "b.jpg": b, "b_copy.jpg": b, "b_twin.jpg": bytes(twin)}.items():
        _write(root / "images" / "train" / name, data)
    for name, data in {"leak.jpg": b, "c.jpg": _big_jpeg(3)}.items():
        _write(root / "images" / "val" / name, data)
    for name in ("a", "b", "b_copy", "b_twin"):
        _write(root / "labels" / "train" / f"{name}.txt", ROW + "1 0.3 0.3 0.1 0.1\n")
    _write(root / "labels" / "train" / "orphan.txt", ROW)
    _write(root / "labels" / "val" / "leak.txt", ROW)
    _write(root / "labels" / "val" / "c.txt", ROW)
    _write(root / "data.yaml", "train: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog\n  2: bird\n")
    return root


def _rules_for(report, **where) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in report.findings:
        if all(str(getattr(f, k)) == str(v) for k, v in where.items()):
            out.setdefault(f.rule, []).append(f)
    return out


def test_same_stem_orphan_leakage_duplicates_classes(split_dataset):
    root = split_dataset
    report = run_check(root, options=CheckOptions(min_instances=6))
    train, val = root / "images" / "train", root / "images" / "val"
    assert "dataset.same_stem" in _rules_for(report, image=train / "a.jpg")
    assert "dataset.same_stem" in _rules_for(report, image=train / "a.png")
    assert "dataset.orphan_label" in _rules_for(report, label=root / "labels" / "train" / "orphan.txt")
    leak = _rules_for(report, image=val / "leak.jpg")["dataset.leakage"]
    assert "b.jpg" in leak[0].message and leak[0].severity == Severity.WARNING
    dup = _rules_for(report, image=train / "b_copy.jpg")
    assert "dataset.duplicate_image" in dup
    assert "dataset.leakage" not in _rules_for(report, image=train / "b_twin.jpg")
    assert "dataset.duplicate_image" not in _rules_for(report, image=train / "b_twin.jpg")
    assert "dataset.duplicate_image" not in _rules_for(report, image=val / "c.jpg")
    by_rule = report.by_rule()
    assert [f.message for f in by_rule["dataset.unused_class"]] == ["class 2 'bird' has no instances in the "
                                                                     "training split"]
    rare = {f.message.split("'")[1] for f in by_rule["dataset.rare_class"]}
    assert rare == {"cat", "dog"}  # 5 images x 1 instance each in train (a.png shares a.txt)
    assert report.summary["instances"]["train"] == {"cat": 5, "dog": 5}
    assert report.summary["instances"]["val"] == {"cat": 2}
    assert report.ok  # nothing here makes the trainer drop, alter or reject


def test_leakage_can_be_switched_off(split_dataset):
    report = run_check(split_dataset, options=CheckOptions(leakage=False, disabled=frozenset({"dataset.rare_class"})))
    assert "dataset.leakage" not in report.by_rule()
    assert "dataset.rare_class" not in report.by_rule()


def test_rule_prefix_can_be_disabled(split_dataset):
    report = run_check(split_dataset, options=CheckOptions(disabled=frozenset({"dataset."})))
    assert not [f for f in report.findings if f.rule.startswith("dataset.")]


@pytest.mark.parametrize("yaml_text, rule, line", [
    ("train: images/train\nnames: [cat, dog, bird]\n", "datayaml.keys", None),
    ("train: images/train\nval: images/val\nnc: 2\nnames: [cat, dog, bird]\n", "datayaml.nc", 3),
    ("train: images/train\nval: images/val\nnc: two\n", "datayaml.nc", 3),
    ("train: images/train\nval: images/nowhere\nnames: [cat, dog, bird]\n", "datayaml.split_path", 2),
    ("train: images/train\nval: images/val\n", "datayaml.names", None),
    ("train: [images/train\n", "datayaml.syntax", 2),
])
def test_data_yaml_problems_are_errors_with_lines(split_dataset, yaml_text, rule, line):
    (split_dataset / "data.yaml").write_text(yaml_text)
    report = run_check(split_dataset / "data.yaml")
    found = report.by_rule().get(rule)
    assert found, [str(f) for f in report.findings]
    assert found[0].severity == Severity.ERROR and found[0].label == str(split_dataset / "data.yaml")
    assert found[0].line == line
    assert found[0].fix
    assert not report.ok


def test_no_labels_and_no_valid_images(tmp_path):
    root = tmp_path / "ds"
    _write(root / "images" / "train" / "a.jpg", jpeg())
    _write(root / "images" / "val" / "b.jpg", b"")
    _write(root / "labels" / "val" / "b.txt", ROW)
    _write(root / "classes.txt", "cat\n")
    report = run_check(root)
    messages = {f.rule: f.message for f in report.findings if f.image is None}
    assert "No labels found" in messages["dataset.no_labels"]
    assert "No valid images found in the val split" in messages["dataset.no_valid_images"]
    assert not report.ok


def test_no_class_names_is_reported(tmp_path):
    _write(tmp_path / "a.jpg", jpeg())
    _write(tmp_path / "a.txt", "9 0.5 0.5 0.2 0.2\n")
    report = run_check(tmp_path)
    assert "dataset.no_classes" in report.by_rule()
    assert "label.class_range" not in report.by_rule()  # cannot be judged without nc


def test_every_rule_has_metadata():
    assert len(RULES) >= 30
    for rule in RULES.values():
        assert rule.id.split(".")[0] in ("image", "label", "box", "exif", "dataset"), rule.id
        assert rule.title and rule.fix and rule.severity in Severity
        assert rule.source in ("ultralytics", "darknet", "labeltrain")
        if rule.effect != "none":
            assert rule.severity == Severity.ERROR, rule.id  # the trainer drops, alters or rejects: an error


# ---------------------------------------------------------------------------------------------------------
# The sample project
# ---------------------------------------------------------------------------------------------------------
EXPECTED = {  # mistake kind -> rule that must report it
    "class_out_of_range": "label.class_range",
    "duplicate_row": "label.duplicate",
    "non_normalized": "label.non_normalized",
    "negative_coordinate": "label.negative",
    "zero_width": "box.zero_area",
    "four_columns": "label.columns",
    "missing_label_file": "label.missing",
    "exif_rotated": "exif.rotated",
    "orphan_label": "dataset.orphan_label",
}
NOT_FINDABLE = {"swapped_class", "missing_box"}  # only a trained model disputing the labels finds these
VALID = {"crlf_bom", "exif_rotated"}  # correct input: no error or warning allowed


def test_check_finds_every_planted_mistake_in_the_sample_project():
    mistakes = json.loads((SAMPLE / "mistakes.json").read_text())["mistakes"]
    report = run_check(SAMPLE)
    kinds = {m["kind"] for m in mistakes}
    assert kinds <= set(EXPECTED) | NOT_FINDABLE | VALID, kinds - set(EXPECTED) - NOT_FINDABLE - VALID
    for m in mistakes:
        kind = m["kind"]
        image, label = str(SAMPLE / m["image"]), str(SAMPLE / m["file"])
        mine = [f for f in report.findings if f.image == image or f.label == label]
        if kind in VALID:
            assert not [f for f in mine if f.severity != Severity.INFO], (kind, [str(f) for f in mine])
        if kind not in EXPECTED:
            continue
        hits = [f for f in mine if f.rule == EXPECTED[kind]]
        assert hits, f"{kind}: {EXPECTED[kind]} not reported; got {[str(f) for f in mine]}"
        if m.get("line"):
            assert hits[0].line == m["line"] and hits[0].label == label, (kind, str(hits[0]))
        if m["severity"] == "error":
            assert image in report.rejected_images(), kind
    errors = {f.label for f in report.errors()}
    planted_errors = {str(SAMPLE / m["file"]) for m in mistakes if m["severity"] == "error"}
    assert planted_errors <= errors
    # nothing else is wrong in the sample: every error is a planted one (or the planted duplicate row)
    assert errors <= planted_errors | {str(SAMPLE / "labels" / "sample_0013.txt")}


def test_check_does_not_touch_the_dataset(tmp_path):
    copy = tmp_path / "sample"
    shutil.copytree(SAMPLE, copy)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    run_check(copy, options=CheckOptions(executor="process", workers=2))
    after = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert before == after
