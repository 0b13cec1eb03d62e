"""The data a training started from the GUI uses when it trains on the open dataset: its checker-clean images,
split (the dataset's own train/val split when it has one) and written as image lists + data.yaml into the
dataset's sidecar folder, with the list of images left out and why. Qt-free: it runs in a worker thread.

(training.data_prep splits a folder without consulting the checker; this adds the exclusion step.)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from labeltrain.core.check import CheckOptions, run_check
from labeltrain.core.dataset import Dataset
from labeltrain.core.problems import ProblemList, Severity
from labeltrain.core.project_state import sidecar_dir
from labeltrain.core.resources import resource_path
from labeltrain.core.sample import data_home
from labeltrain.core.split import make_split, write_split
from labeltrain.training.config import TrainConfig

SPLITS_DIR = "splits"
# Besides what the trainer rejects anyway: images it would rewrite on disk (Ultralytics "restores" them).
EXCLUDED_RULES = frozenset({"image.corrupt_jpeg"})


@dataclass(frozen=True)
class Excluded:
    image: str
    reason: str


@dataclass(frozen=True)
class CleanData:
    """A data.yaml ready to train on, and what was done to make it (for the log and the form)."""

    yaml_path: Path
    counts: dict[str, int]
    excluded: list[Excluded] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        counts = ", ".join(f"{n} {split}" for split, n in self.counts.items() if n)
        text = f"{sum(self.counts.values())} images ({counts})"
        if self.excluded:
            text += f"; {len(self.excluded)} left out (the label checker rejects them)"
        return text

    def excluded_lines(self) -> list[str]:
        return [f"{Path(e.image).name}: {e.reason}" for e in self.excluded]

    def log_lines(self) -> list[str]:
        return [f"labeltrain: data {self.yaml_path}: {self.describe()}", *(f"labeltrain: {n}" for n in self.notes),
                *(f"labeltrain: left out {line}" for line in self.excluded_lines())]


def snapshot(dataset: Dataset) -> Dataset:
    """A copy a worker thread may read while the editor keeps changing the original (on the UI thread)."""
    return dataclasses.replace(dataset, items=list(dataset.items), problems=ProblemList())


def runs_folder(dataset: Dataset) -> Path:
    """Where the runs of a dataset go: <dataset root>/runs, like `labeltrain train FOLDER` does."""
    return Path(dataset.root).absolute() / "runs"


def is_sample_project(dataset: Dataset | None) -> bool:
    """True for the bundled sample project (its installed copy or the writable copy in the data home)."""
    if dataset is None:
        return False
    root = Path(dataset.root).resolve()
    candidates = (resource_path("sample"), data_home() / "sample-project")
    return any(root == Path(c).resolve() for c in candidates)


def _own_split(items: list, counts_needed: tuple[str, ...] = ("train", "val")) -> dict[str, list[str]] | None:
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for item in items:
        if item.split not in splits:
            return None
        splits[item.split].append(item.image)
    return splits if all(splits[s] for s in counts_needed) else None


def prepare_clean_data(dataset: Dataset, out_dir: str | os.PathLike[str] | None = None, *, imgsz: int = 640,
                       val: float = 0.2, seed: int = 0, progress: Callable[[int, int], None] | None = None,
                       cancelled: Callable[[], bool] | None = None) -> CleanData:
    """Check `dataset` (a snapshot), leave out the images the trainer would reject or rewrite, write the split's lists and data.yaml
    to `out_dir` (default: <root>/.labeltrain/splits/<timestamp>, kept so that a resumed run finds it)."""
    report = run_check(dataset, options=CheckOptions(imgsz=imgsz), progress=progress, cancelled=cancelled)
    if report.cancelled:
        raise InterruptedError("the label check was cancelled")
    reasons: dict[str, str] = {}
    runs = str(runs_folder(dataset)) + os.sep
    for item in dataset.items:  # a folder dataset also "finds" the plots that earlier runs saved in runs/
        if item.image.startswith(runs):
            reasons[item.image] = "an image in the runs folder (a training plot), not part of the dataset"
    for finding in report.findings:
        if finding.image and (finding.rejects or finding.rule in EXCLUDED_RULES):
            reasons.setdefault(finding.image, finding.message)
    keep = [item for item in dataset.items if item.image not in reasons]
    if not keep:
        raise ValueError(f"none of the {len(dataset.items)} images passed the label checker: fix the errors it "
                         "lists (Check menu) before training")
    clean = dataclasses.replace(dataset, items=keep, problems=ProblemList())
    own = _own_split(keep)
    splits = own if own is not None else make_split(clean, val=val, seed=seed)
    out = Path(out_dir) if out_dir else sidecar_dir(dataset.root) / SPLITS_DIR / time.strftime("%Y%m%d-%H%M%S")
    yaml_path = write_split(clean, splits, out)
    counts = {name: len(paths) for name, paths in splits.items() if paths}
    notes = ["kept the dataset's own train/val split" if own is not None
             else f"split into {', '.join(f'{n} {s}' for s, n in counts.items())} (seed {seed})"]
    notes += [str(p) for p in clean.problems if p.severity != Severity.INFO][:10]
    excluded = [Excluded(image, reason) for image, reason in reasons.items()]
    return CleanData(yaml_path, counts, excluded, notes)


def preparation(dataset: Dataset, config: TrainConfig) -> Callable:
    """Work for a BackgroundJob: (config, CleanData), or (config, the exception) when the data cannot be used."""

    def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]):
        try:
            return config, prepare_clean_data(dataset, imgsz=config.imgsz, progress=progress, cancelled=cancelled)
        except (OSError, ValueError, InterruptedError) as exc:
            return config, exc

    return work
