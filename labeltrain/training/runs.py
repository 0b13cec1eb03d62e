"""Run directories: unique names for new runs, and the run history of a project's runs folder."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from labeltrain.training.events import (
    EVENTS_FILE,
    EpochEnd,
    Event,
    Failed,
    FinalEval,
    Finished,
    RunStarted,
    Stopped,
)
from labeltrain.training.reader import RESULTS_CSV, epoch_history, read_events

RUNNING_WINDOW = 600.0  # a run without a terminal event whose files changed this recently counts as running


def new_run_dir(project: str | os.PathLike[str], name: str = "") -> Path:
    """Create and return project/name, or name2, name3... when taken (Ultralytics' naming)."""
    project = Path(project).expanduser().absolute()
    project.mkdir(parents=True, exist_ok=True)
    base = name or "train"
    for i in range(1, 10_000):
        candidate = project / (base if i == 1 else f"{base}{i}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free run name like {base} in {project}")


@dataclass(frozen=True)
class RunSummary:
    """One row of the run history. status: finished, stopped, failed, running, interrupted or incomplete."""

    run_dir: Path
    status: str
    epochs_done: int = 0
    epochs: int = 0
    best_epoch: int = 0
    map50: float = math.nan  # of best.pt (final evaluation) when known, else of the best epoch
    map50_95: float = math.nan
    weights: Path | None = None
    model: str = ""
    started: float = 0.0  # epoch seconds
    updated: float = 0.0
    message: str = ""  # failure message
    source: str = "events"  # events or results.csv

    @property
    def name(self) -> str:
        return self.run_dir.name


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _best(epochs: list[EpochEnd]) -> EpochEnd | None:
    scored = [e for e in epochs if math.isfinite(e.fitness)]
    return max(scored, key=lambda e: (e.fitness, e.epoch)) if scored else None


def _args_yaml(run_dir: Path) -> dict:
    try:
        data = yaml.safe_load((run_dir / "args.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _status(events: list[Event], updated: float) -> tuple[str, str]:
    for event in reversed(events):
        if isinstance(event, Finished):
            return "finished", ""
        if isinstance(event, Stopped):
            return "stopped", ""
        if isinstance(event, Failed):
            return "failed", event.message
        if isinstance(event, RunStarted):
            break
    return ("running" if time.time() - updated < RUNNING_WINDOW else "interrupted"), ""


def summarize_run(run_dir: str | os.PathLike[str]) -> RunSummary | None:
    """Key numbers of one run folder, or None when it holds no run."""
    run_dir = Path(run_dir)
    events_path, csv_path = run_dir / EVENTS_FILE, run_dir / RESULTS_CSV
    if not events_path.exists() and not csv_path.exists():
        return None
    events = read_events(run_dir)
    epochs = epoch_history(events)
    best = _best(epochs)
    best_pt = run_dir / "weights" / "best.pt"
    weights = best_pt if best_pt.exists() else None
    args = _args_yaml(run_dir)
    if events_path.exists():
        updated = _mtime(events_path)
        status, message = _status(events, updated)
        starts = [e for e in events if isinstance(e, RunStarted)]
        finals = [e for e in events if isinstance(e, FinalEval)]
        total = starts[-1].epochs if starts else int(args.get("epochs") or 0)
        model = starts[0].model if starts else str(args.get("model") or "")
        started = events[0].time if events else _mtime(run_dir)
        source = "events"
    else:
        updated = _mtime(csv_path)
        total = int(args.get("epochs") or 0)
        done = len(epochs) >= total > 0
        status = "finished" if done else ("running" if time.time() - updated < RUNNING_WINDOW else "incomplete")
        message, finals, model, started, source = "", [], str(args.get("model") or ""), _mtime(run_dir), "results.csv"
    map50 = finals[-1].map50 if finals else (best.map50 if best else math.nan)
    map50_95 = finals[-1].map50_95 if finals else (best.map50_95 if best else math.nan)
    return RunSummary(run_dir=run_dir, status=status, epochs_done=epochs[-1].epoch if epochs else 0, epochs=total,
                      best_epoch=best.epoch if best else 0, map50=map50, map50_95=map50_95, weights=weights,
                      model=model, started=started, updated=updated, message=message, source=source)


def list_runs(project_dir: str | os.PathLike[str]) -> list[RunSummary]:
    """Every run below `project_dir` (its children, and their children for Ultralytics' runs/detect/train
    layout), newest first."""
    root = Path(project_dir)
    if not root.is_dir():
        return []
    out: list[RunSummary] = []
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        summary = summarize_run(child)
        if summary is not None:
            out.append(summary)
            continue
        for grandchild in sorted(p for p in child.iterdir() if p.is_dir()):
            if (summary := summarize_run(grandchild)) is not None:
                out.append(summary)
    out.sort(key=lambda s: s.started, reverse=True)
    return out


MODEL_SUFFIXES = (".pt", ".onnx")


def model_files(project_dir: str | os.PathLike[str]) -> list[Path]:
    """The models a user may pick from a runs folder, newest first: each run's weights/best.pt and the ONNX
    files of its export folder (last.pt is left out: it is the resumable checkpoint, not the model to use)."""
    root = Path(project_dir)
    if not root.is_dir():
        return []
    found: list[Path] = []
    for run in [p for p in root.iterdir() if p.is_dir()] + [p for p in root.glob("*/*") if p.is_dir()]:
        best = run / "weights" / "best.pt"
        if best.is_file():
            found.append(best)
        export = run / "export"
        if export.is_dir():
            found.extend(p for p in export.glob("*.onnx") if p.is_file())

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(set(found), key=mtime, reverse=True)
