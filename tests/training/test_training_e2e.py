"""Real trainings (no mocks) on the tiny generated dataset, imgsz 64: through the runner and the CLI, a failure
then a good run, stop / crash / resume in one run folder, Ctrl+C on the CLI then --resume."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labeltrain.cli import main as cli_main
from labeltrain.training.config import TrainConfig
from labeltrain.training.env import ultralytics_config_dir
from labeltrain.training.events import EpochEnd, Failed, FinalEval, Finished, RunStarted, Stopped
from labeltrain.training.reader import epoch_history, read_events, results_csv_events
from labeltrain.training.runner import ConfigError, TrainingRun
from labeltrain.training.runs import list_runs
from tests.training.synthetic import make_dataset

pytestmark = pytest.mark.slow
TIMEOUT = 240  # seconds for one training segment on a busy 2-core machine


def tiny(data: Path, project: Path, **changes) -> TrainConfig:
    base = TrainConfig(data=str(data), epochs=2, imgsz=64, batch=8, device="cpu", workers=0, project=str(project),
                       extra={"plots": False})
    return base.with_changes(**changes)


def _csv_epochs(run_dir: Path) -> list[int]:
    return [e.epoch for e in results_csv_events((run_dir / "results.csv").read_text())]


def _sane(value: float) -> bool:
    return math.isfinite(value) and 0.0 <= value <= 1.0


def _bad_dataset(root: Path) -> Path:
    """Images fine, every label's class id out of range: Ultralytics rejects all images."""
    data = make_dataset(root, n_train=4, n_val=2)
    for label in root.glob("labels/*/*.txt"):
        label.write_text("".join("7" + line[1:] + "\n" for line in label.read_text().splitlines()))
    return data


def test_runner_reports_bad_data_then_trains_end_to_end(tiny_data: Path, tmp_path: Path) -> None:
    project = tmp_path / "runs"
    run = TrainingRun()
    with pytest.raises(ConfigError) as missing:
        run.start(tiny(tmp_path / "missing.yaml", project))
    assert missing.value.problems == [f"data not found: {tmp_path / 'missing.yaml'}"]

    run.start(tiny(_bad_dataset(tmp_path / "bad"), project))
    failed = run.wait(timeout=TIMEOUT)
    assert isinstance(failed, Failed) and failed.kind == "data", failed
    assert "Label class 7 exceeds dataset class count 2" in failed.message
    assert not run.is_running

    seen = []
    run.on_event = seen.append  # the next run with the same object works
    config = tiny(tiny_data, project, name="good", extra={"plots": True})
    run_dir = run.start(config)
    result = run.wait(timeout=TIMEOUT)
    assert isinstance(result, Finished), result
    assert seen == run.history and not run.is_running and run.returncode == 0

    types = [e.type for e in seen if e.type != "status"]
    assert types[0] == "run_started" and types[-2:] == ["final_eval", "finished"]
    started = next(e for e in seen if isinstance(e, RunStarted))
    assert (started.train_images, started.val_images, started.batches, started.epochs) == (12, 4, 2, 2)
    assert [e.epoch for e in seen if e.type == "checkpoint_saved"] == [1, 2]
    epochs = [e for e in seen if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2]
    for epoch in epochs:
        assert set(epoch.train_losses) == {"box_loss", "cls_loss", "l1_loss"}  # YOLO26's loss names
        assert all(math.isfinite(v) and v > 0 for v in epoch.train_losses.values())
        assert set(epoch.val_losses) == set(epoch.train_losses)
        assert all(_sane(v) for v in (epoch.precision, epoch.recall, epoch.map50, epoch.map50_95))
        assert epoch.lr and all(0 < v < 1 for v in epoch.lr.values())
    batches = [e for e in seen if e.type == "batch"]
    assert {e.epoch for e in batches} == {1, 2} and all(e.batches == 2 for e in batches)
    final = next(e for e in seen if isinstance(e, FinalEval))
    assert _sane(final.map50) and final.weights == str(run_dir / "weights" / "best.pt")
    assert result.weights == final.weights and result.epochs_done == 2 and result.map50 == final.map50

    assert run_dir == project / "good"
    assert (run_dir / "weights" / "best.pt").stat().st_size > 100_000
    assert (run_dir / "weights" / "last.pt").is_file()
    assert _csv_epochs(run_dir) == [1, 2]
    assert (run_dir / "results.png").is_file()  # plots made offline with the local font
    assert (ultralytics_config_dir() / "Ultralytics" / "Arial.ttf").is_file()
    settings = json.loads((ultralytics_config_dir() / "Ultralytics" / "settings.json").read_text())
    assert settings["sync"] is False
    assert TrainConfig.load(run_dir / "config.yaml") == config.with_changes(project=str(project), name="good")
    assert [e.type for e in read_events(run_dir)] == [e.type for e in seen]
    assert (run_dir / "train.log").stat().st_size > 0

    statuses = {r.name: r.status for r in list_runs(project)}
    assert statuses == {"train": "failed", "good": "finished"}


