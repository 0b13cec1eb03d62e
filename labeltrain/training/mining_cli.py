"""`labeltrain mine`: label-error mining headless: a ranked list of the images a model disputes, or JSON.

Exit codes: 0 done, 1 failed or cancelled (one-line reason on stderr), 2 usage. Ctrl+C stops the training that
is running (the folds already trained stay in the work folder).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from labeltrain.core.disputes import KIND_TITLES, KINDS, RESULT_FILE, MiningResult, Thresholds
from labeltrain.training.config import TrainConfig

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DEFAULT_TOP = 20


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "mine", help="rank images by how much a trained model disputes their labels",
        description="Find probable label errors (missing boxes, spurious boxes, wrong classes, poorly placed "
                    "boxes) in DATA. Default: k-fold, 3 models trained here, each image predicted by a model that "
                    "did not train on it. --weights: one given model predicts every image (in-sample: a model "
                    "trained on these images under-reports their errors).",
        epilog="Exit codes: 0 done, 1 failed or cancelled, 2 usage error.")
    p.add_argument("data", help="dataset folder or data.yaml")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--weights", metavar="W", help="a trained model (.pt or .onnx): in-sample mining")
    how.add_argument("--folds", type=int, metavar="K", help="k-fold mining with K models (default 3)")
    p.add_argument("--conf", type=float, default=None,
                   help="confidence of a 'confident' prediction (default: half the model's typical confidence)")
    p.add_argument("--top", type=int, default=None, help=f"images listed (default {DEFAULT_TOP}; --json: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object (the whole result)")
    p.add_argument("--out", metavar="FILE", help="also save the result as JSON here (default: next to the run)")
    train = p.add_argument_group("k-fold training (defaults: --config, else labeltrain's training defaults)")
    train.add_argument("--config", metavar="FILE", help="training config YAML (as saved by the GUI)")
    train.add_argument("--model", help="architecture YAML or local .pt")
    train.add_argument("--epochs", type=int)
    train.add_argument("--imgsz", type=int)
    train.add_argument("--batch", type=int)
    train.add_argument("--device", help="cpu, 0, cuda:0 ...")
    train.add_argument("--workers", type=int)
    train.add_argument("--seed", type=int, default=0, help="fold assignment seed (default 0)")
    train.add_argument("--work-dir", metavar="DIR", help="folder for the fold runs (default <dataset>/runs/mine)")
    return p


def _config(args: argparse.Namespace) -> TrainConfig:
    config = TrainConfig.load(args.config) if args.config else TrainConfig()
    changes = {k: getattr(args, k) for k in ("model", "epochs", "imgsz", "batch", "device", "workers")
               if getattr(args, k) is not None}
    if changes.get("model") and Path(changes["model"]).expanduser().exists():
        changes["model"] = str(Path(changes["model"]).expanduser().absolute())
    return config.with_changes(**changes)


def _box(xyxy: tuple[float, float, float, float]) -> str:
    return "[" + ", ".join(f"{v:.0f}" for v in xyxy) + "]"


def format_text(result: MiningResult, top: int = DEFAULT_TOP, root: str | None = None) -> str:
    """The ranked list: a summary, then each disputed image with its disputes (box index, message, boxes)."""
    counts = result.counts()
    disputed = result.disputed()
    kinds = ", ".join(f"{KIND_TITLES[k]} {counts[k]}" for k in KINDS)
    what = f"k-fold, {result.folds} models" if result.mode == "k-fold" else "in-sample, one model"
    lines = [f"{len(disputed)} of {len(result.images)} images disputed ({what}): {kinds}"]
    lines += [f"  {note}" for note in result.notes]
    base = Path(root or result.data)
    base = base if base.is_dir() else base.parent
    for rank, im in enumerate(disputed[:top], 1):
        try:
            name = Path(im.image).relative_to(base).as_posix()
        except ValueError:
            name = im.image
        lines.append(f"{rank:3d}. {im.score:.3f}  {name}")
        for d in im.disputes:
            where = f"box {d.box_index}: " if d.box_index is not None else ""
            boxes = []
            if d.label is not None:
                boxes.append(f"label {_box(d.label.xyxy)}")
            if d.prediction is not None:
                boxes.append(f"model {_box(d.prediction.xyxy)}")
            lines.append(f"       {KIND_TITLES[d.kind]:<17} {d.score:.2f}  {where}{d.message}  ({', '.join(boxes)})")
    if len(disputed) > top:
        lines.append(f"  ... {len(disputed) - top} more disputed images (--top N, or --json for all)")
    errors = [im for im in result.images if im.error]
    if errors:
        lines.append(f"  {len(errors)} images could not be read, e.g. {errors[0].image}: {errors[0].error}")
    return "\n".join(lines)


class _Progress:
    """One stderr line per training epoch and one per prediction phase (not one per image)."""

    def __init__(self, out: TextIO):
        self.out = out
        self.phase: str | None = None

    def __call__(self, done: int, total: int, text: str) -> None:
        head, sep, _ = text.partition("predicting")
        if sep:
            if head == self.phase:
                return
            self.phase, text = head, f"{head}predicting"
        else:
            self.phase = None
        print(f"mine [{done}/{total}] {text}", file=self.out, flush=True)


def run_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Entry point of `labeltrain mine`; returns the exit code."""
    from labeltrain.training.mining import MiningCancelled, MiningError, mine, result_path

    out = out or sys.stdout
    if args.folds is not None and args.folds < 2:
        print("labeltrain mine: --folds needs at least 2", file=sys.stderr)
        return EXIT_USAGE
    if args.top is not None and args.top < 1:
        print("labeltrain mine: --top needs at least 1", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    in_main = threading.current_thread() is threading.main_thread()

    def on_sigint(signum: int, frame: object) -> None:
        print("stopping...", file=sys.stderr, flush=True)
        stop.set()

    previous = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    try:
        target = Path(args.out) if args.out else (result_path(args.weights) if args.weights else None)
        result = mine(args.data, weights=args.weights, folds=args.folds,
                      config=None if args.weights else _config(args), thresholds=Thresholds(conf=args.conf),
                      seed=args.seed, work_dir=args.work_dir, out=target, progress=_Progress(sys.stderr),
                      cancelled=stop.is_set)
    except MiningCancelled:
        print("labeltrain mine: cancelled", file=sys.stderr)
        return EXIT_FAIL
    except (MiningError, OSError, ValueError) as exc:
        print(f"labeltrain mine: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return EXIT_FAIL
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    saved = target if target is not None else Path(result.work_dir) / RESULT_FILE
    if args.json:
        if args.top is not None:
            from dataclasses import replace

            result = replace(result, images=result.images[:args.top])
        print(result.to_json(), file=out)
    else:
        print(format_text(result, args.top or DEFAULT_TOP, args.data), file=out)
        print(f"saved: {saved}", file=out)
    return EXIT_OK
