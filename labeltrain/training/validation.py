"""Checks of a TrainConfig, worded for users: each problem is one sentence saying what to change."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labeltrain.training.config import RESERVED_ARGS, ultralytics_defaults
from labeltrain.training.presets import AUGMENTATION_PRESETS

if TYPE_CHECKING:
    from labeltrain.training.config import TrainConfig

OPTIMIZERS = ("auto", "SGD", "MuSGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop")
FAMILIES = ("yolo26", "yolo11", "yolov8")
SCALES = "nsmlx"
_TASK_SUFFIXES = ("-cls", "-seg", "-pose", "-obb", "-sem", "-depth", "-world", "-worldv2")
_DEVICE = re.compile(r"^(cpu|mps|cuda|cuda:\d+(,\d+)*|\d+(,\d+)*|-1(,-1)*)$")
_OFFICIAL_PT = re.compile(r"^(yolo|rtdetr|yoloe|sam|fastsam|mobile_sam)[\w.-]*\.pt$", re.IGNORECASE)


def architectures() -> list[str]:
    """Detection architectures offered in the model picker (YOLO26 first, the Ultralytics 8.4 default)."""
    return [f"{family}{scale}.yaml" for family in FAMILIES for scale in SCALES]


@functools.lru_cache(maxsize=1)
def shipped_model_yamls() -> frozenset[str]:
    """File names of the model YAMLs inside the installed ultralytics package (without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    root = Path(next(iter(spec.submodule_search_locations))) / "cfg" / "models"
    return frozenset(p.name for p in root.rglob("*.yaml"))


def _unscaled(name: str) -> str:
    """Ultralytics' rule: yolo26n.yaml -> yolo26.yaml (the scale letter picks a row of the YAML's scales)."""
    return re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", name)


def model_problem(model: str) -> str | None:
    """Why `model` cannot be trained offline as a detector, or None."""
    if not model:
        return "choose a model: an architecture such as yolo26n.yaml, or a local .pt file"
    path = Path(model).expanduser()
    suffix = path.suffix.lower()
    if suffix == ".pt":
        if path.is_file():
            return None
        if path.name == model and _OFFICIAL_PT.match(model):
            return (f"'{model}' is an official pretrained model that would have to be downloaded, and labeltrain "
                    "works offline: choose a local .pt file, or an architecture such as "
                    f"{path.stem}.yaml to train from scratch")
        return f"model file not found: {model}"
    if suffix in (".yaml", ".yml"):
        if path.is_file():
            return None
        if any(s in path.stem for s in _TASK_SUFFIXES) or path.stem.startswith("yoloe"):
            return f"'{model}' is not a detection model; labeltrain trains detectors (for example yolo26n.yaml)"
        shipped = shipped_model_yamls()
        if path.name == model and (model in shipped or _unscaled(model) in shipped):
            return None
        return (f"unknown model '{model}': choose one of {', '.join(architectures()[:3])}... or a local "
                ".yaml/.pt file")
    return f"model must be a .yaml architecture or a .pt file, not '{model}'"


def device_problem(device: str) -> str | None:
    text = str(device).strip().lower().replace(" ", "")
    if text == "" or _DEVICE.match(text):
        return None
    return (f"device '{device}' is not understood: use cpu, cuda:0 (or 0) for one GPU, 0,1 for several GPUs, "
            "mps on Apple silicon, or leave it empty to pick automatically")


@functools.lru_cache(maxsize=1)
def ultralytics_key_types() -> dict[str, frozenset[str]]:
    """Ultralytics' CFG_FRACTION_KEYS, CFG_INT_KEYS, CFG_BOOL_KEYS, CFG_FLOAT_KEYS, read from the source of
    ultralytics/cfg/__init__.py (importing it would import torch); {} if they cannot be found."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "cfg" / "__init__.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    out: dict[str, frozenset[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.startswith("CFG_") and name.endswith("_KEYS") and isinstance(node.value, ast.Call):
                try:
                    out[name[4:-5].lower()] = frozenset(ast.literal_eval(node.value.args[0]))
                except (ValueError, IndexError, TypeError):
                    continue
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _type_problem(key: str, value: Any, default: Any) -> str | None:
    kinds = ultralytics_key_types()
    if key in kinds.get("fraction", ()) and key != "fraction":
        if _is_number(value) and 0.0 <= value <= 1.0:
            return None
        return f"extra setting '{key}' must be a number from 0 to 1, not {value!r}"
    if key in kinds.get("bool", ()):
        default = False
    elif key in kinds.get("int", ()):
        default = 0
    elif key in kinds.get("float", ()):
        default = 0.0
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        want = "true or false"
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        want = "a number"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        want = "a whole number"
    else:
        return None
    return None if ok else f"extra setting '{key}' must be {want}, not {value!r}"


def extra_problems(extra: dict[str, Any]) -> list[str]:
    """Unknown or reserved Ultralytics arguments and obviously wrong value types in the advanced table."""
    defaults = ultralytics_defaults()
    out = []
    for key, value in extra.items():
        if key in RESERVED_ARGS:
            out.append(f"'{key}' cannot be set as an extra setting: labeltrain manages it")
        elif defaults and key not in defaults:
            out.append(f"'{key}' is not an Ultralytics training argument")
        elif key in defaults and (problem := _type_problem(key, value, defaults[key])):
            out.append(problem)
    return out


def _number_problems(cfg: TrainConfig) -> list[str]:
    out = []
    if not isinstance(cfg.epochs, int) or cfg.epochs < 1:
        out.append(f"epochs must be a whole number of at least 1, not {cfg.epochs!r}")
    if not isinstance(cfg.imgsz, int) or cfg.imgsz < 32 or cfg.imgsz % 32:
        near = max(32, int(round(float(cfg.imgsz) / 32)) * 32) if isinstance(cfg.imgsz, int | float) else 640
        out.append(f"image size must be a multiple of 32 (the network's stride), for example {near}, "
                   f"not {cfg.imgsz!r}")
    batch = cfg.batch
    if isinstance(batch, bool) or not isinstance(batch, int | float) or not (
            batch == -1 or (isinstance(batch, int) and batch >= 1) or (isinstance(batch, float) and 0 < batch < 1)):
        out.append(f"batch must be a whole number of at least 1, or -1 for automatic, not {batch!r}")
    if not isinstance(cfg.workers, int) or cfg.workers < 0:
        out.append(f"workers must be 0 or more, not {cfg.workers!r}")
    if not isinstance(cfg.patience, int) or cfg.patience < 0:
        out.append(f"patience must be 0 (never stop early) or more epochs, not {cfg.patience!r}")
    if not _is_number(cfg.lr0) or not 0 < cfg.lr0 <= 1:
        out.append(f"learning rate lr0 must be a number above 0 and at most 1 (typically 0.001-0.01), "
                   f"not {cfg.lr0!r}")
    return out


def _data_problems(cfg: TrainConfig) -> list[str]:
    if not cfg.data:
        return ["choose the data: a dataset folder or a data.yaml file"]
    path = Path(cfg.data).expanduser()
    if not path.exists():
        return [f"data not found: {cfg.data}"]
    if path.is_dir() or path.suffix.lower() not in (".yaml", ".yml"):
        return [] if path.is_dir() else [f"data must be a dataset folder or a data.yaml file, not {cfg.data}"]
    from labeltrain.core.datayaml import load_data_yaml

    loaded = load_data_yaml(path)
    return [f"{path.name}: {p.message}" for p in loaded.problems.errors()]


def validate(cfg: TrainConfig, check_files: bool = True) -> list[str]:
    """All problems of `cfg`; `check_files=False` skips the file system (data, local model files)."""
    out = _number_problems(cfg)
    if check_files:
        out += _data_problems(cfg)
        if problem := model_problem(cfg.model):
            out.append(problem)
        if cfg.weights and not Path(cfg.weights).expanduser().is_file():
            out.append(f"weights file not found: {cfg.weights} (weights must be a local .pt file)")
    if problem := device_problem(cfg.device):
        out.append(problem)
    if cfg.optimizer not in OPTIMIZERS:
        out.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not '{cfg.optimizer}'")
    if cfg.augment not in AUGMENTATION_PRESETS:
        out.append(f"augmentation preset must be one of {', '.join(AUGMENTATION_PRESETS)}, not '{cfg.augment}'")
    out += extra_problems(cfg.extra)
    if cfg.project and not Path(cfg.project).expanduser().is_absolute():
        out.append(f"the runs folder must be an absolute path, not '{cfg.project}'")
    if cfg.name and (Path(cfg.name).name != cfg.name or cfg.name in (".", "..")):
        out.append(f"the run name must be a plain folder name, not '{cfg.name}'")
    return out
