"""Trainer callbacks on a stand-in trainer: NaN detection, stop points, batch-event throttling.
(The real Ultralytics trainer drives them in test_training_e2e.py.)"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from labeltrain.training.callbacks import STOP_FILE, TrainingCallbacks
from labeltrain.training.events import EventWriter
from labeltrain.training.failures import NonFiniteLoss, StopRequested
from labeltrain.training.reader import read_events


def _trainer(loss: float = 1.0, batches: int = 4) -> SimpleNamespace:
    return SimpleNamespace(loss=loss, epoch=0, epochs=3, train_loader=[None] * batches,
                           tloss={"box_loss": loss, "cls_loss": 2.0})


def _callbacks(tmp_path: Path, **kw) -> TrainingCallbacks:
    return TrainingCallbacks(EventWriter(tmp_path), tmp_path, **kw)


def test_nan_loss_fails_after_consecutive_batches(tmp_path: Path) -> None:
    cb = _callbacks(tmp_path, nan_batches=3)
    trainer = _trainer()
    cb.on_train_epoch_start(trainer)
    for loss in (math.nan, math.inf, 1.0, math.nan, math.nan):  # a finite loss resets the count
        trainer.loss = loss
        cb.on_train_batch_end(trainer)
    trainer.loss = math.nan
    with pytest.raises(NonFiniteLoss, match="3 batches in a row in epoch 1"):
        cb.on_train_batch_end(trainer)


def test_stop_file_stops_at_the_next_batch(tmp_path: Path) -> None:
    cb = _callbacks(tmp_path)
    trainer = _trainer()
    cb.on_train_epoch_start(trainer)
    cb.on_train_batch_end(trainer)
    (tmp_path / STOP_FILE).touch()
    cb._last_stop_check = 0.0  # the file is looked at every 0.25 s
    with pytest.raises(StopRequested):
        cb.on_train_batch_end(trainer)


def test_signal_during_the_save_window_waits_for_the_save(tmp_path: Path) -> None:
    cb = _callbacks(tmp_path)
    trainer = _trainer()
    with pytest.raises(StopRequested):
        cb.request_stop()  # while training batches: at once
    cb.stop_requested = False
    cb._in_training = True
    cb.on_train_epoch_end(trainer)  # validation and saving follow
    cb.request_stop()  # no exception: only flagged
    assert cb.stop_requested
    with pytest.raises(StopRequested):
        cb.on_val_batch_end(SimpleNamespace())  # validation writes nothing yet: stop there


def test_after_the_last_epoch_the_run_finishes(tmp_path: Path) -> None:
    cb = _callbacks(tmp_path)
    cb.finishing, cb.interruptible = True, False
    cb.request_stop()
    cb.on_val_batch_end(SimpleNamespace())  # final evaluation is not interrupted
    assert cb.stop_requested


def test_batch_events_are_throttled(tmp_path: Path) -> None:
    cb = _callbacks(tmp_path, batch_interval=60.0)
    trainer = _trainer(batches=50)
    cb.on_train_epoch_start(trainer)
    for _ in range(50):
        cb.on_train_batch_end(trainer)
    batches = [e for e in read_events(tmp_path) if e.type == "batch"]
    assert [e.batch for e in batches] == [1, 50]  # first and last of the epoch always
    assert batches[0].losses == {"box_loss": 1.0, "cls_loss": 2.0} and batches[0].epoch == 1
