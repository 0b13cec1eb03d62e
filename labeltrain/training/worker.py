"""The training child process: `python -m labeltrain.training.worker CONFIG.yaml RUN_DIR` (new run) or
`python -m labeltrain.training.worker --resume RUN_DIR` (continue from RUN_DIR/weights/last.pt).

It runs `YOLO(model).train(...)` with callbacks that append events to RUN_DIR/events.jsonl, and always ends
with one terminal event: finished, stopped (SIGTERM/SIGINT or a RUN_DIR/STOP file) or failed (classified).
Exit codes: 0 finished, 1 failed, 2 usage, 3 stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from labeltrain.training.callbacks import TrainingCallbacks
from labeltrain.training.config import CONFIG_FILE, TrainConfig
from labeltrain.training.data_prep import prepare_data, prepared_yaml
from labeltrain.training.env import disable_settings_sync, prepare_environment
from labeltrain.training.events import EventWriter, Failed, Status
from labeltrain.training.failures import StopRequested, classify

EXIT_FINISHED, EXIT_FAILED, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 3
PARENT_PID_ENV = "LABELTRAIN_PARENT_PID"  # set by the runner: the worker stops if its parent goes away
ONLINE_ENV = "LABELTRAIN_ONLINE"  # "1" lets Ultralytics go online (official weights); default offline


def _log(message: str) -> None:
    print(f"labeltrain: {message}", flush=True)


def _install_signal_handlers(callbacks: TrainingCallbacks) -> None:
    def handler(signum: int, frame: Any) -> None:
        callbacks.request_stop()

    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, handler)


def _new_model(run_dir: Path, config: TrainConfig, writer: EventWriter) -> tuple[Any, dict[str, Any]]:
    from ultralytics import YOLO

    writer.write(Status(message="preparing data"))
    prepared = prepare_data(config.data, run_dir)
    for note in prepared.notes:
        _log(note)
    writer.write(Status(message=f"building model {Path(config.model).name}"))
    model = YOLO(config.model)
    if config.weights:
        model.load(config.weights)  # transfer the layers that match
    return model, config.train_kwargs(run_dir, prepared.yaml_path)


def _resume_model(run_dir: Path, overrides: dict[str, Any], writer: EventWriter) -> tuple[Any, dict[str, Any]]:
    from ultralytics import YOLO

    last = run_dir / "weights" / "last.pt"
    if not last.is_file():
        raise FileNotFoundError(f"nothing to resume: {last} does not exist (the run stopped before its first "
                                "epoch finished; start it again)")
    writer.write(Status(message=f"loading {last.name}"))
    model = YOLO(str(last))
    ckpt = model.ckpt or {}
    if ckpt.get("optimizer") is None or ckpt.get("epoch", -1) < 0:
        raise ValueError(f"{last} is not a resumable checkpoint (the run finished, or it was saved without its "
                         "optimizer state): start a new run, with it as weights if you like")
    kwargs: dict[str, Any] = {"resume": True, "save_dir": str(run_dir)}
    if prepared_yaml(run_dir).is_file():
        kwargs["data"] = str(prepared_yaml(run_dir))
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    return model, kwargs


def run(run_dir: Path, config: TrainConfig | None, resume_overrides: dict[str, Any] | None = None) -> int:
    """Train (config given) or resume (config None) in `run_dir`; returns the exit code. When even the
    terminal event cannot be written (disk full), the exit code is all the parent gets: it classifies that."""
    try:
        return _run(run_dir, config, resume_overrides)
    except OSError as exc:
        print(f"labeltrain: cannot record the outcome in {run_dir}: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED


def _run(run_dir: Path, config: TrainConfig | None, resume_overrides: dict[str, Any] | None) -> int:
    run_dir = Path(run_dir).absolute()
    writer = EventWriter(run_dir)
    # Watch the process that started us (not the pid in the variable: a frozen app's launcher sits between).
    watch_parent = os.getppid() if os.environ.get(PARENT_PID_ENV) else None
    callbacks = TrainingCallbacks(writer, run_dir, resumed=config is None, parent_pid=watch_parent)
    _install_signal_handlers(callbacks)
    kwargs: dict[str, Any] = {}
    try:
        prepare_environment(online=os.environ.get(ONLINE_ENV) == "1")
        writer.write(Status(message="loading Ultralytics"))
        import ultralytics  # noqa: F401 - after prepare_environment, on purpose

        disable_settings_sync()
        if config is None:
            model, kwargs = _resume_model(run_dir, resume_overrides or {}, writer)
        else:
            model, kwargs = _new_model(run_dir, config, writer)
        callbacks.attach(model)
        model.train(**kwargs)
        callbacks.interruptible = False
        writer.write(callbacks.finished(model.trainer))
        return EXIT_FINISHED
    except StopRequested:
        callbacks.interruptible = False
        writer.write(callbacks.stopped())
        _log("stopped")
        return EXIT_STOPPED
    except BaseException as exc:  # noqa: BLE001 - every failure becomes an event
        callbacks.interruptible = False
        if callbacks.stop_requested:  # e.g. the multi-GPU launcher failing because we stopped its ranks
            writer.write(callbacks.stopped())
            return EXIT_STOPPED
        detail = traceback.format_exc()
        print(detail, file=sys.stderr, flush=True)
        failure = classify(exc, kwargs.get("batch"), kwargs.get("imgsz"))
        last = run_dir / "weights" / "last.pt"
        resumable = last.exists() and not callbacks.finishing and callbacks.saved_epoch > 0
        writer.write(Failed(kind=failure.kind, message=failure.message, hint=failure.hint, detail=detail[-4000:],
                            checkpoint=str(last) if resumable else None))
        _log(f"failed: {failure.message}")
        return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labeltrain.training.worker",
                                     description="Run one training in RUN_DIR (used by labeltrain's runner).")
    parser.add_argument("config", nargs="?", help="training config YAML (new run)")
    parser.add_argument("run_dir", nargs="?", help="run directory")
    parser.add_argument("--resume", metavar="RUN_DIR", help="resume the run in RUN_DIR from weights/last.pt")
    parser.add_argument("--device", default=None, help="on resume: train on this device instead")
    parser.add_argument("--batch", type=int, default=None, help="on resume: use this batch size instead")
    parser.add_argument("--workers", type=int, default=None, help="on resume: use this many data workers")
    args = parser.parse_args(argv)
    if args.resume:
        overrides = {"device": args.device, "batch": args.batch, "workers": args.workers}
        return run(Path(args.resume), None, overrides)
    if not (args.config and args.run_dir):
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    run_dir = Path(args.run_dir).absolute()
    config = TrainConfig.load(args.config)
    run_dir.mkdir(parents=True, exist_ok=True)
    if Path(args.config).absolute() != run_dir / CONFIG_FILE:
        config.save(run_dir / CONFIG_FILE)
    return run(run_dir, config)


def main_exit(argv: list[str] | None = None) -> None:
    """Run main() and leave with os._exit: everything is on disk by then, and skipping the interpreter's
    teardown of torch saves seconds (measured ~3 s after a tiny training) before the parent sees the exit."""
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main_exit()
