"""The QA views' shared model of a dataset: one TileRecord per image (boxes parsed from disk as the trainer parses
them, per-image findings), the dataset-level findings of the last full check, and the verified flags. Kept live:
label files that change on disk are re-read and re-checked (only those images), debounced by LabelWatcher.

Indexing runs on a worker thread and streams records in chunks; a refresh of a few images runs on the UI thread
(a few hundred microseconds each) so the tile updates at once; large refreshes (a git checkout) go to a worker.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable

from PySide6.QtCore import QFileSystemWatcher, QObject, QThread, QTimer, Signal

from labeltrain.core.check import RULES, CheckOptions, CheckReport, Finding
from labeltrain.core.check.registry import IMAGE_CHECKS
from labeltrain.core.dataset import Dataset
from labeltrain.core.project_state import ProjectState, sidecar_dir
from labeltrain.ui.qa.records import TileRecord, build_record, dataset_nc, label_file, label_signature
from labeltrain.ui.qa.watch import LabelWatcher
from labeltrain.ui.qa.workers import TaskSlot

SYNC_REFRESH_MAX = 48  # refresh up to this many images on the UI thread, more in the background
CHUNK_SECONDS = 0.1


class _Indexer(QThread):
    chunk = Signal(object)  # list[TileRecord]
    progressed = Signal(int, int)

    def __init__(self, dataset: Dataset, options: CheckOptions) -> None:
        super().__init__()
        self.dataset, self.options = dataset, options
        self.stopped = False

    def run(self) -> None:
        ds, nc = self.dataset, dataset_nc(self.dataset)
        items = ds.items
        batch: list[TileRecord] = []
        last = time.perf_counter()
        for i, item in enumerate(items):
            if self.stopped:
                return
            batch.append(build_record(i, ds, item, nc, self.options))
            now = time.perf_counter()
            if now - last > CHUNK_SECONDS or len(batch) >= 2000:
                self.chunk.emit(batch)
                self.progressed.emit(i + 1, len(items))
                batch, last = [], now
        if batch:
            self.chunk.emit(batch)
        self.progressed.emit(len(items), len(items))


def _per_image_rule(rule: str) -> bool:
    r = RULES.get(rule)
    return r is not None and r.family in IMAGE_CHECKS


class QAStore(QObject):
    """Records and findings of the dataset the QA views show."""

    datasetChanged = Signal()
    recordsChanged = Signal(object)    # list[int]: image indices whose records are new
    indexProgress = Signal(int, int)
    indexFinished = Signal()
    datasetFindingsChanged = Signal()  # a full check finished
    verifiedChanged = Signal()

    def __init__(self, parent: QObject | None = None, options: CheckOptions | None = None) -> None:
        super().__init__(parent)
        self.options = options or CheckOptions()
        self.dataset: Dataset | None = None
        self.records: list[TileRecord | None] = []
        self.report: CheckReport | None = None
        self.dataset_findings: list[Finding] = []
        self._extra: dict[str, list[Finding]] = {}
        self._state: ProjectState | None = None
        self._by_image: dict[str, int] = {}
        self._by_label: dict[str, list[int]] = defaultdict(list)
        self._indexer: _Indexer | None = None
        self._old_indexers: list[_Indexer] = []
        self._indexed = 0
        self.indexing = False
        self.watcher = LabelWatcher(self)
        self.watcher.changed.connect(self.refresh_labels)
        self._refresh_task = TaskSlot(self)
        self._state_watcher = QFileSystemWatcher(self)
        self._state_timer = QTimer(self, singleShot=True, interval=100)
        self._state_timer.timeout.connect(self._state_event)
        self._state_sig: tuple[int, int] | None = None
        self._state_watcher.directoryChanged.connect(lambda _p: self._state_timer.start())
        self._state_watcher.fileChanged.connect(lambda _p: self._state_timer.start())

    # --- dataset -----------------------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None) -> None:
        self._stop_indexer()
        self._refresh_task.cancel()
        self.watcher.stop()
        for paths in (self._state_watcher.files(), self._state_watcher.directories()):
            if paths:
                self._state_watcher.removePaths(paths)
        self.dataset = dataset
        self.report, self.dataset_findings, self._extra = None, [], {}
        self.records = [None] * (len(dataset.items) if dataset is not None else 0)
        self._by_image, self._by_label = {}, defaultdict(list)
        self._indexed = 0
        self._state = None
        if dataset is None:
            self.indexing = False
            self.datasetChanged.emit()
            return
        for i, item in enumerate(dataset.items):
            self._by_image[item.image] = i
            label = label_file(dataset, item)
            if label is not None:
                self._by_label[label].append(i)
        self._state = ProjectState.load(dataset.root)
        self._state_sig = label_signature(str(self._state.path))
        side = sidecar_dir(dataset.root)
        self._state_watcher.addPath(str(side if side.is_dir() else dataset.root))
        if self._state.path.is_file():
            self._state_watcher.addPath(str(self._state.path))
        self.watcher.watch(self._by_label)
        self.indexing = True
        self.datasetChanged.emit()
        self._indexer = _Indexer(dataset, self.options)
        self._indexer.chunk.connect(self._chunk)
        self._indexer.progressed.connect(self.indexProgress)
        self._indexer.finished.connect(self._indexer_finished)
        self._indexer.start(QThread.Priority.LowPriority)

    def _stop_indexer(self) -> None:
        if self._indexer is not None:
            self._indexer.stopped = True
            self._old_indexers.append(self._indexer)
            self._indexer = None

    def _chunk(self, batch: list[TileRecord]) -> None:
        if self.sender() is not self._indexer:
            return
        fresh = []
        for r in batch:
            if self.records[r.index] is None:  # a refresh may already have put a newer record there
                self.records[r.index] = r
                fresh.append(r.index)
        self._indexed += len(batch)
        if fresh:
            self.recordsChanged.emit(fresh)

    def _indexer_finished(self) -> None:
        t = self.sender()
        if t is self._indexer:
            self._indexer = None
            self.indexing = False
            self.indexFinished.emit()
        elif t in self._old_indexers:
            self._old_indexers.remove(t)
        if isinstance(t, QThread):
            t.deleteLater()

    def close(self) -> None:
        self._stop_indexer()
        self._refresh_task.close()
        self.watcher.stop()
        for t in self._old_indexers:
            t.wait()

    # --- lookups -----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def record(self, index: int) -> TileRecord | None:
        return self.records[index] if 0 <= index < len(self.records) else None

    def index_of(self, image: str) -> int | None:
        return self._by_image.get(image)

    def indices_of_label(self, label: str) -> list[int]:
        return list(self._by_label.get(label, ()))

    def findings_of(self, index: int) -> list[Finding]:
        """Per-image findings (live) plus the dataset-level ones of the last full check that name this image."""
        r = self.records[index]
        own = list(r.findings) if r is not None else []
        image = r.image if r is not None else self.dataset.items[index].image if self.dataset else None
        return own + self._extra.get(image, []) if image else own

    def all_findings(self) -> list[Finding]:
        out: list[Finding] = []
        for r in self.records:
            if r is not None:
                out.extend(r.findings)
        return out + self.dataset_findings

    def rule_counts(self) -> Counter:
        """Images per rule (live per-image findings and the last check's dataset-level ones)."""
        c: Counter = Counter()
        for r in self.records:
            if r is not None and r.findings:
                c.update(r.rules)
        for _image, found in self._extra.items():
            c.update({f.rule for f in found})
        return c

    def class_counts(self) -> Counter:
        """Boxes per class id over every parsed row."""
        c: Counter = Counter()
        for r in self.records:
            if r is not None:
                c.update(b.cls for b in r.boxes)
        return c

    # --- verified flags ----------------------------------------------------------------------------------
    def is_verified(self, image: str) -> bool:
        return self._state is not None and self._state.is_verified(image)

    def reload_verified(self) -> None:
        """Read the verified flags again from the dataset's sidecar (the editor saved them)."""
        if self.dataset is None:
            return
        self._state = ProjectState.load(self.dataset.root)
        self._state_sig = label_signature(str(self._state.path))
        self._watch_state()
        self.verifiedChanged.emit()

    def _state_event(self) -> None:
        """Something changed where the sidecar lives: reload only if state.json itself changed."""
        if self.dataset is None or self._state is None:
            return
        if label_signature(str(self._state.path)) != self._state_sig:
            self.reload_verified()
        else:
            self._watch_state()

    def _watch_state(self) -> None:
        assert self.dataset is not None and self._state is not None
        side = sidecar_dir(self.dataset.root)
        if self._state.path.is_file() and str(self._state.path) not in self._state_watcher.files():
            self._state_watcher.addPath(str(self._state.path))
        if side.is_dir() and str(side) not in self._state_watcher.directories():
            self._state_watcher.addPath(str(side))
            root = str(self.dataset.root)
            if root in self._state_watcher.directories():  # only watched until the sidecar folder existed
                self._state_watcher.removePath(root)

    # --- full check --------------------------------------------------------------------------------------
    def set_report(self, report: CheckReport) -> None:
        """Take the dataset-level findings of a full check (per-image findings stay live from the records)."""
        self.report = report
        self.dataset_findings = [f for f in report.findings if not _per_image_rule(f.rule)]
        self._extra = {}
        for f in self.dataset_findings:
            if f.image is not None:
                self._extra.setdefault(f.image, []).append(f)
        self.datasetFindingsChanged.emit()
        touched = [i for i in (self._by_image.get(img) for img in self._extra) if i is not None]
        if touched:
            self.recordsChanged.emit(touched)

    # --- refresh -----------------------------------------------------------------------------------------
    def refresh_labels(self, labels: Iterable[str]) -> None:
        """Re-read and re-check the images of these label files (called by the watcher; callable directly)."""
        indices = sorted({i for p in labels for i in self._by_label.get(os.path.abspath(p), ())})
        self.refresh(indices)

    def refresh(self, indices: list[int]) -> None:
        """Re-read and re-check these images (those not indexed yet are left to the indexer)."""
        if self.dataset is None:
            return
        todo = [i for i in indices if 0 <= i < len(self.records) and (self.records[i] is not None or not self.indexing)]
        if not todo:
            return
        if len(todo) <= SYNC_REFRESH_MAX:
            self._apply([self._build(i) for i in todo])
            return
        ds, nc, options = self.dataset, dataset_nc(self.dataset), self.options

        def work(progress, cancelled):
            out = []
            for i in todo:
                if cancelled():
                    break
                out.append(build_record(i, ds, ds.items[i], nc, options))
            return out

        self._refresh_task.start(work, self._apply)

    def _build(self, index: int) -> TileRecord:
        ds = self.dataset
        assert ds is not None
        return build_record(index, ds, ds.items[index], dataset_nc(ds), self.options)

    def _apply(self, records: list[TileRecord]) -> None:
        if self.dataset is None:
            return
        for r in records:
            if r.index < len(self.records) and self.dataset.items[r.index].image == r.image:
                self.records[r.index] = r
                if r.label is not None:
                    self.watcher.mark_seen(r.label, r.signature)
        self.recordsChanged.emit([r.index for r in records])
