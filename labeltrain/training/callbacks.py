"""Ultralytics trainer callbacks -> labeltrain events, plus the stop checks that run between batches.

Where a stop (SIGTERM/SIGINT via request_stop, or a STOP file) interrupts training: at once while batches
train; from the end of an epoch's batches until its last.pt is written a signal only sets a flag, acted on at
the next validation batch (nothing written yet) or right after the save; after the last epoch the final
evaluation simply finishes. An interruption leaves last.pt of the last finished epoch with its optimizer
state, so `resume=True` continues it (Ultralytics' own `trainer.stop = True` would strip that state).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from labeltrain.training.events import (
    BatchEnd,
    CheckpointSaved,
    EpochEnd,
    Event,
    EventWriter,
    FinalEval,
    Finished,
    RunStarted,
    Status,
    Stopped,
)
from labeltrain.training.failures import NonFiniteLoss, StopRequested

STOP_FILE = "STOP"  # created in the run directory to ask a run (possibly on another machine) to stop
_METRICS = {"precision": "metrics/precision(B)", "recall": "metrics/recall(B)", "map50": "metrics/mAP50(B)",
            "map50_95": "metrics/mAP50-95(B)"}


def _f(value: Any) -> float:
    if hasattr(value, "detach"):
        value = value.detach()  # a tensor
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _losses(items: dict[str, Any] | None, prefix: str = "") -> dict[str, float]:
    out = {}
    for key, value in (items or {}).items():
        out[key[len(prefix):] if prefix and key.startswith(prefix) else key] = round(_f(value), 6)
    return out


class TrainingCallbacks:
    """Attach with `attach(model)`; reads the trainer the way Ultralytics' own loggers do."""

    def __init__(self, writer: EventWriter, run_dir: Path, *, resumed: bool = False, batch_interval: float = 0.05,
                 nan_batches: int = 3, parent_pid: int | None = None):
        self.writer = writer
        self.run_dir = Path(run_dir)
        self.resumed = resumed
        self.batch_interval = batch_interval  # at most one batch event per interval (first and last always)
        self.nan_batches = nan_batches  # consecutive non-finite losses that fail the run
        self.parent_pid = parent_pid
        self.stop_requested = False
        self.interruptible = True  # False while an epoch is being saved and after the last epoch
        self.finishing = False
        self.saved_epoch = 0  # last epoch whose last.pt was written
        self.final: FinalEval | None = None
        self.best_epoch = 0
        self._t0 = time.time()
        self._last_batch_emit = 0.0
        self._last_stop_check = 0.0
        self._bad_losses = 0
        self._batch = 0
        self._in_training = False

    # ---- wiring ----
    def attach(self, model: Any) -> None:
        for event in ("on_pretrain_routine_end", "on_train_start", "on_train_epoch_start", "on_train_batch_end",
                      "on_train_epoch_end", "on_val_batch_end", "on_model_save", "on_fit_epoch_end"):
            model.add_callback(event, getattr(self, event))

    def emit(self, event: Event) -> None:
        self.writer.write(event)

    # ---- stopping ----
    def request_stop(self) -> None:
        """Called from a signal handler: interrupt now when that is safe, else at the next safe point."""
        self.stop_requested = True
        if self.interruptible:
            raise StopRequested()

    def _check_stop(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_stop_check < 0.25:
            return
        self._last_stop_check = now
        if (self.run_dir / STOP_FILE).exists():
            self.stop_requested = True
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            self.stop_requested = True  # the GUI or CLI that started us is gone
        if self.stop_requested and self.interruptible:
            raise StopRequested()

    # ---- Ultralytics callbacks (each receives the trainer, or the validator for on_val_*) ----
    def on_pretrain_routine_end(self, trainer: Any) -> None:
        test = getattr(trainer, "test_loader", None)
        self.emit(RunStarted(
            run_dir=str(self.run_dir), model=str(trainer.args.model), data=str(trainer.args.data),
            epochs=int(trainer.epochs), start_epoch=int(trainer.start_epoch) + 1, batches=len(trainer.train_loader),
            train_images=len(trainer.train_loader.dataset), val_images=len(test.dataset) if test is not None else 0,
            device=str(trainer.device), resumed=self.resumed, pid=os.getpid()))
        self.saved_epoch = int(trainer.start_epoch)  # epochs already in last.pt (resume)
        self._check_stop(force=True)

    def on_train_start(self, trainer: Any) -> None:
        self._t0 = time.time()
        self._in_training = True

    def on_train_epoch_start(self, trainer: Any) -> None:
        self._batch = 0
        self.interruptible = True  # also after Ultralytics restarts an epoch (NaN recovery, OOM retry)
        self._check_stop(force=True)

    def on_train_batch_end(self, trainer: Any) -> None:
        loss = getattr(trainer, "loss", None)
        if loss is not None and not math.isfinite(_f(loss)):
            self._bad_losses += 1
            if self._bad_losses >= self.nan_batches:
                raise NonFiniteLoss(f"non-finite loss ({_f(loss)}) for {self._bad_losses} batches in a row in "
                                    f"epoch {trainer.epoch + 1}")
        else:
            self._bad_losses = 0
        nb = len(trainer.train_loader)
        self._batch += 1  # Ultralytics does not expose the batch index to callbacks
        i = self._batch
        now = time.monotonic()
        if i in (1, nb) or now - self._last_batch_emit >= self.batch_interval:
            self._last_batch_emit = now
            self.emit(BatchEnd(epoch=trainer.epoch + 1, epochs=trainer.epochs, batch=i, batches=nb,
                               losses=_losses(trainer.tloss)))
        self._check_stop()

    def on_train_epoch_end(self, trainer: Any) -> None:
        # From here until on_fit_epoch_end the epoch is validated and saved: a signal only sets the flag, and
        # the explicit checks during validation (before anything is written) or after the save act on it.
        self._check_stop(force=True)
        self.interruptible = False

    def on_val_batch_end(self, validator: Any) -> None:
        if self._in_training and not self.finishing:
            self._check_stop()
            if self.stop_requested:
                raise StopRequested()

    def on_model_save(self, trainer: Any) -> None:
        self.saved_epoch = trainer.epoch + 1
        best = trainer.best if trainer.best_fitness == trainer.fitness and trainer.best.exists() else None
        self.emit(CheckpointSaved(epoch=self.saved_epoch, last=str(trainer.last), best=str(best) if best else None))

    def on_fit_epoch_end(self, trainer: Any) -> None:
        metrics = trainer.metrics or {}
        values = {ours: round(_f(metrics.get(key)), 6) for ours, key in _METRICS.items()}
        if self.finishing:  # Ultralytics' extra call after validating best.pt
            self.final = FinalEval(best_epoch=self.best_epoch, weights=str(trainer.best), **values)
            self.emit(self.final)
            return
        stopper = getattr(trainer, "stopper", None)
        self.best_epoch = int(getattr(stopper, "best_epoch", 0) or 0)
        fitness = _f(trainer.fitness)
        self.emit(EpochEnd(
            epoch=trainer.epoch + 1, epochs=trainer.epochs,
            train_losses=_losses(trainer.label_loss_items(trainer.tloss, prefix="train"), "train/"),
            val_losses={k[4:]: round(_f(v), 6) for k, v in metrics.items() if k.startswith("val/")},
            lr={k[3:]: _f(v) for k, v in (getattr(trainer, "lr", None) or {}).items()},
            fitness=fitness, is_best=math.isfinite(fitness) and fitness == _f(trainer.best_fitness),
            best_epoch=self.best_epoch, elapsed=round(time.time() - self._t0, 3),
            epoch_time=round(_f(trainer.epoch_time), 3), **values))
        if trainer.stop:  # last epoch (or early stop): let the final evaluation run
            self.finishing = True
            self.emit(Status(message="final evaluation of best.pt"))
            return
        self.interruptible = True
        self._check_stop(force=True)

    # ---- outcomes ----
    def finished(self, trainer: Any) -> Finished:
        final = self.final
        best = trainer.best if trainer.best.exists() else trainer.last
        return Finished(
            best_epoch=self.best_epoch, epochs_done=self.saved_epoch,
            precision=final.precision if final else math.nan, recall=final.recall if final else math.nan,
            map50=final.map50 if final else math.nan, map50_95=final.map50_95 if final else math.nan,
            weights=str(best), last=str(trainer.last), elapsed=round(time.time() - self._t0, 3))

    def stopped(self) -> Stopped:
        last = self.run_dir / "weights" / "last.pt"
        checkpoint = str(last) if last.exists() else None
        return Stopped(epoch=self.saved_epoch, checkpoint=checkpoint,
                       resumable=checkpoint is not None and not self.finishing)
