"""Training events: plain frozen records, one JSON object per line in <run dir>/events.jsonl.

The worker appends (and flushes) one line per event; the GUI monitor, the CLI and the run history read the
same file, so a run started anywhere can be followed by pointing at its folder. Epochs and batches are
1-based, like results.csv and the Ultralytics progress bar. Metric names: precision, recall, map50, map50_95.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

EVENTS_FILE = "events.jsonl"


@dataclass(frozen=True)
class Event:
    """Base of all events; `time` is the wall-clock time (epoch seconds) when it was emitted."""

    type: ClassVar[str] = "event"
    terminal: ClassVar[bool] = False  # finished/failed/stopped end a run (segment)
    time: float = field(default_factory=time.time, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class RunStarted(Event):
    """Training set up (model built, data checked): sizes are known. Emitted again by every resume."""

    type: ClassVar[str] = "run_started"
    run_dir: str = ""
    model: str = ""
    data: str = ""
    epochs: int = 0
    start_epoch: int = 1  # first epoch this segment trains (> 1 after a resume)
    batches: int = 0  # batches per epoch
    train_images: int = 0
    val_images: int = 0
    device: str = ""
    resumed: bool = False
    pid: int = 0


@dataclass(frozen=True)
class Status(Event):
    """A phase change worth showing in a status line (loading model, checking data, final evaluation...)."""

    type: ClassVar[str] = "status"
    message: str = ""


@dataclass(frozen=True)
class BatchEnd(Event):
    """Running mean of the training losses in the current epoch (the trainer's own loss names)."""

    type: ClassVar[str] = "batch"
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    losses: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EpochEnd(Event):
    """One finished epoch: mean train losses, validation losses and metrics, learning rates."""

    type: ClassVar[str] = "epoch"
    epoch: int = 0
    epochs: int = 0
    train_losses: dict[str, float] = field(default_factory=dict)
    val_losses: dict[str, float] = field(default_factory=dict)
    precision: float = math.nan
    recall: float = math.nan
    map50: float = math.nan
    map50_95: float = math.nan
    lr: dict[str, float] = field(default_factory=dict)
    fitness: float = math.nan
    is_best: bool = False
    best_epoch: int = 0
    elapsed: float = 0.0  # seconds since this segment's training started
    epoch_time: float = 0.0


@dataclass(frozen=True)
class FinalEval(Event):
    """Validation of best.pt after the last epoch (Ultralytics reports it as an extra epoch; it is not one)."""

    type: ClassVar[str] = "final_eval"
    best_epoch: int = 0
    precision: float = math.nan
    recall: float = math.nan
    map50: float = math.nan
    map50_95: float = math.nan
    weights: str = ""


@dataclass(frozen=True)
class CheckpointSaved(Event):
    """last.pt written for `epoch`; `best` is set when best.pt was updated too."""

    type: ClassVar[str] = "checkpoint_saved"
    epoch: int = 0
    last: str = ""
    best: str | None = None


@dataclass(frozen=True)
class Finished(Event):
    """The run completed: metrics of best.pt (final evaluation), its path, and the time taken."""

    type: ClassVar[str] = "finished"
    terminal: ClassVar[bool] = True
    best_epoch: int = 0
    epochs_done: int = 0
    precision: float = math.nan
    recall: float = math.nan
    map50: float = math.nan
    map50_95: float = math.nan
    weights: str = ""
    last: str = ""
    elapsed: float = 0.0


@dataclass(frozen=True)
class Failed(Event):
    """The run ended with an error. kind: data, oom, nan, disk, config, crashed or error."""

    type: ClassVar[str] = "failed"
    terminal: ClassVar[bool] = True
    kind: str = "error"
    message: str = ""
    hint: str = ""
    detail: str = ""  # traceback or log tail for the curious
    checkpoint: str | None = None  # resumable last.pt when one exists


@dataclass(frozen=True)
class Stopped(Event):
    """Stopped on request; `checkpoint` (last.pt of the last finished epoch) resumes the run when resumable."""

    type: ClassVar[str] = "stopped"
    terminal: ClassVar[bool] = True
    epoch: int = 0  # last finished epoch
    checkpoint: str | None = None
    resumable: bool = False


# Registry: type name -> class (reading never needs an if-chain).
EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls for cls in (RunStarted, Status, BatchEnd, EpochEnd, FinalEval, CheckpointSaved, Finished, Failed,
                              Stopped)
}


def _json_safe(value: Any) -> Any:
    """NaN/inf are not JSON: write them as null (read back as NaN for float fields)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def to_json(event: Event) -> str:
    return json.dumps(_json_safe(event.to_dict()), ensure_ascii=False, separators=(",", ":"))


def from_dict(data: dict[str, Any]) -> Event | None:
    """The event a JSON object describes, or None for an unknown type. Unknown keys are ignored and nulls in
    float fields become NaN, so files written by newer or older versions still read."""
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        return None
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if value is None and isinstance(f.default, float):
            value = math.nan
        elif isinstance(value, dict):  # losses, lr: null was a NaN
            value = {k: math.nan if v is None else v for k, v in value.items()}
        kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except TypeError:
        return None


def parse_line(line: str) -> Event | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return from_dict(data) if isinstance(data, dict) else None


class EventWriter:
    """Appends events to events.jsonl, one flushed line each (readers may tail the file while it grows).

    The file is opened for every event: a writer survives the run folder being recreated (Ultralytics' multi-GPU
    launcher deletes it) and holds no handle, so it can be pickled into DDP workers."""

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.path = Path(run_dir) / EVENTS_FILE

    def write(self, event: Event) -> Event:
        line = to_json(event) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
        return event


def append_event(run_dir: str | os.PathLike[str], event: Event) -> None:
    """Append one event from outside the worker (a crash or kill it could not report). A line the dying
    worker left unfinished is ended first, so that the new event stays readable."""
    path = Path(run_dir) / EVENTS_FILE
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
    except OSError:  # missing or empty
        torn = False
    if torn:
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n")
    EventWriter(run_dir).write(event)
