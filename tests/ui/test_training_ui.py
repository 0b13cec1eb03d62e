"""The training tab on real trainings (child processes, tiny: 16 generated images at 64 px): live curves, a
failure then a good run, stop then resume in the same run folder, watching a run folder that grows, the run
history, and the settings form's plain-language validation. Screenshots go to $LABELTRAIN_SCREENSHOTS."""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from labeltrain.core.dataset import discover
from labeltrain.training.config import TrainConfig
from labeltrain.training.events import EpochEnd, Finished, RunStarted, Stopped
from labeltrain.training.reader import RESULTS_CSV, read_events
from labeltrain.training.runner import TrainingRun
from labeltrain.ui.app import apply_style
from labeltrain.ui.training import TrainingPanel
from labeltrain.ui.training.config_form import ConfigForm
from labeltrain.ui.training.curves import TrainingCurves
from labeltrain.ui.training.data_source import prepare_clean_data, snapshot
from tests.training.synthetic import make_dataset

TIMEOUT_MS = 240_000  # one tiny training on a busy 2-core machine


@pytest.fixture(scope="module", autouse=True)
def _isolated_data_home(tmp_path_factory: pytest.TempPathFactory):
    """The training children inherit this: their Ultralytics settings and fonts go to a temporary folder."""
    old = os.environ.get("LABELTRAIN_DATA_DIR")
    os.environ["LABELTRAIN_DATA_DIR"] = str(tmp_path_factory.mktemp("labeltrain-home"))
    yield
    if old is None:
        os.environ.pop("LABELTRAIN_DATA_DIR", None)
    else:
        os.environ["LABELTRAIN_DATA_DIR"] = old


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder written by the engine itself (2 epochs), to replay and watch."""
    data = make_dataset(tmp_path_factory.mktemp("replay-data"))
    run = TrainingRun()
    run_dir = run.start(tiny(data, tmp_path_factory.mktemp("replay") / "runs"))
    assert isinstance(run.wait(timeout=TIMEOUT_MS / 1000), Finished), run.result
    return run_dir


def tiny(data: Path, project: Path, **changes) -> TrainConfig:
    return TrainConfig(data=str(data), epochs=2, imgsz=64, batch=8, device="cpu", workers=0, project=str(project),
                       extra={"plots": False}).with_changes(**changes)


@pytest.fixture
def panel(qtbot):
    apply_style(QApplication.instance())
    widget = TrainingPanel()
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    yield widget
    widget.shutdown()


def set_tiny(panel: TrainingPanel, root: Path) -> None:
    """Tiny settings for the open dataset, runs in its default folder."""
    panel.form.set_config(tiny(root, root / "runs").with_changes(project=""))


def screenshot(widget, name: str) -> None:
    folder = os.environ.get("LABELTRAIN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / name))


def wait_idle(qtbot, panel: TrainingPanel) -> None:
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)


def series(curves: TrainingCurves, kind: str, name: str) -> tuple[list[float], list[float]]:
    x, y = curves._series[(kind, name)].data()
    return list(x), list(y)


# ---- real trainings through the panel ----
def test_failure_is_shown_then_training_the_open_dataset_works_live(qtbot, panel, tmp_path):
    bad = make_dataset(tmp_path / "bad", n_train=4, n_val=2)
    for label in (tmp_path / "bad").glob("labels/*/*.txt"):  # every class id out of range
        label.write_text("".join("7" + line[1:] + "\n" for line in label.read_text().splitlines()))
    panel.form.set_config(tiny(bad, tmp_path / "bad-runs"))
    assert panel.train()
    wait_idle(qtbot, panel)
    assert panel.summary.kind == "failed" and panel.summary.title.text() == "Training failed"
    assert "Label class 7 exceeds dataset class count 2" in panel.summary.body.text()
    assert panel.controls.train_button.isEnabled() and not panel.controls.stop_button.isEnabled()
    screenshot(panel, "training-failed.png")

    root = tmp_path / "shapes"
    make_dataset(root)
    (root / "labels" / "train" / "train_000.txt").write_text("5 0.5 0.5 0.2 0.2\n")  # the checker excludes it
    panel.set_dataset(discover(root))
    set_tiny(panel, root)
    assert panel.form.uses_dataset() and panel.form.config().data == str(root)
    best: list[str] = []
    panel.bestWeightsChanged.connect(best.append)
    asked_to_save: list[bool] = []
    panel.aboutToTrain.connect(lambda: asked_to_save.append(True))
    live_batches: list[int] = []
    panel.controller.batch.connect(lambda e: live_batches.append(panel.curves._series[("batch", "box_loss")].n))
    assert panel.train()
    qtbot.waitUntil(lambda: panel.tracker.epoch == 2 and panel.tracker.batch >= 1, timeout=TIMEOUT_MS)
    screenshot(panel, "training-during.png")
    wait_idle(qtbot, panel)
    screenshot(panel, "training-after.png")

    assert panel.summary.kind == "finished", panel.summary.body.text()
    run_dir = root / "runs" / "train"
    assert panel.run_dir == run_dir
    assert "11 train" in panel.form.data_note.text() and "1 left out" in panel.form.data_note.text()
    assert "train_000.png" in panel.form.data_note.toolTip()
    assert live_batches and max(live_batches) >= 2  # the per-batch curve grew while the run went on
    x, y = series(panel.curves, "metric", "map50")
    assert x == [1.0, 2.0] and all(0 <= v <= 1 for v in y)
    assert {name for kind, name in panel.curves._series if kind == "batch"} == {"box_loss", "cls_loss", "l1_loss"}
    assert len(panel.curves.final.data) == 4 and panel.curves.best_lines[0].isVisible()
    assert panel.controls.progress.value() == 1000 and "Epoch 2/2" in panel.controls.progress.format()
    assert best and best[-1] == str(run_dir / "weights" / "best.pt") and Path(best[-1]).is_file()
    assert "Starting training for 2 epochs" in panel.log.toPlainText() and asked_to_save == [True]
    assert "mAP50" in panel.summary.body.text() and str(run_dir / "weights" / "best.pt") in panel.summary.body.text()
    assert panel.controls.train_button.isEnabled() and not panel.controls.resume_button.isEnabled()

    qtbot.waitUntil(lambda: panel.history.tree.topLevelItemCount() == 1, timeout=10_000)
    row = panel.history.tree.topLevelItem(0)
    assert [row.text(i) for i in (0, 1, 2)] == ["train", "finished", "2/2"]
    assert math.isfinite(float(row.text(4))) and math.isfinite(float(row.text(5)))


def test_stop_then_resume_from_the_gui_continues_the_same_run(qtbot, panel, tmp_path):
    data = make_dataset(tmp_path / "data")
    panel.form.set_config(tiny(data, tmp_path / "runs", epochs=4))
    started: list[RunStarted] = []
    panel.controller.runStarted.connect(started.append)
    panel.controller.epoch.connect(lambda e: e.epoch == 1 and panel.controls.stop_button.click())
    assert panel.train()
    wait_idle(qtbot, panel)
    run_dir = tmp_path / "runs" / "train"
    assert panel.summary.kind == "stopped", panel.summary.body.text()
    stopped = panel.controller.run.result
    assert isinstance(stopped, Stopped) and stopped.resumable and stopped.epoch >= 1
    assert panel.controls.resume_button.isEnabled() and "Resume continues" in panel.summary.body.text()
    screenshot(panel, "training-stopped.png")

    panel.controls.resume_button.click()
    assert panel.controller.run_dir == run_dir
    # the earlier segment is back on the curves before the new one arrives
    assert series(panel.curves, "metric", "map50")[0][:1] == [1.0]
    wait_idle(qtbot, panel)
    assert panel.summary.kind == "finished", panel.summary.body.text()
    assert [(s.start_epoch, s.resumed, s.run_dir) for s in started] == [
        (1, False, str(run_dir)), (stopped.epoch + 1, True, str(run_dir))]
    assert series(panel.curves, "metric", "map50")[0] == [1.0, 2.0, 3.0, 4.0]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["train"]  # no second run folder
    assert [e.epoch for e in read_events(run_dir) if isinstance(e, EpochEnd)][-1] == 4


# ---- replaying and watching a real run folder ----
def test_curves_replay_a_real_event_stream_creating_each_curve_once(qtbot, real_run):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    events = read_events(real_run)
    curves.add_events(events[:6])
    made = dict(curves._curves)
    for event in events[6:]:
        curves.add_events([event])
    assert all(curves._curves[key] is curve for key, curve in made.items())  # updated, never re-created
    items = len(curves.batch_plot.listDataItems())
    curves.add_events(events)  # replaying again replaces points, adds no items
    assert len(curves.batch_plot.listDataItems()) == items
    assert series(curves, "metric", "map50_95")[0] == [1.0, 2.0]
    assert series(curves, "train", "box_loss")[0] == [1.0, 2.0]
    assert len(series(curves, "batch", "cls_loss")[0]) >= 2
    assert curves.best_epoch in (1, 2) and len(curves.final.data) == 4
    curves.reset()
    assert curves._series[("metric", "map50")].n == 0 and ("batch", "box_loss") not in curves._curves


def test_watch_follows_a_run_folder_being_appended_to(qtbot, panel, real_run, tmp_path):
    watched = tmp_path / "shared-disk" / "train"
    watched.mkdir(parents=True)
    lines = (real_run / "events.jsonl").read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if '"type":"epoch"' in line) + 1
    (watched / "events.jsonl").write_text("".join(lines[:cut]))
    assert panel.watch(watched)
    assert panel.controls.watch_button.text() == "Stop monitoring" and not panel.controls.train_button.isEnabled()
    qtbot.waitUntil(lambda: panel.curves._series[("metric", "map50")].n == 1, timeout=10_000)
    assert panel.controller.watching and panel.controller.active
    with open(watched / "events.jsonl", "a") as f:  # the remote trainer goes on, a torn line first
        rest = "".join(lines[cut:])
        f.write(rest[:10])
        f.flush()
        qtbot.wait(700)
        f.write(rest[10:])
    qtbot.waitUntil(lambda: not panel.controller.active, timeout=10_000)
    assert panel.curves._series[("metric", "map50")].n == 2
    assert panel.summary.kind == "finished" and panel.controls.progress.value() == 1000
    assert panel.controls.train_button.isEnabled() and panel.controls.watch_button.text() == "Monitor a run folder…"


def test_history_lists_runs_with_numbers_and_opens_them(qtbot, panel, real_run, tmp_path):
    project = tmp_path / "runs"
    shutil.copytree(real_run, project / "labeltrain-run")
    plain = project / "detect" / "plain"  # a plain Ultralytics run: results.csv only
    plain.mkdir(parents=True)
    header = "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B)," \
             "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n"
    rows = "".join(f"{e},{e * 3.5},{2 - e / 10},{3 - e / 5},1.2,0.{e},0.{e + 1},0.{e + 2},0.{e},1.9,2.5,1.1,"
                   f"0.001,0.001,0.001\n" for e in (1, 2, 3))
    (plain / RESULTS_CSV).write_text(header + rows)
    (plain / "args.yaml").write_text("model: yolo11n.yaml\nepochs: 5\n")
    hour_ago = time.time() - 3600
    os.utime(plain / RESULTS_CSV, (hour_ago, hour_ago))  # not written to for an hour: not running any more
    panel.history.set_folder(project)
    qtbot.waitUntil(lambda: panel.history.tree.topLevelItemCount() == 2, timeout=10_000)
    rows_text = {panel.history.tree.topLevelItem(i).text(0): [panel.history.tree.topLevelItem(i).text(c)
                                                              for c in range(6)] for i in range(2)}
    assert rows_text["plain"][1:] == ["incomplete", "3/5", "3", "0.500", "0.300"]
    assert rows_text["labeltrain-run"][1:3] == ["finished", "2/2"]

    item = next(panel.history.tree.topLevelItem(i) for i in range(2)
                if panel.history.tree.topLevelItem(i).text(0) == "plain")
    panel.history.tree.itemDoubleClicked.emit(item, 0)
    qtbot.waitUntil(lambda: panel.curves._series[("metric", "map50")].n == 3, timeout=10_000)
    assert {name for kind, name in panel.curves._series if kind == "train"} == {"box_loss", "cls_loss", "dfl_loss"}
    assert panel.curves.best_epoch == 3 and panel.summary.title.text() == "plain: incomplete"
    screenshot(panel, "training-history.png")


# ---- the settings form ----
def test_form_shows_each_problem_under_its_field_in_plain_words(qtbot, tmp_path):
    form = ConfigForm()
    qtbot.addWidget(form)
    form.show()
    data = make_dataset(tmp_path / "data", n_train=2, n_val=1)
    form.set_config(tiny(data, tmp_path / "runs"))
    assert form.check() == [] and all(label.isHidden() for label in form._errors.values())

    form.imgsz.setValue(100)
    form.device.setCurrentText("gpu please")
    form.batch.setCurrentText("lots")
    form.advanced.set_values({"mosiac": 0.5, "fliplr": "yes", "project": "/x"})
    form.model.setCurrentText("yolo26n.pt")
    form.set_data_path(str(tmp_path / "missing.yaml"))
    problems = form.check()
    shown = {key: label.text() for key, label in form._errors.items() if not label.isHidden()}
    assert "multiple of 32" in shown["imgsz"] and "for example 96" in shown["imgsz"]
    assert "device 'gpu please' is not understood" in shown["device"].lower()
    assert "batch must be a whole number" in shown["batch"].lower()
    assert "'mosiac' is not an Ultralytics training argument" in shown["extra"]
    assert "fliplr" in shown["extra"] and "'project' cannot be set" in shown["extra"]
    assert "downloaded" in shown["model"] and "yolo26n.yaml" in shown["model"]
    assert "Data not found" in shown["data"]
    assert len(problems) >= 7
    assert set(shown) == {"imgsz", "device", "batch", "extra", "model", "data"}

    form.set_config(tiny(data, tmp_path / "runs", batch=-1, optimizer="auto"))
    assert form.batch.currentText() == "auto" and form.config().batch == -1
    assert not form.lr0.isEnabled()  # 'auto' ignores lr0: the field says so by being off
    assert form.check() == [] and all(label.isHidden() for label in form._errors.values())

    saved = form.config().with_changes(epochs=7, extra={"cos_lr": True, "mosaic": 0.5})
    saved.save(tmp_path / "train.yaml")
    other = ConfigForm()
    qtbot.addWidget(other)
    assert other.load(tmp_path / "train.yaml")
    assert other.config() == saved and other.advanced_toggle.isChecked()
    assert not other.load(tmp_path / "missing.yaml") and "cannot load" in other.general_error.text().lower()


def test_a_config_the_runner_refuses_leaves_the_panel_ready(qtbot, panel, tmp_path):
    data = make_dataset(tmp_path / "data", n_train=2, n_val=1)
    panel.form.set_config(tiny(data, tmp_path / "runs"))
    data.unlink()  # gone between the form's check and the start
    panel.form.check = lambda: []  # the form would have caught it: go straight to the runner
    assert panel.train()
    assert panel.summary.kind == "failed" and "data not found" in panel.summary.body.text()
    assert "Data not found" in panel.form.general_error.text()
    assert panel.controls.train_button.isEnabled() and not panel.busy


def test_stop_during_the_label_check_cancels_before_any_run(qtbot, panel, tmp_path):
    root = tmp_path / "shapes"
    make_dataset(root, n_train=4, n_val=2)
    panel.set_dataset(discover(root))
    set_tiny(panel, root)
    assert panel.train() and panel.busy and panel.controls.stop_button.isEnabled()
    panel.controls.stop_button.click()  # the check's result is still queued: it is dropped
    assert not panel.busy and panel.controls.train_button.isEnabled()
    qtbot.wait(1500)
    assert not (root / "runs").exists() and not panel.controller.active


def test_clean_data_leaves_out_rejected_images_and_plots_of_earlier_runs(tmp_path):
    root = tmp_path / "folder"
    root.mkdir()
    data = make_dataset(tmp_path / "made", n_train=6, n_val=0)
    for image in (tmp_path / "made" / "images" / "train").iterdir():  # a flat folder: images beside labels
        shutil.copy(image, root / image.name)
        shutil.copy(data.parent / "labels" / "train" / f"{image.stem}.txt", root / f"{image.stem}.txt")
    (root / "classes.txt").write_text("square\ncircle\n")
    (root / "train_001.txt").write_text("0 0.5 0.5 0.2\n")  # 4 columns: the trainer rejects the image
    plot = root / "runs" / "train" / "train_batch0.jpg"  # written by an earlier run with plots on
    plot.parent.mkdir(parents=True)
    shutil.copy(root / "train_002.png", plot)
    dataset = discover(root)
    assert str(plot) in {item.image for item in dataset.items}
    clean = prepare_clean_data(snapshot(dataset), tmp_path / "split")
    assert {Path(e.image).name for e in clean.excluded} == {"train_001.png", "train_batch0.jpg"}
    assert clean.counts == {"train": 4, "val": 1} and clean.yaml_path == tmp_path / "split" / "data.yaml"
    listed = (tmp_path / "split" / "train.txt").read_text() + (tmp_path / "split" / "val.txt").read_text()
    assert "train_001" not in listed and "runs" not in listed and listed.count(".png") == 5
