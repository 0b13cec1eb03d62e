"""Using Ultralytics in this process for evaluation, export and prediction: offline environment first, then
quiet (its log and progress bars go to stdout, which a `--json` command keeps for its own output)."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def ensure_environment() -> None:
    """Apply labeltrain's offline Ultralytics environment before its first import in this process."""
    if "ultralytics" not in sys.modules:
        from labeltrain.training.env import prepare_environment

        prepare_environment()


@contextlib.contextmanager
def quiet(level: int = logging.ERROR) -> Iterator[None]:
    """Ultralytics' logger at `level` (its progress bars switch themselves off above INFO)."""
    logger = logging.getLogger("ultralytics")
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)


def load_yolo(weights: str | Path) -> Any:
    """`YOLO(weights)` for a local .pt file (never a download: a missing file is an error here)."""
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    ensure_environment()
    from ultralytics import YOLO

    with quiet():
        return YOLO(str(path), task="detect")


def train_args(model: Any) -> dict[str, Any]:
    """The training arguments stored in a loaded checkpoint ({} when there are none)."""
    ckpt = getattr(model, "ckpt", None) or {}
    args = ckpt.get("train_args") if isinstance(ckpt, dict) else None
    return dict(args) if isinstance(args, dict) else {}


def model_imgsz(model: Any, default: int = 640) -> int:
    """The image size a checkpoint was trained at (Ultralytics keeps it in the model's overrides)."""
    imgsz = getattr(model, "overrides", {}).get("imgsz") or train_args(model).get("imgsz") or default
    if isinstance(imgsz, list | tuple):
        imgsz = max(imgsz)
    return int(imgsz)


def versions() -> dict[str, str]:
    """Versions of the packages that produced a result, for reports."""
    from labeltrain import __version__

    out = {"labeltrain": __version__}
    for name in ("ultralytics", "torch", "onnx", "onnxruntime"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = str(getattr(module, "__version__", "?"))
    return out
