"""Run folders: unique names and the run history (labeltrain runs and plain Ultralytics runs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from labeltrain.training.events import EpochEnd, EventWriter, Failed, FinalEval, Finished, RunStarted, Stopped
from labeltrain.training.runs import list_runs, new_run_dir, summarize_run
from tests.training.test_events import RESULTS_CSV


def test_new_run_dir_increments(tmp_path: Path) -> None:
    assert new_run_dir(tmp_path).name == "train"
    assert new_run_dir(tmp_path).name == "train2"
    assert new_run_dir(tmp_path, "exp").name == "exp"
    assert new_run_dir(tmp_path, "exp").name == "exp2"


def _write(run_dir: Path, *events) -> None:
    writer = EventWriter(run_dir)
    for event in events:
        writer.write(event)


def test_history_of_labeltrain_runs(tmp_path: Path) -> None:
    done = tmp_path / "train"
    (done / "weights").mkdir(parents=True)
    (done / "weights" / "best.pt").write_bytes(b"pt")
    _write(done, RunStarted(epochs=2, model="yolo26n.yaml", time=100.0),
           EpochEnd(epoch=1, map50=0.2, map50_95=0.1, fitness=0.1),
           EpochEnd(epoch=2, map50=0.5, map50_95=0.3, fitness=0.3),
           FinalEval(best_epoch=2, map50=0.55, map50_95=0.31), Finished(best_epoch=2))
    failed = tmp_path / "train2"
    _write(failed, RunStarted(epochs=5, time=200.0), Failed(kind="data", message="bad labels"))
    stopped = tmp_path / "train3"
    _write(stopped, RunStarted(epochs=5, time=300.0), EpochEnd(epoch=1, map50=0.1, map50_95=0.05, fitness=0.05),
           Stopped(epoch=1))
    (tmp_path / "not-a-run").mkdir()

    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["train3", "train2", "train"]  # newest first
    by_name = {r.name: r for r in runs}
    assert by_name["train"].status == "finished"
    assert (by_name["train"].map50, by_name["train"].map50_95) == (0.55, 0.31)  # best.pt's final evaluation
    assert by_name["train"].best_epoch == 2 and by_name["train"].epochs_done == 2
    assert by_name["train"].weights == done / "weights" / "best.pt" and by_name["train"].model == "yolo26n.yaml"
    assert by_name["train2"].status == "failed" and by_name["train2"].message == "bad labels"
    assert by_name["train3"].status == "stopped" and by_name["train3"].map50 == 0.1


def test_running_and_interrupted(tmp_path: Path) -> None:
    _write(tmp_path / "live", RunStarted(epochs=5), EpochEnd(epoch=1))
    assert summarize_run(tmp_path / "live").status == "running"
    _write(tmp_path / "dead", RunStarted(epochs=5), EpochEnd(epoch=1))
    old = time.time() - 3600
    os.utime(tmp_path / "dead" / "events.jsonl", (old, old))
    assert summarize_run(tmp_path / "dead").status == "interrupted"
    _write(tmp_path / "resumed", RunStarted(), Stopped(), RunStarted(resumed=True))
    assert summarize_run(tmp_path / "resumed").status == "running"


def test_history_of_plain_ultralytics_runs(tmp_path: Path) -> None:
    run = tmp_path / "detect" / "train"  # Ultralytics' runs/detect/train layout
    run.mkdir(parents=True)
    (run / "results.csv").write_text(RESULTS_CSV)
    (run / "args.yaml").write_text("model: yolo11n.yaml\nepochs: 3\n")
    old = time.time() - 3600
    os.utime(run / "results.csv", (old, old))
    (summary,) = list_runs(tmp_path)
    assert summary.source == "results.csv" and summary.status == "finished"
    assert (summary.epochs_done, summary.epochs, summary.best_epoch, summary.map50) == (3, 3, 2, 0.6)
    (run / "args.yaml").write_text("epochs: 10\n")
    assert summarize_run(run).status == "incomplete"
