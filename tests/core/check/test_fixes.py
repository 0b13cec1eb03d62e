"""Safe fixes: the plan says what changes, the files change exactly so (bytes before/after), a backup keeps the
originals, undo restores them, and a plan made stale by another edit writes nothing."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from labeltrain.core.check import CheckOptions, run_check
from labeltrain.core.check.fixes import (
    BACKUP_DIR,
    FIXES,
    StalePlanError,
    apply_fix,
    fix_for_rule,
    plan_fix,
    undo_fix,
)
from tests.core.check.corpus import exif_jpeg, jpeg

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "sample"


def _dataset(root: Path, labels: dict[str, bytes | None], images: dict[str, bytes] | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "classes.txt").write_text("cat\ndog\nbird\n")
    for name, data in labels.items():
        (root / "images" / f"{name}.jpg").write_bytes((images or {}).get(name, jpeg()))
        if data is not None:
            (root / "labels" / f"{name}.txt").write_bytes(data)
    return root


def _backups(root: Path) -> list[Path]:
    folder = root / BACKUP_DIR
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _check(root: Path):
    return run_check(root, options=CheckOptions(executor="serial"))


def test_dedupe_rows_keeps_bom_line_endings_and_other_lines(tmp_path):
    before = b"\xef\xbb\xbf0 0.5 0.5 0.2 0.2\r\n1 0.3 0.3 0.1 0.1\r\n0 0.50 0.5 0.2 0.2\r\n2 0.7 0.7 0.1 0.1"
    root = _dataset(tmp_path / "ds", {"a": before})
    label = root / "labels" / "a.txt"
    plan = plan_fix("label.duplicate", _check(root))
    assert plan.fix == "dedupe_rows" and len(plan.changes) == 1
    change = plan.changes[0]
    assert change.path == str(label) and change.before == before
    assert change.after == b"\xef\xbb\xbf0 0.5 0.5 0.2 0.2\r\n1 0.3 0.3 0.1 0.1\r\n2 0.7 0.7 0.1 0.1"
    assert "line 3" in plan.describe() and "repeats line 1" in plan.describe()
    assert label.read_bytes() == before  # planning writes nothing
    result = apply_fix(plan)
    assert label.read_bytes() == change.after
    backup = Path(result.backup_dir)
    assert backup.parent == root / BACKUP_DIR
    assert (backup / "labels" / "a.txt").read_bytes() == before
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["fix"] == "dedupe_rows" and manifest["modified"][0]["path"] == str(label)
    assert "label.duplicate" not in _check(root).by_rule()
    assert undo_fix(backup) == [str(label)]
    assert label.read_bytes() == before


def test_clip_boxes(tmp_path):
    before = (b"2 -0.03125 0.5 0.265625 0.2375\n"   # the sample's negative_coordinate mistake
              b"1 0.95 0.5 0.2 0.2\n"               # past the right edge
              b"0 224.5 199.5 63 69\n"              # pixels: outside the image, left alone
              b"0 0.5 0.5 0.2 0.2\n")
    root = _dataset(tmp_path / "ds", {"a": before})
    plan = plan_fix("clip_boxes", _check(root))
    assert plan.changes[0].after == (b"2 0.05078125 0.5 0.1015625 0.2375\n"
                                     b"1 0.925 0.5 0.15 0.2\n"
                                     b"0 224.5 199.5 63 69\n"
                                     b"0 0.5 0.5 0.2 0.2\n")
    assert any("outside the image" in s and ":3:" in s for s in plan.skipped)
    apply_fix(plan)
    rules = _check(root).by_rule()
    assert "label.negative" not in rules and "box.past_edge" not in rules
    assert "label.non_normalized" in rules  # still there: fix by hand


def test_drop_zero_area(tmp_path):
    before = b"0 0.5 0.5 0.2 0.2\n1 0.33125 0.44375 0 0.1541666667\n"
    root = _dataset(tmp_path / "ds", {"a": before, "b": b"1 0.3 0.3 0.1 0\n"})
    plan = plan_fix("box.zero_area", _check(root))
    after = {Path(c.path).name: c.after for c in plan.changes}
    assert after == {"a.txt": b"0 0.5 0.5 0.2 0.2\n", "b.txt": b""}
    assert any("now empty" in line for c in plan.changes for line in c.changes)
    apply_fix(plan)
    assert (root / "labels" / "b.txt").read_bytes() == b""


def test_remap_class(tmp_path):
    root = _dataset(tmp_path / "ds", {"a": b"0 0.5 0.5 0.2 0.2\n7 0.4 0.4 0.1 0.1\n", "b": b"1 0.5 0.5 0.2 0.2\n"})
    report = _check(root)
    with pytest.raises(ValueError):
        plan_fix("remap_class", report)
    with pytest.raises(ValueError):
        plan_fix("remap_class", report, mapping={7: 3})  # 3 is not a class of a 3-class dataset
    plan = plan_fix("label.class_range", report, mapping={7: 0})
    assert [Path(c.path).name for c in plan.changes] == ["a.txt"]
    assert plan.changes[0].after == b"0 0.5 0.5 0.2 0.2\n0 0.4 0.4 0.1 0.1\n"
    assert "class 7 -> 0" in plan.describe()
    merge = plan_fix("remap_class", report, mapping={1: 2}, all_files=True)  # merge 'dog' into 'bird'
    assert [Path(c.path).name for c in merge.changes] == ["b.txt"]
    assert merge.changes[0].after == b"2 0.5 0.5 0.2 0.2\n"


def test_create_empty_labels_and_undo(tmp_path):
    root = _dataset(tmp_path / "ds", {"a": None, "b": b"0 0.5 0.5 0.2 0.2\n"})
    plan = plan_fix("label.missing", _check(root))
    label = root / "labels" / "a.txt"
    assert [(c.path, c.before, c.after, c.action) for c in plan.changes] == [(str(label), None, b"", "create")]
    result = apply_fix(plan)
    assert label.read_bytes() == b""
    report = _check(root)
    assert "label.missing" not in report.by_rule() and "label.empty" in report.by_rule()
    manifest = json.loads((Path(result.backup_dir) / "manifest.json").read_text())
    assert manifest["created"] == [str(label)]
    assert undo_fix(result.backup_dir) == [str(label)]
    assert not label.exists()


def test_bake_exif_rotation(tmp_path):
    original = exif_jpeg(6, 64, 48)
    root = _dataset(tmp_path / "ds", {"r": b"0 0.5 0.25 0.2 0.1\n"}, {"r": original})
    image = root / "images" / "r.jpg"
    plan = plan_fix("exif.rotated", _check(root))
    assert plan.fix == "bake_exif" and plan.changes[0].path == str(image)
    assert "64x48 -> 48x64" in plan.describe() and "labels unchanged" in plan.describe()
    result = apply_fix(plan)
    with Image.open(image) as im:
        assert im.size == (48, 64) and im.getexif().get(274, 1) == 1
        baked = np.asarray(im.convert("RGB"), dtype=np.int16)
    with Image.open(io.BytesIO(original)) as im:
        expected = np.asarray(ImageOps.exif_transpose(im).convert("RGB"), dtype=np.int16)
    assert np.abs(baked - expected).mean() < 4  # same picture, re-encoded
    assert (Path(result.backup_dir) / "images" / "r.jpg").read_bytes() == original
    assert (root / "labels" / "r.txt").read_bytes() == b"0 0.5 0.25 0.2 0.1\n"
    assert "exif.rotated" not in _check(root).by_rule()


def test_stale_plan_writes_nothing(tmp_path):
    root = _dataset(tmp_path / "ds", {"a": b"0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n"})
    plan = plan_fix("dedupe_rows", _check(root))
    label = root / "labels" / "a.txt"
    label.write_bytes(b"1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n")  # someone edits the file meanwhile
    with pytest.raises(StalePlanError):
        apply_fix(plan)
    assert label.read_bytes() == b"1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n"
    assert _backups(root) == []


def test_fix_lookup():
    assert fix_for_rule("label.duplicate") == "dedupe_rows"
    assert fix_for_rule("box.past_edge") == fix_for_rule("label.negative") == "clip_boxes"
    assert fix_for_rule("dedupe_rows") == "dedupe_rows"
    assert fix_for_rule("image.too_small") is None
    assert set(FIXES) == {"dedupe_rows", "clip_boxes", "drop_zero_area", "remap_class", "create_empty_labels",
                          "bake_exif"}
    with pytest.raises(KeyError):
        plan_fix("image.too_small", run_check(SAMPLE))


def test_fixing_the_sample_project(tmp_path):
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root)
    for fix_id, params in [("dedupe_rows", {}), ("clip_boxes", {}), ("drop_zero_area", {}),
                           ("remap_class", {"mapping": {7: 0}})]:
        plan = plan_fix(fix_id, _check(root), **params)
        assert not plan.empty, fix_id
        apply_fix(plan)
    rules = _check(root).by_rule()
    for gone in ("label.duplicate", "label.negative", "box.zero_area", "label.class_range"):
        assert gone not in rules, gone
    assert "label.non_normalized" in rules and "label.columns" in rules  # need a human
    assert len(_backups(root)) == 4
