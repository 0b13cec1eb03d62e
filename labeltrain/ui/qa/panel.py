"""QAPanel: the dataset QA views in one tab widget (Preview, Findings, Classes gallery, Trainer's eye, Health),
sharing one QAStore (records parsed from disk, kept live by a file watcher) and one thumbnail cache.

    qa = QAPanel()
    qa.set_dataset(dataset)                         # labeltrain.core.dataset.Dataset (or None)
    qa.openInEditor.connect(lambda image, box: ...) # box: index in the editor's box list, or None
    dock.setWidget(qa)                              # or a tab of the main window

The panel never reads the editor's in-memory state: it shows what is on disk. After the editor saves, the
watcher picks the change up (<= 250 ms); `refresh_labels([path])` forces it at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QTabWidget, QWidget

from labeltrain.core.dataset import Dataset
from labeltrain.ui.qa.findings_view import FindingsView
from labeltrain.ui.qa.gallery import CropGallery
from labeltrain.ui.qa.health import HealthView
from labeltrain.ui.qa.previewer import PreviewPanel
from labeltrain.ui.qa.store import QAStore
from labeltrain.ui.qa.thumbs import ThumbnailProvider
from labeltrain.ui.qa.tile_model import TileFilter
from labeltrain.ui.qa.trainers_eye import TrainersEyePanel


class QAPanel(QTabWidget):
    openInEditor = Signal(str, object)  # image path, box index (editor's list) or None

    def __init__(self, parent: QWidget | None = None, *, auto_check: bool = True) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.store = QAStore(self)
        self.thumbs = ThumbnailProvider(self)
        self.preview = PreviewPanel(self.store, self.thumbs, self)
        self.findings = FindingsView(self.store, self, auto_check=auto_check)
        self.gallery = CropGallery(self.store, self)
        self.trainers_eye = TrainersEyePanel(self)
        self.health = HealthView(self.store, self)
        self.addTab(self.preview, "Preview")
        self.addTab(self.findings, "Findings")
        self.addTab(self.gallery, "Classes")
        self.addTab(self.trainers_eye, "Trainer's eye")
        self.addTab(self.health, "Health")
        for view in (self.preview, self.findings, self.gallery):
            view.openInEditor.connect(self.openInEditor)
        self.store.datasetFindingsChanged.connect(self._update_titles)
        self.store.indexFinished.connect(self._update_titles)
        self._closed = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close_workers)

    # --- API for the main window ----------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show `dataset` in every view (reading starts in the background at once; trainer's eye on demand)."""
        self.preview.set_dataset(dataset)
        self.gallery.crops.clear()
        self.trainers_eye.set_dataset(dataset)
        self._update_titles()

    def dataset(self) -> Dataset | None:
        return self.store.dataset

    def refresh_labels(self, label_paths: Iterable[str]) -> None:
        """Re-read these label files now (the watcher would within 250 ms anyway)."""
        self.store.refresh_labels(label_paths)

    def show_findings_for(self, rule: str) -> None:
        """Preview tab filtered to the images with findings of `rule`."""
        self.preview.set_filter(TileFilter(rule=rule))
        self.setCurrentWidget(self.preview)

    def run_check(self) -> None:
        self.findings.run_check()
        self.setCurrentWidget(self.findings)

    def close_workers(self) -> None:
        """Stop every worker thread (call before the window goes away; closeEvent does it too)."""
        if self._closed:
            return
        self._closed = True
        for view in (self.findings, self.gallery, self.trainers_eye, self.health):
            view.close_workers()
        self.store.close()
        self.thumbs.close()

    def shutdown(self) -> None:
        """The window is closing (the workspace's name for close_workers)."""
        self.close_workers()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_workers()
        super().closeEvent(event)

    def _update_titles(self) -> None:
        report = self.store.report
        errors = sum(1 for f in self.store.all_findings() if f.severity == "error") if self.store.dataset else 0
        self.setTabText(self.indexOf(self.findings), f"Findings ({errors:,} errors)" if errors else "Findings")
        if report is not None and not report.ok:
            self.setTabToolTip(self.indexOf(self.findings), f"{len(report.errors())} errors in the last full check")
