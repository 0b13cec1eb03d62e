"""What the training form says about each field: help texts, value parsing, and the problems of a config
sorted by the field they concern (TrainConfig.validate run on one field at a time). Qt-free."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from labeltrain.core.dataset import Dataset
from labeltrain.training.config import TrainConfig
from labeltrain.training.validation import model_problem

HELP = {
    "model": "An architecture (.yaml) trains from scratch; a local .pt file continues from trained weights. "
             "n is the smallest and fastest size, x the largest.",
    "weights": "Optional local .pt whose matching layers start the chosen architecture (transfer learning).",
    "data": "The open dataset (images the label checker rejects are left out) or an existing data.yaml.",
    "epochs": "How many times the model sees every training image.",
    "imgsz": "Images are resized to this size, a multiple of 32. Smaller trains faster; larger finds small "
             "objects better.",
    "batch": "Images per training step. 'auto' picks the largest batch that fits the GPU memory.",
    "device": "Empty picks a GPU when there is one; cpu; cuda:0 or 0 for one GPU; 0,1 for several GPUs.",
    "workers": "Processes that load images in parallel (0: load them in the training process).",
    "patience": "Stop early when the validation score has not improved for this many epochs (0: never).",
    "optimizer": "'auto' chooses the optimizer and learning rate from the length of the run.",
    "lr0": "Initial learning rate (typically 0.001-0.01).",
    "project": "Folder that holds the runs. Empty: a 'runs' folder next to the data.",
}
PER_FIELD = ("epochs", "imgsz", "batch", "device", "workers", "patience", "optimizer", "lr0", "augment", "extra",
             "project")


def field_problems(cfg: TrainConfig, dataset: Dataset | None = None) -> dict[str, list[str]]:
    """{field: problems} ('general' for what no field explains). With `dataset` (training on the open
    dataset) cfg.data is its folder and is not checked as a file."""
    out: dict[str, list[str]] = {}
    for key in PER_FIELD:  # a default config with just this field changed: only its own problems
        found = TrainConfig(**{key: getattr(cfg, key)}).validate(check_files=False)
        if found:
            out[key] = found
    if problem := model_problem(cfg.model):
        out["model"] = [problem]
    if cfg.weights and not Path(cfg.weights).expanduser().is_file():
        out["weights"] = [f"weights file not found: {cfg.weights} (it must be a local .pt file)"]
    if dataset is not None:
        if not dataset.items:
            out["data"] = ["the open dataset has no images"]
    elif found := TrainConfig(data=cfg.data).validate(check_files=True):
        out["data"] = found
    shown = {p for problems in out.values() for p in problems}
    if rest := [p for p in cfg.validate(check_files=dataset is None) if p not in shown]:
        out["general"] = rest
    return out


def parse_batch(text: str) -> Any:
    text = text.strip().lower()
    if text.startswith("auto"):
        return -1
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, int | float) and not isinstance(value, bool) else text


def sentence(problem: str) -> str:
    return problem[:1].upper() + problem[1:] + ("" if problem.endswith(".") else ".")
