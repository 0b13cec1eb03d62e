"""TrainingPanel: the training tab. Settings on the left; Train / Stop / Resume, progress with ETA, the outcome
card, live curves, the log and the run history on the right. The training runs in a child process driven by
RunController, so nothing here can freeze or crash the window.

For the main window: `set_dataset(dataset)` when a dataset is opened, connect `aboutToTrain` to save pending
edits (labels are read from disk), `bestWeightsChanged(path)` for model-assisted labelling, and call
`shutdown()` before the window closes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from labeltrain.core.dataset import Dataset
from labeltrain.training.config import TrainConfig
from labeltrain.training.events import CheckpointSaved, Event, Failed, Finished, RunStarted, Stopped
from labeltrain.training.reader import read_events
from labeltrain.training.runs import RunSummary, summarize_run
from labeltrain.ui.background import BackgroundJob
from labeltrain.ui.training.config_form import ConfigForm
from labeltrain.ui.training.controls import RunControls
from labeltrain.ui.training.curves import TrainingCurves
from labeltrain.ui.training.data_source import (
    CleanData,
    is_sample_project,
    preparation,
    runs_folder,
    snapshot,
)
from labeltrain.ui.training.history import LogView, RunHistory
from labeltrain.ui.training.run_controller import RunController
from labeltrain.ui.training.summary import ProgressTracker, SummaryCard


class TrainingPanel(QWidget):
    """Configure, run, watch and review trainings of the open dataset (or of any data.yaml)."""

    bestWeightsChanged = Signal(str)  # best.pt was written (during the run) or the run finished with it
    runFinished = Signal(str)  # run folder of a run that completed
    aboutToTrain = Signal()  # emitted before the labels are read: save pending edits now
    busyChanged = Signal(bool)  # preparing data, training or monitoring

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = RunController(self)
        self.tracker = ProgressTracker()
        self.form = ConfigForm()
        self.curves = TrainingCurves()
        self.summary = SummaryCard()
        self.history = RunHistory()
        self.log = LogView()
        self.run_dir: Path | None = None  # the run shown (training, watched, or opened from the history)
        self._preparing = False
        self._failure_shown = False
        self._was_busy = False
        self._prep = BackgroundJob(self)
        self._prep.done.connect(self._on_prepared)
        self._reader = BackgroundJob(self)
        self._reader.done.connect(self._on_run_read)
        self._build()
        self._connect()
        self._update_buttons()

    # ---- layout ----
    def _build(self) -> None:
        scroll = QScrollArea(widgetResizable=True, frameShape=QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)
        scroll.setMinimumWidth(330)
        self.controls = RunControls()
        self.controls.train_button.clicked.connect(self.train)
        self.controls.stop_button.clicked.connect(self.stop)
        self.controls.resume_button.clicked.connect(lambda: self.resume())
        self.controls.watch_button.clicked.connect(self._watch_clicked)
        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(self.history, "Run history")
        vertical = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        vertical.addWidget(self.curves)
        vertical.addWidget(self.tabs)
        vertical.setStretchFactor(0, 3)
        vertical.setStretchFactor(1, 1)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(6, 0, 0, 0)
        for widget, stretch in ((self.controls, 0), (self.summary, 0), (vertical, 1)):
            column.addWidget(widget, stretch)
        splitter = QSplitter(Qt.Orientation.Horizontal, childrenCollapsible=False)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)

    def _connect(self) -> None:
        c = self.controller
        c.events.connect(self._on_events)
        c.replayed.connect(self._on_events)
        c.status.connect(self._set_status)
        c.runStarted.connect(self._on_run_started)
        c.checkpoint.connect(self._on_checkpoint)
        c.finished.connect(self._on_finished)
        c.stopped.connect(self._on_stopped)
        c.failedEvent.connect(self._on_failed_event)
        c.failed.connect(self._on_failed)
        c.configRejected.connect(self.form.show_problems)
        c.logAppended.connect(self.log.append_text)
        c.activeChanged.connect(lambda _active: self._update_buttons())
        self.form.changed.connect(self._on_form_changed)
        self.history.runOpened.connect(self.open_run)

    # ---- API ----
    def set_dataset(self, dataset: Dataset | None) -> None:
        """The open dataset: default data for Train, its runs folder for the history, sample defaults."""
        self.form.set_dataset(dataset)
        if is_sample_project(dataset) and self.form.config().with_changes(data="", project="") == TrainConfig():
            self.form.apply_sample_defaults()
        self.history.set_folder(runs_folder(dataset) if dataset is not None else self.form.default_project())

    @property
    def busy(self) -> bool:
        return self._preparing or self.controller.active

    def train(self) -> bool:
        """Validate the settings and start a run (after the label check when training on the open dataset)."""
        if self.busy:
            return False
        if self.form.check():
            self._set_status("Fix the settings marked in red, then press Train again.")
            return False
        self.aboutToTrain.emit()
        config = self.form.config()
        self._preparing = True
        self._update_buttons()
        if not self.form.uses_dataset():
            self._launch(config)
            return True
        self._set_status("Checking the labels and splitting the dataset…")
        self._prep.start(preparation(snapshot(self.form.dataset), config))
        return True

    def stop(self) -> None:
        """Stop the run (resumable from its last finished epoch), or cancel the label check before it."""
        if self._preparing:
            self._prep.cancel()
            self._preparing = False
            self._set_status("Cancelled before the training started.")
            self._update_buttons()
        elif self.controller.active:
            self.controller.stop()
            self._set_status("Stopping… (the last finished epoch stays resumable)")
            self.controls.stop_button.setEnabled(False)

    def resume(self, run_dir: str | Path | None = None) -> bool:
        target = Path(run_dir) if run_dir else self.run_dir
        if self.busy or target is None:
            return False
        self._reset_view(target)
        self._set_status(f"Resuming {target.name}…")
        resumed = self.controller.resume(target) is not None
        self._update_buttons()
        return resumed

    def watch(self, run_dir: str | Path) -> bool:
        """Follow a run folder live (a run started by the CLI, or on a machine writing to a shared disk)."""
        if self._preparing or (self.controller.active and not self.controller.watching):
            return False
        self._reset_view(Path(run_dir))
        ok = self.controller.watch(run_dir)
        if ok:
            self._set_status(f"Monitoring {Path(run_dir)} …")
        return ok

    def open_run(self, summary: RunSummary | str | Path) -> None:
        """Show a run of the history (its curves from events.jsonl or results.csv, and its summary)."""
        if self.busy:
            self._set_status("A run is being trained or monitored: its curves stay on screen until it ends.")
            return
        run_dir = summary.run_dir if isinstance(summary, RunSummary) else Path(summary)
        self.run_dir = run_dir
        self._reader.start(lambda progress, cancelled: (run_dir, read_events(run_dir), summarize_run(run_dir)))

    def shutdown(self) -> None:
        """Stop a running training (it keeps a resumable checkpoint) and end the background threads."""
        self._prep.close()
        self._reader.close()
        self.history.close_jobs()
        self.controller.shutdown()

    # ---- running ----
    def _launch(self, config: TrainConfig) -> None:
        self._preparing = False
        self._reset_view(None)
        run_dir = self.controller.start(config)
        if run_dir is not None:
            self.run_dir = run_dir
            self._set_status(f"Starting the training in {run_dir} …")
            self.history.set_folder(run_dir.parent)
        self._update_buttons()

    def _on_prepared(self, result: tuple[TrainConfig, CleanData | Exception]) -> None:
        config, prepared = result
        if isinstance(prepared, Exception):
            self._preparing = False
            self.summary.show_failed(f"The dataset cannot be used for training: {prepared}")
            self._set_status("Ready.")
            self._update_buttons()
            return
        self.form.data_note.setText(prepared.describe())
        self.form.data_note.setToolTip("\n".join(prepared.excluded_lines()) or "Every image passed the checker.")
        self._launch(config.with_changes(data=str(prepared.yaml_path)))
        self.log.append_text("\n".join(prepared.log_lines()))

    def _reset_view(self, run_dir: Path | None) -> None:
        self.run_dir = run_dir
        self.curves.reset()
        self.tracker.reset()
        self.log.clear()
        self.summary.hide()
        self.controls.clear_progress()
        self._failure_shown = False

    def _on_events(self, events: list[Event]) -> None:
        self.curves.add_events(events)
        for event in events:
            self.tracker.update(event)
        self.controls.show_progress(self.tracker)

    def _on_run_started(self, event: RunStarted) -> None:
        self.run_dir = self.controller.run_dir or self.run_dir  # (event.run_dir is the writer's path)
        verb = "Resumed" if event.resumed else "Training"
        self._set_status(f"{verb} {Path(event.model).name} on {event.train_images} images "
                         f"({event.val_images} for validation), device {event.device}: {self.run_dir}")

    def _on_checkpoint(self, event: CheckpointSaved) -> None:
        if event.best:
            self.bestWeightsChanged.emit(event.best)

    def _on_finished(self, event: Finished) -> None:
        self.summary.show_finished(event, self.run_dir)
        self.controls.show_progress(self.tracker, done=True)
        self._set_status("Finished.")
        if event.weights:
            self.bestWeightsChanged.emit(event.weights)
        if self.run_dir is not None:
            self.runFinished.emit(str(self.run_dir))
        self.history.refresh()

    def _on_stopped(self, event: Stopped) -> None:
        self.summary.show_stopped(event, self.run_dir)
        self._set_status("Stopped.")
        self.history.refresh()

    def _on_failed_event(self, event: Failed) -> None:
        self._failure_shown = True
        self.summary.show_failed(event.message, event.hint, self.run_dir, event)
        self._set_status("Failed: ready for another run.")
        self.history.refresh()

    def _on_failed(self, reason: str, kind: str) -> None:
        if self._failure_shown:  # already on the card, from the run's own failed event
            self._failure_shown = False
            return
        self._preparing = False
        self.summary.show_failed(reason)
        self._set_status("Ready.")
        self._update_buttons()

    def _on_run_read(self, result: tuple[Path, list[Event], RunSummary | None]) -> None:
        run_dir, events, summary = result
        if run_dir != self.run_dir or self.busy:
            return
        self.curves.show_run(events)
        self.tracker.reset()
        self._on_events([])
        if summary is not None:
            self.summary.show_summary(summary)
        self._set_status(f"Showing {run_dir}")
        self._update_buttons()

    # ---- small things ----
    def _watch_clicked(self) -> None:
        if self.controller.watching:
            self.controller.detach()
            self._set_status("No longer monitoring.")
            return
        folder = QFileDialog.getExistingDirectory(self, "Monitor a run folder", str(self.history.folder or ""))
        if folder:
            self.watch(folder)

    def _on_form_changed(self) -> None:
        project = self.form.config().project
        if project and (self.history.folder is None or Path(project) != self.history.folder):
            self.history.set_folder(project)

    def _set_status(self, text: str) -> None:
        self.controls.status.setText(text)

    def _update_buttons(self) -> None:
        last = self.run_dir / "weights" / "last.pt" if self.run_dir is not None else None
        resumable = last is not None and last.is_file() and self.summary.resumable and not self.summary.isHidden()
        self.controls.set_state(busy=self.busy, active=self.controller.active, watching=self.controller.watching,
                                preparing=self._preparing, resumable=resumable)
        if self.busy != self._was_busy:
            self._was_busy = self.busy
            self.busyChanged.emit(self.busy)
