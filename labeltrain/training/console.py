"""`labeltrain train`: the training engine headless, one progress line per epoch.

Exit codes: 0 finished, 1 failed (or bad config), 2 usage, 130 stopped (Ctrl+C; resumable with --resume).
Ctrl+C asks the run to stop cleanly (a resumable last.pt stays); a second Ctrl+C kills the training process.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import yaml

from labeltrain.training.config import TrainConfig
from labeltrain.training.events import (
    EpochEnd,
    Event,
    Failed,
    FinalEval,
    Finished,
    RunStarted,
    Stopped,
)
from labeltrain.training.presets import AUGMENTATION_PRESETS
from labeltrain.training.runner import ConfigError, TrainingRun

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 130
# command-line flag -> TrainConfig field (None on the command line means "not given")
_FLAGS = ("model", "weights", "epochs", "imgsz", "batch", "device", "workers", "patience", "optimizer", "lr0",
          "augment", "project", "name")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train", help="train a YOLO detector (same engine as the GUI)",
        description="Train a YOLO detector on DATA (a data.yaml, or a dataset folder that is split "
                    "automatically into the run folder), or resume a stopped run. Settings: the defaults, then "
                    "--config, then the flags. Ctrl+C stops with a resumable checkpoint.",
        epilog="Exit codes: 0 finished, 1 failed, 2 usage error, 130 stopped (resume with --resume RUN_DIR).")
    p.add_argument("data", nargs="?", help="data.yaml or dataset folder")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its weights/last.pt")
    p.add_argument("--config", metavar="FILE", help="training config YAML (as saved by the GUI)")
    p.add_argument("--model", help="architecture (yolo26n.yaml, yolo11s.yaml, yolov8n.yaml...) or a local .pt")
    p.add_argument("--weights", help="local .pt to initialise the architecture from (transfer learning)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--imgsz", type=int, help="image size, a multiple of 32")
    p.add_argument("--batch", type=int, help="batch size (-1: automatic, GPU only)")
    p.add_argument("--device", help="cpu, cuda:0 (or 0), 0,1 for several GPUs; default: automatic")
    p.add_argument("--workers", type=int, help="data loader processes")
    p.add_argument("--patience", type=int, help="stop after this many epochs without improvement (0: never)")
    p.add_argument("--optimizer", help="auto, SGD, AdamW, Adam, ...")
    p.add_argument("--lr0", type=float, help="initial learning rate")
    p.add_argument("--augment", choices=list(AUGMENTATION_PRESETS), help="augmentation preset")
    p.add_argument("--project", help="folder holding the runs (default: <dataset folder>/runs)")
    p.add_argument("--name", help="run folder name (default: train, train2, ...)")
    p.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                   help="any other Ultralytics training argument, e.g. --set mosaic=0.5 (repeatable)")
    return p


def _parse_extra(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects KEY=VALUE, not '{item}'")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return out


def build_config(args: argparse.Namespace) -> TrainConfig:
    """Defaults < --config file < flags. Relative paths are made absolute against the current directory."""
    config = TrainConfig.load(args.config) if args.config else TrainConfig()
    changes: dict[str, Any] = {k: getattr(args, k) for k in _FLAGS if getattr(args, k, None) is not None}
    if args.data:
        changes["data"] = args.data
    if args.extra:
        changes["extra"] = {**config.extra, **_parse_extra(args.extra)}
    config = config.with_changes(**changes)
    for key in ("data", "project"):
        value = getattr(config, key)
        if value:
            config = config.with_changes(**{key: str(Path(value).expanduser().absolute())})
    for key in ("model", "weights"):  # local files become absolute; architecture names stay names
        value = getattr(config, key)
        if value and Path(value).expanduser().exists():
            config = config.with_changes(**{key: str(Path(value).expanduser().absolute())})
    return config


def _num(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "-"


def _losses(losses: dict[str, float]) -> str:
    return " ".join(f"{k.removesuffix('_loss')} {_num(v)}" for k, v in losses.items())


def format_event(event: Event) -> str | None:
    """The console line for an event (None: not printed)."""
    if isinstance(event, RunStarted):
        what = "resuming" if event.resumed else "training"
        return (f"{what} {Path(event.model).name} on {event.train_images} train / {event.val_images} val images, "
                f"{event.batches} batches per epoch, device {event.device}, epochs {event.start_epoch}-"
                f"{event.epochs}")
    if isinstance(event, EpochEnd):
        best = " *" if event.is_best else ""
        return (f"epoch {event.epoch}/{event.epochs}  train {_losses(event.train_losses)}  "
                f"val {_losses(event.val_losses)}  P {_num(event.precision)} R {_num(event.recall)} "
                f"mAP50 {_num(event.map50)} mAP50-95 {_num(event.map50_95)}  {event.epoch_time:.1f}s{best}")
    if isinstance(event, FinalEval):
        return (f"best.pt (epoch {event.best_epoch}): P {_num(event.precision)} R {_num(event.recall)} "
                f"mAP50 {_num(event.map50)} mAP50-95 {_num(event.map50_95)}")
    if isinstance(event, Finished):
        return (f"finished in {event.elapsed:.0f}s: best epoch {event.best_epoch}, mAP50 {_num(event.map50)}, "
                f"mAP50-95 {_num(event.map50_95)}; weights {event.weights}")
    if isinstance(event, Stopped):
        return f"stopped after epoch {event.epoch}"
    if isinstance(event, Failed):
        return f"failed ({event.kind}): {event.message}" + (f"\n  {event.hint}" if event.hint else "")
    return None


def _follow(run: TrainingRun, out: TextIO) -> Event | None:
    """Print events until the run ends. Ctrl+C (SIGINT) asks the run to stop, a second one kills it; the
    handler only signals the child, so no KeyboardInterrupt can tear the event reading apart."""
    interrupts = []

    def on_sigint(signum: int, frame: object) -> None:
        interrupts.append(signum)
        if len(interrupts) == 1:
            print("stopping (Ctrl+C again to kill)...", file=sys.stderr, flush=True)
            run.stop()
        else:
            run.kill()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    try:
        for event in run.events():
            line = format_event(event)
            if line:
                print(line, file=sys.stderr if isinstance(event, Failed) else out, flush=True)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    return run.result


def run_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Entry point of `labeltrain train`; returns the exit code."""
    out = out or sys.stdout
    run = TrainingRun()
    try:
        if args.resume:
            if args.data or args.config:
                print("labeltrain train: --resume takes no DATA or --config (the run folder has its config)",
                      file=sys.stderr)
                return EXIT_USAGE
            run_dir = run.resume(args.resume, device=args.device, batch=args.batch, workers=args.workers)
        else:
            if not args.data and not args.config:
                print("labeltrain train: give DATA (a data.yaml or dataset folder), --config or --resume",
                      file=sys.stderr)
                return EXIT_USAGE
            run_dir = run.start(build_config(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"labeltrain train: {problem}", file=sys.stderr)
        return EXIT_FAIL
    except (OSError, ValueError) as exc:
        print(f"labeltrain train: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"run folder {run_dir} (log: {run.log_path})", file=out, flush=True)
    result = _follow(run, out)
    if isinstance(result, Finished):
        return EXIT_OK
    if isinstance(result, Stopped | Failed) and result.checkpoint:
        print(f"resume with: labeltrain train --resume {run_dir}", file=out, flush=True)
    return EXIT_STOPPED if isinstance(result, Stopped) else EXIT_FAIL
