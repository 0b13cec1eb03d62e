"""The runner: identical findings whichever executor runs the per-image rules, progress, cancel, the report's
JSON shape, and `labeltrain check` (exit codes, --json, --fix, --dry-run)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from labeltrain.cli import main
from labeltrain.core.check import CheckOptions, check_image_file, resolve_executor, run_check
from labeltrain.core.check.runner import files_are_cold
from labeltrain.core.dataset import discover
from tests.core.check import corpus

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "sample"


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    corpus.build(root)
    return root


def _key(report):
    return [(f.image, f.label, f.line, f.rule, f.severity, f.message) for f in report.findings]


@pytest.mark.parametrize("executor", ["process", "thread"])
def test_executors_give_the_same_report(corpus_root, executor):
    serial = run_check(corpus_root, options=CheckOptions(executor="serial"))
    other = run_check(corpus_root, options=CheckOptions(executor=executor, workers=2, chunk_size=7))
    assert other.summary["executor"] == executor
    assert _key(other) == _key(serial)
    for k in ("images", "labels_found", "labels_missing", "images_rejected", "boxes", "instances"):
        assert other.summary[k] == serial.summary[k], k


def test_process_pool_from_a_threaded_caller(corpus_root):
    """A GUI calls from a worker thread while other threads run: the pool then uses a fork server."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        result: list = []
        t = threading.Thread(target=lambda: result.append(
            run_check(corpus_root, options=CheckOptions(executor="process", workers=2, chunk_size=20))))
        t.start()
        t.join(120)
    finally:
        stop.set()
    serial = run_check(corpus_root, options=CheckOptions(executor="serial"))
    assert result and _key(result[0]) == _key(serial)


def test_resolve_executor():
    assert resolve_executor(CheckOptions(), 10)[0] == "serial"  # small: a pool costs more than it saves
    assert resolve_executor(CheckOptions(executor="process", workers=2), 10) == ("process", 2)
    assert resolve_executor(CheckOptions(executor="thread", workers=3), 10) == ("thread", 3)
    assert resolve_executor(CheckOptions(workers=1, executor="process"), 100_000)[0] == "serial"
    with pytest.raises(ValueError):
        resolve_executor(CheckOptions(executor="gpu"), 10)


def test_cold_probe(corpus_root):
    images = [str(p) for p in (corpus_root / "images").iterdir()]
    for path in images:
        Path(path).read_bytes()
    assert files_are_cold(images) is False
    if hasattr(os, "posix_fadvise"):
        for path in images:
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        assert files_are_cold(images) in (True, False)  # a tmpfs keeps everything: any answer, no error


def test_progress_reaches_the_total(corpus_root):
    calls = []
    report = run_check(corpus_root, options=CheckOptions(executor="serial", chunk_size=10),
                       progress=lambda done, total: calls.append((done, total)))
    total = report.summary["images"]
    assert calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) > 5


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_cancel_stops_early(corpus_root, executor):
    seen = []
    report = run_check(corpus_root, options=CheckOptions(executor=executor, workers=2, chunk_size=5),
                       progress=lambda done, total: seen.append(done), cancelled=lambda: bool(seen))
    assert report.cancelled and report.summary["cancelled"]
    assert report.summary["images"] < report.summary["images_total"]
    assert "(cancelled: incomplete)" in report.format_text()


def test_a_discovered_dataset_can_be_passed(corpus_root):
    ds = discover(corpus_root)
    report = run_check(ds, options=CheckOptions(executor="serial"))
    assert report.dataset is ds and report.summary["images"] == len(ds.items)


def test_check_image_file_for_one_image(corpus_root):
    r = check_image_file(corpus_root / "images" / "lbl_duplicate.jpg", corpus_root / "labels" / "lbl_duplicate.txt",
                         nc=corpus.NC)
    assert not r.rejected and r.labels.kept == 2 and len(r.labels.rows) == 3
    assert [f.rule for f in r.findings] == ["label.duplicate"]
    assert r.labels.rows[2].values == (0.0, 0.5, 0.5, pytest.approx(0.2), pytest.approx(0.2))
    assert (r.facts.width, r.facts.height, r.facts.format) == (64, 48, "JPEG")


def test_json_report_shape():
    data = run_check(SAMPLE).to_json()
    assert set(data) == {"summary", "findings"}
    assert {"images", "errors", "warnings", "images_rejected", "instances"} <= set(data["summary"])
    for f in data["findings"]:
        assert {"image", "label", "line", "rule", "severity", "message"} <= set(f)
    json.dumps(data)


# ---------------------------------------------------------------------------------------------------------
# labeltrain check
# ---------------------------------------------------------------------------------------------------------
def test_cli_exit_codes_and_text(tmp_path, capsys):
    assert main(["check", str(SAMPLE)]) == 1
    out = capsys.readouterr().out
    assert "ERROR label.class_range" in out and "sample_0007.txt:2" in out and "would ignore 4 images" in out
    clean = tmp_path / "clean"
    (clean / "images").mkdir(parents=True)
    (clean / "labels").mkdir()
    (clean / "images" / "a.jpg").write_bytes(corpus.jpeg())
    (clean / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (clean / "classes.txt").write_text("cat\n")
    assert main(["check", str(clean)]) == 0
    assert main(["check", str(tmp_path / "nowhere")]) == 1
    assert main(["check", str(SAMPLE), "--fix", "image.too_small"]) == 2
    assert main(["check", str(SAMPLE), "--fix", "label.class_range"]) == 2  # needs --remap
    assert main(["check", str(SAMPLE), "--fix", "remap_class", "--remap", "seven:0"]) == 2
    assert main(["check"]) == 2


def test_cli_json(capsys):
    assert main(["check", str(SAMPLE), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["errors"] == 5 and data["summary"]["images"] == 150
    rules = {(Path(f["label"]).name if f["label"] else None, f["line"], f["rule"]) for f in data["findings"]}
    assert ("sample_0007.txt", 2, "label.class_range") in rules


def test_cli_fix_and_dry_run(tmp_path, capsys):
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root)
    label = root / "labels" / "sample_0013.txt"
    before = label.read_bytes()
    assert main(["check", str(root), "--fix", "label.duplicate", "--dry-run"]) == 1
    assert "Remove duplicate rows: 1 file" in capsys.readouterr().out
    assert label.read_bytes() == before
    assert main(["check", str(root), "--json", "--fix", "label.duplicate", "box.zero_area", "clip_boxes",
                 "label.class_range", "--remap", "7:0"]) == 1  # pixels and 4 columns still need a human
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert "originals kept in" in captured.err
    assert {f["rule"] for f in data["findings"]} & {"label.duplicate", "box.zero_area", "label.class_range",
                                                    "label.negative"} == set()
    assert label.read_bytes() != before
    assert len(list((root / ".labeltrain" / "backups").iterdir())) == 4
