"""Events: JSON-lines round trip, the incremental follower, and results.csv of plain Ultralytics runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from labeltrain.training.events import (
    EVENT_TYPES,
    BatchEnd,
    EpochEnd,
    EventWriter,
    Failed,
    Finished,
    RunStarted,
    Stopped,
    parse_line,
    to_json,
)
from labeltrain.training.reader import EventFollower, epoch_history, read_events, results_csv_events

# results.csv exactly as Ultralytics 8.4 writes it for a YOLO26 model (3 epochs).
RESULTS_CSV = """\
epoch,time,train/box_loss,train/cls_loss,train/l1_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),\
metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/l1_loss,lr/pg0,lr/pg1,lr/pg2
1,0.430171,3.51249,4.05228,0.10415,0.1,0.2,0.3,0.15,4.02431,4.33252,0.08112,0.00041675,0.00041675,0.00041675
2,0.801837,3.51125,4.0525,0.10412,0.4,0.5,0.6,0.35,4.02431,4.33273,0.08112,0.000837668,0.000837668,0.000837668
3,1.59185,3.3877,4.19423,0.09977,0.3,0.4,0.5,0.25,4.03405,4.33384,0.08147,0.00056678,0.00056678,0.00056678
"""


def test_every_event_type_round_trips() -> None:
    for cls in EVENT_TYPES.values():
        event = cls()
        assert parse_line(to_json(event)) == event or cls is EpochEnd  # EpochEnd has NaNs (NaN != NaN)


def test_nan_is_written_as_null_and_read_back() -> None:
    event = EpochEnd(epoch=3, map50=math.nan, train_losses={"box_loss": math.inf})
    line = to_json(event)
    data = json.loads(line)
    assert data["type"] == "epoch" and data["map50"] is None and data["train_losses"]["box_loss"] is None
    back = parse_line(line)
    assert isinstance(back, EpochEnd) and back.epoch == 3 and math.isnan(back.map50)
    assert math.isnan(back.train_losses["box_loss"])


def test_unknown_or_broken_lines_are_skipped() -> None:
    assert parse_line('{"type": "from_the_future", "x": 1}') is None
    assert parse_line("not json") is None
    assert parse_line("[1, 2]") is None
    newer = parse_line('{"type": "stopped", "epoch": 2, "new_field": true}')
    assert newer == Stopped(epoch=2, time=newer.time)


def test_terminal_flags() -> None:
    assert Finished.terminal and Failed.terminal and Stopped.terminal
    assert not RunStarted.terminal and not BatchEnd.terminal


def test_follower_reads_only_complete_new_lines(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path)
    follower = EventFollower(tmp_path)
    assert follower.poll() == []
    writer.write(RunStarted(epochs=2))
    writer.write(BatchEnd(epoch=1, batch=1, losses={"box_loss": 1.5}))
    first = follower.poll()
    assert [e.type for e in first] == ["run_started", "batch"]
    assert follower.poll() == []
    line = to_json(Stopped(epoch=1))
    with open(tmp_path / "events.jsonl", "a") as f:
        f.write(line[:10])  # a writer caught mid-line
    assert follower.poll() == []
    with open(tmp_path / "events.jsonl", "a") as f:
        f.write(line[10:] + "\n")
    assert [e.type for e in follower.poll()] == ["stopped"]


def test_follower_from_end_and_replaced_file(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path)
    writer.write(RunStarted())
    writer.write(Stopped())
    late = EventFollower(tmp_path, from_end=True)
    assert late.poll() == []
    writer.write(RunStarted(resumed=True))
    assert [e.resumed for e in late.poll()] == [True]
    (tmp_path / "events.jsonl").write_text(to_json(Failed(kind="data")) + "\n")  # shorter: a new file
    assert [e.type for e in late.poll()] == ["failed"]


def test_results_csv_becomes_epoch_events() -> None:
    events = results_csv_events(RESULTS_CSV)
    assert [e.epoch for e in events] == [1, 2, 3]
    second = events[1]
    assert second.train_losses == {"box_loss": 3.51125, "cls_loss": 4.0525, "l1_loss": 0.10412}
    assert second.val_losses["l1_loss"] == 0.08112
    assert (second.precision, second.recall, second.map50, second.map50_95) == (0.4, 0.5, 0.6, 0.35)
    assert second.lr == {"pg0": 0.000837668, "pg1": 0.000837668, "pg2": 0.000837668}
    assert [e.is_best for e in events] == [True, True, False]
    assert [e.best_epoch for e in events] == [1, 2, 2]


def test_padded_csv_of_older_versions() -> None:
    padded = "\n".join(",".join(f"{c:>20}" for c in line.split(",")) for line in RESULTS_CSV.splitlines()) + "\n"
    assert [e.map50 for e in results_csv_events(padded)] == [0.3, 0.6, 0.5]


def test_follow_a_plain_ultralytics_run(tmp_path: Path) -> None:
    lines = RESULTS_CSV.splitlines(keepends=True)
    csv = tmp_path / "results.csv"
    csv.write_text("".join(lines[:2]) + lines[2][:15])  # a row being written
    follower = EventFollower(tmp_path)
    assert [e.epoch for e in follower.poll()] == [1]
    csv.write_text("".join(lines))
    assert [e.epoch for e in follower.poll()] == [2, 3]
    assert follower.poll() == []
    assert [e.epoch for e in read_events(tmp_path)] == [1, 2, 3]


def test_epoch_history_keeps_the_latest_of_each_epoch() -> None:
    events = [EpochEnd(epoch=1, map50=0.1), EpochEnd(epoch=2, map50=0.2), Stopped(),
              EpochEnd(epoch=2, map50=0.25), EpochEnd(epoch=3, map50=0.3)]
    assert [(e.epoch, e.map50) for e in epoch_history(events)] == [(1, 0.1), (2, 0.25), (3, 0.3)]


def test_parent_event_after_a_torn_line_stays_readable(tmp_path: Path) -> None:
    from labeltrain.training.events import append_event

    append_event(tmp_path, RunStarted())  # no file yet
    with open(tmp_path / "events.jsonl", "a") as f:
        f.write(to_json(BatchEnd(batch=1))[:25])  # the worker died mid-line
    append_event(tmp_path, Failed(kind="crashed"))
    assert [e.type for e in read_events(tmp_path)] == ["run_started", "failed"]
