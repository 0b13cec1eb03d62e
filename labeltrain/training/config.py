"""Training run configuration: a frozen dataclass, YAML load/save, and its Ultralytics keyword arguments.

Nothing here imports ultralytics or torch (the GUI builds and validates configs at startup); Ultralytics' own
argument defaults are read from its cfg/default.yaml file instead.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from labeltrain.core.atomic import atomic_write_text
from labeltrain.training.presets import AUGMENTATION_PRESETS

CONFIG_FILE = "config.yaml"
# Ultralytics arguments a config may not set through `extra`: the runner owns them.
RESERVED_ARGS = frozenset({"mode", "task", "model", "data", "resume", "project", "name", "exist_ok", "save_dir",
                           "cfg", "tracker", "source"})


@functools.lru_cache(maxsize=1)
def ultralytics_defaults() -> dict[str, Any]:
    """Ultralytics' DEFAULT_CFG (its cfg/default.yaml) without importing ultralytics; {} when not installed."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "cfg" / "default.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class TrainConfig:
    """What to train and how. Paths are strings so the YAML stays plain; see validate() for the rules."""

    data: str = ""  # data.yaml, or a dataset folder (split automatically into the run directory)
    model: str = "yolo26n.yaml"  # architecture YAML (trains from scratch) or a local .pt to start from
    weights: str = ""  # optional local .pt whose matching layers initialise the architecture (transfer learning)
    epochs: int = 100
    imgsz: int = 640
    batch: int | float = 16  # -1: largest batch that fits ~60% of GPU memory; 0 < b < 1: that memory fraction
    device: str = ""  # '' picks a GPU when there is one; 'cpu', 'cuda:0', '0', '0,1' (multi-GPU DDP), 'mps'
    workers: int = 8
    patience: int = 100  # epochs without improvement before stopping early (0: never)
    optimizer: str = "auto"
    lr0: float = 0.01
    augment: str = "default"  # a name in presets.AUGMENTATION_PRESETS
    extra: dict[str, Any] = field(default_factory=dict)  # any other Ultralytics train argument
    project: str = ""  # absolute folder that holds the runs ('' : <dataset folder>/runs)
    name: str = ""  # run folder name ('' : train, train2, ... whichever is free)

    def validate(self, check_files: bool = True) -> list[str]:
        """Plain-language problems that would stop or spoil the run (empty when the config is usable)."""
        from labeltrain.training.validation import validate

        return validate(self, check_files=check_files)

    def with_changes(self, **changes: Any) -> TrainConfig:
        return replace(self, **changes)

    # ---- YAML ----
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a mapping. Ultralytics argument names that are not fields go to `extra`, so an
        Ultralytics args.yaml loads too; anything else is an error."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        extra = dict(known.pop("extra", None) or {})
        defaults = ultralytics_defaults()
        unknown = []
        for key, value in data.items():
            if key in names:
                continue
            if key in defaults:
                if key not in RESERVED_ARGS and value != defaults[key]:
                    extra[key] = value
            else:
                unknown.append(key)
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(sorted(map(str, unknown)))}")
        if isinstance(data.get("device"), int):
            known["device"] = str(data["device"])
        return cls(**known, extra=extra)

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        atomic_write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainConfig:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a training config must be a YAML mapping")
        return cls.from_dict(data)

    # ---- Ultralytics ----
    def default_project(self) -> Path:
        """<dataset folder>/runs: next to the data.yaml, or inside a dataset folder."""
        data = Path(self.data).expanduser().absolute()
        base = data if data.is_dir() else data.parent
        return base / "runs"

    def train_kwargs(self, run_dir: Path, data_yaml: str | os.PathLike[str]) -> dict[str, Any]:
        """Keyword arguments for `YOLO(model).train(...)` writing into `run_dir` (absolute, reused as is)."""
        run_dir = Path(run_dir).absolute()
        kwargs: dict[str, Any] = dict(AUGMENTATION_PRESETS[self.augment].overrides)
        kwargs.update(self.extra)
        kwargs.update(
            data=str(data_yaml), epochs=self.epochs, imgsz=self.imgsz, batch=self.batch, device=self.device or None,
            workers=self.workers, patience=self.patience, optimizer=self.optimizer, lr0=self.lr0,
            project=str(run_dir.parent), name=run_dir.name, exist_ok=True,
        )
        return kwargs


def defaults_for_sample(data: str = "") -> TrainConfig:
    """Settings proposed for the bundled sample project (150 images of 3 shapes), measured on a 2-core CPU:
    mAP50 ~0.76-0.84 in ~150 s. A small nominal batch (nbs 8) gives 8x more optimizer steps than the default
    64 on so few images; AdamW with a low lr0 and one warm-up epoch is stable from scratch."""
    return TrainConfig(data=data, model="yolo26n.yaml", epochs=20, imgsz=256, batch=8,
                       optimizer="AdamW", lr0=0.002, extra={"nbs": 8, "warmup_epochs": 1})
