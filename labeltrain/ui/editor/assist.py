"""Model-assisted labelling: proposals from a model (.pt or .onnx) per image, computed in the background and
kept apart from the labels. The editor shows the visible ones (core.proposals: above the confidence slider,
not overlapping a human box); accepting one is an ordinary undoable edit of the document.

    assist = AssistSession()
    assist.set_model(Path("runs/train/weights/best.pt"))
    assist.prelabel([image, ...])            # progress / changed(image) / finished signals
    assist.visible(image, document.boxes)    # what to draw
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from labeltrain.core.model import Box
from labeltrain.core.proposals import Proposal, from_rows, visible
from labeltrain.ui.qa.workers import TaskSlot

PREDICT_FLOOR = 0.005  # predictions are kept down to this score, so moving the slider needs no new run
DEFAULT_CONF = 0.25


class AssistSession(QObject):
    changed = Signal(str)             # image whose proposals changed
    progress = Signal(int, int)
    finished = Signal(str)            # a summary line
    failed = Signal(str)
    busyChanged = Signal(bool)
    modelChanged = Signal(object)     # Path | None
    confChanged = Signal(float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: Path | None = None
        self.conf = float(QSettings().value("assist/conf", DEFAULT_CONF, type=float))
        self._proposals: dict[str, tuple[Proposal, ...]] = {}
        self._task = TaskSlot(self)
        self._results: queue.Queue = queue.Queue()
        self._detector = None  # (path, Detector), used by one worker thread at a time (the lock)
        self._detector_lock = threading.Lock()  # a cancelled run may still finish its image as the next starts
        self._requested = 0

    # --- settings ----------------------------------------------------------------------------------------
    def set_model(self, path: Path | None) -> None:
        path = Path(path) if path else None
        if path != self.model:
            self.model = path
            self.modelChanged.emit(path)

    def set_conf(self, conf: float) -> None:
        conf = min(max(float(conf), PREDICT_FLOOR), 1.0)
        if conf != self.conf:
            self.conf = conf
            QSettings().setValue("assist/conf", conf)
            self.confChanged.emit(conf)

    # --- proposals ---------------------------------------------------------------------------------------
    def proposals(self, image: str) -> tuple[Proposal, ...]:
        return self._proposals.get(image, ())

    def visible(self, image: str, human: Sequence[Box]) -> list[Proposal]:
        return visible(self.proposals(image), human, self.conf)

    def pending_images(self) -> int:
        return sum(1 for p in self._proposals.values() if p)

    def offer(self, image: str, proposals: Sequence[Proposal]) -> None:
        """Add proposals from elsewhere (the label-error queue's "missing box") to an image's."""
        have = self._proposals.get(image, ())
        new = tuple(p for p in proposals if p not in have)
        if new:
            self._proposals[image] = tuple(sorted((*have, *new), key=lambda p: -p.score))
            self.changed.emit(image)

    def remove(self, image: str, gone: Sequence[Proposal]) -> None:
        """Drop proposals (accepted or rejected): they are not shown again for this image."""
        if not gone or image not in self._proposals:
            return
        drop = set(gone)
        self._proposals[image] = tuple(p for p in self._proposals[image] if p not in drop)
        self.changed.emit(image)

    def clear(self) -> None:
        self.cancel()
        images = list(self._proposals)
        self._proposals.clear()
        for image in images:
            self.changed.emit(image)

    # --- running -----------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._task.busy()

    def prelabel(self, images: Sequence[str]) -> bool:
        """Predict proposals for `images` in the background (results stream in as `changed(image)`)."""
        if self.model is None:
            self.failed.emit("Choose a model first (a best.pt of a training, or an exported .onnx).")
            return False
        if not images:
            self.finished.emit("No image to pre-label.")
            return False
        model, todo = self.model, list(images)
        results = self._results = queue.Queue()
        self._requested = len(todo)

        def work(progress, cancelled):
            from labeltrain.training.detectors import open_detector
            from labeltrain.training.predict import predict_images

            with self._detector_lock:
                if self._detector is None or self._detector[0] != model:
                    self._detector = (model, open_detector(model))
                detector = self._detector[1]
                count = 0
                for i, pred in enumerate(predict_images(detector, todo, conf=PREDICT_FLOOR, cancelled=cancelled)):
                    results.put(pred)
                    count += len(pred.rows)
                    progress(i + 1, len(todo))
                return count

        self._task.start(work, self._done, self._failed, self._progressed)
        self.busyChanged.emit(True)
        self.progress.emit(0, len(todo))
        return True

    def cancel(self) -> None:
        if self._task.busy():
            self._task.cancel()
            self._drain()
            self.busyChanged.emit(False)
            self.finished.emit("Pre-labelling cancelled.")

    def close(self) -> None:
        self._task.close()

    def _drain(self) -> None:
        while True:
            try:
                pred = self._results.get_nowait()
            except queue.Empty:
                return
            if pred.error is None:
                self._proposals[pred.image] = from_rows(pred.rows)
                self.changed.emit(pred.image)

    def _progressed(self, done: int, total: int) -> None:
        self._drain()
        self.progress.emit(done, total)

    def _done(self, count: int) -> None:
        self._drain()
        self.busyChanged.emit(False)
        name = self.model.name if self.model else "the model"
        self.finished.emit(f"{name}: {count} proposals (score >= {PREDICT_FLOOR}) on {self._requested} images")

    def _failed(self, message: str) -> None:
        self._drain()
        self.busyChanged.emit(False)
        self.failed.emit(f"Pre-labelling failed: {message}")
