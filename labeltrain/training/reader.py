"""Reading a run directory's events: events.jsonl (labeltrain runs) or results.csv (plain Ultralytics runs).

`EventFollower.poll()` returns what was appended since the last call, so the same code shows a finished run,
follows a local child process, or watches a run that a GPU server writes to a shared disk.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from labeltrain.training.events import EVENTS_FILE, EpochEnd, Event, parse_line

RESULTS_CSV = "results.csv"
_METRICS = {"metrics/precision(B)": "precision", "metrics/recall(B)": "recall", "metrics/mAP50(B)": "map50",
            "metrics/mAP50-95(B)": "map50_95"}


def _float(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else math.nan
    except ValueError:
        return math.nan


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):]


def csv_row_event(row: dict[str, str], best_fitness: float) -> EpochEnd:
    """One results.csv row as an epoch event. Fitness is mAP50-95, Ultralytics 8.4's detection fitness."""
    metrics = {ours: _float(row.get(col)) for col, ours in _METRICS.items()}
    fitness = metrics["map50_95"]
    epoch = _float(row.get("epoch"))
    return EpochEnd(
        time=0.0,
        epoch=int(epoch) if math.isfinite(epoch) else 0,
        train_losses={_strip(k, "train/"): _float(v) for k, v in row.items() if k.startswith("train/")},
        val_losses={_strip(k, "val/"): _float(v) for k, v in row.items() if k.startswith("val/")},
        lr={_strip(k, "lr/"): _float(v) for k, v in row.items() if k.startswith("lr/")},
        fitness=fitness,
        is_best=math.isfinite(fitness) and fitness >= best_fitness,
        elapsed=_float(row.get("time")),
        **metrics,
    )


def results_csv_events(text: str) -> list[EpochEnd]:
    """Epoch events from the text of a results.csv (column names are stripped of padding like older versions)."""
    reader = csv.DictReader(io.StringIO(text))
    out: list[EpochEnd] = []
    best = -math.inf
    best_epoch = 0
    for raw in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        event = csv_row_event(row, best)
        if event.is_best:
            best, best_epoch = event.fitness, event.epoch
        out.append(replace(event, best_epoch=best_epoch))
    return out


def read_events(run_dir: str | os.PathLike[str]) -> list[Event]:
    """All events of a run: events.jsonl when present, else epoch events made from results.csv."""
    return EventFollower(run_dir).poll()


def epoch_history(events: Iterable[Event]) -> list[EpochEnd]:
    """Epoch events in epoch order, one per epoch (a resumed run may repeat an epoch: the later one wins)."""
    by_epoch: dict[int, EpochEnd] = {}
    for event in events:
        if isinstance(event, EpochEnd):
            by_epoch[event.epoch] = event
    return [by_epoch[k] for k in sorted(by_epoch)]


class EventFollower:
    """Incremental reader of a run directory. Not thread-safe: one follower per consumer.

    events.jsonl: reads complete lines appended since the last poll (a half-written last line waits for its
    newline); a file that shrank was replaced and is read again from the start.
    results.csv (only when there is no events.jsonl): emits the rows not yet seen.
    """

    def __init__(self, run_dir: str | os.PathLike[str], from_end: bool = False):
        """`from_end`: skip what events.jsonl already holds (a resumed run's earlier segments)."""
        self.run_dir = Path(run_dir)
        self._offset = 0
        self._partial = b""
        self._csv_rows = 0
        if from_end:
            with contextlib.suppress(OSError):
                self._offset = self.events_path.stat().st_size

    @property
    def events_path(self) -> Path:
        return self.run_dir / EVENTS_FILE

    def poll(self) -> list[Event]:
        if self.events_path.exists():
            return self._poll_jsonl()
        return self._poll_csv()

    def _poll_jsonl(self) -> list[Event]:
        try:
            with open(self.events_path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < self._offset:  # truncated or replaced
                    self._offset, self._partial = 0, b""
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return []
        self._offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()  # b"" when the chunk ended with a newline
        events = []
        for line in lines:
            event = parse_line(line.decode("utf-8", errors="replace")) if line.strip() else None
            if event is not None:
                events.append(event)
        return events

    def _poll_csv(self) -> list[Event]:
        path = self.run_dir / RESULTS_CSV
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]  # ignore a row still being written
        rows = results_csv_events(text)
        if len(rows) < self._csv_rows:  # a new run replaced the file
            self._csv_rows = 0
        new = rows[self._csv_rows:]
        self._csv_rows = len(rows)
        return list(new)