def test_stop_crash_and_resume_continue_the_same_run(tiny_data: Path, tmp_path: Path) -> None:
    run = TrainingRun()
    run_dir = run.start(tiny(tiny_data, tmp_path / "runs", epochs=3))
    watcher = TrainingRun()  # like a GUI pointed at a run folder that another machine writes to
    watcher.watch(run_dir)
    asked = None
    for event in run.events(timeout=TIMEOUT):
        if isinstance(event, EpochEnd) and event.epoch == 1:
            asked = time.time()
            watcher.stop()  # through a STOP file in the run folder (the owner's stop() sends SIGTERM)
    stopped = run.result
    assert isinstance(stopped, Stopped), stopped
    assert stopped.resumable and stopped.epoch == 1 and stopped.checkpoint == str(run_dir / "weights" / "last.pt")
    assert stopped.time - asked < 5.0  # ~0.3 s measured: the file is looked at every 0.25 s
    assert not (run_dir / "STOP").exists()
    watched = list(watcher.events(timeout=10))
    assert [e.type for e in watched] == [e.type for e in run.history]
    assert watcher.result == stopped and not watcher.is_running

    run.resume(run_dir)
    for event in run.events(timeout=TIMEOUT):
        if isinstance(event, EpochEnd) and event.epoch == 2:
            run.kill()  # the child dies without a word
    crashed = run.result
    assert isinstance(crashed, Failed) and crashed.kind == "crashed", crashed
    assert "SIGKILL" in crashed.message and crashed.checkpoint == str(run_dir / "weights" / "last.pt")

    run.resume(run_dir)
    finished = run.wait(timeout=TIMEOUT)
    assert isinstance(finished, Finished), finished
    assert finished.epochs_done == 3
    assert _csv_epochs(run_dir) == [1, 2, 3]
    events = read_events(run_dir)
    starts = [e for e in events if isinstance(e, RunStarted)]
    assert [(s.start_epoch, s.resumed) for s in starts] == [(1, False), (2, True), (3, True)]
    assert [e.epoch for e in epoch_history(events)] == [1, 2, 3]
    assert [e.type for e in events if e.terminal] == ["stopped", "failed", "finished"]


def test_nan_loss_fails_the_run_with_its_message(tiny_data: Path, tmp_path: Path) -> None:
    """A real NaN: a NaN box-loss gain makes the trainer's loss NaN from the first batch."""
    run = TrainingRun()
    run.start(tiny(tiny_data, tmp_path / "runs", batch=4, extra={"plots": False, "box": math.nan}))
    failed = run.wait(timeout=TIMEOUT)
    assert isinstance(failed, Failed) and failed.kind == "nan", failed
    assert failed.message == ("The training loss became NaN (not a number): non-finite loss (nan) for 3 batches "
                              "in a row in epoch 1")
    assert "lr0" in failed.hint
    losses = [e.losses["box_loss"] for e in run.history if e.type == "batch"]
    assert losses and all(math.isnan(v) for v in losses)


def _train_args(data: Path, project: Path, epochs: int) -> list[str]:
    return ["train", str(data), "--epochs", str(epochs), "--imgsz", "64", "--batch", "8", "--device", "cpu",
            "--project", str(project), "--set", "plots=false"]


def test_cli_trains(tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(_train_args(tiny_data, tmp_path / "runs", 2)) == 0
    out = capsys.readouterr().out
    run_dir = tmp_path / "runs" / "train"
    assert f"run folder {run_dir}" in out
    assert "epoch 1/2  train box " in out and "epoch 2/2" in out and "mAP50-95" in out
    assert "finished in" in out and str(run_dir / "weights" / "best.pt") in out
    assert _csv_epochs(run_dir) == [1, 2]
    assert [e.type for e in read_events(run_dir) if e.terminal] == ["finished"]
    assert cli_main(["train", str(tiny_data), "--imgsz", "100", "--model", "yolo26n.pt"]) == 1
    err = capsys.readouterr().err
    assert "multiple of 32" in err and "choose a local .pt file" in err
    assert cli_main(["train"]) == 2


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT like Ctrl+C in a terminal")
def test_cli_ctrl_c_and_a_dying_cli_stop_resumably(tiny_data: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "labeltrain", *_train_args(tiny_data, tmp_path / "runs", 3)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("epoch 1/3"):
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=TIMEOUT)
    out = "".join(lines) + out
    run_dir = tmp_path / "runs" / "train"
    assert proc.returncode == 130, (out, err)
    assert "stopped after epoch 1" in out and f"resume with: labeltrain train --resume {run_dir}" in out
    assert "stopping" in err

    # The CLI (or GUI) dies: its training child notices, stops cleanly and stays resumable.
    resume = [sys.executable, "-m", "labeltrain", "train", "--resume", str(run_dir)]
    orphaning = subprocess.Popen(resume, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in orphaning.stdout:
        if line.startswith("epoch 2/3"):
            orphaning.kill()
            break
    orphaning.wait(timeout=TIMEOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(e.terminal for e in read_events(run_dir)[-1:]):
        time.sleep(0.2)
    last = read_events(run_dir)[-1]
    assert isinstance(last, Stopped) and last.resumable and last.epoch == 2, last

    resumed = subprocess.run(resume, capture_output=True, text=True, timeout=TIMEOUT)
    assert resumed.returncode == 0, (resumed.stdout, resumed.stderr)
    assert "resuming last.pt" in resumed.stdout and "epochs 3-3" in resumed.stdout
    assert "epoch 3/3" in resumed.stdout and "finished in" in resumed.stdout
    assert _csv_epochs(run_dir) == [1, 2, 3]
