"""The main window: file list (left), image view (centre), boxes and classes (right), status bar.

The window wires things together and holds no dataset logic: discovery runs in DatasetLoader (a worker
thread), decoding in ImageLoader (another), label reading through `core.dataset.load_annotation`.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QTreeWidgetItem,
    QWidget,
)

from labeltrain import __version__
from labeltrain.core.dataset import Dataset
from labeltrain.core.images import is_image_name
from labeltrain.core.model import Annotation
from labeltrain.core.problems import ProblemList
from labeltrain.ui.assisting import Assisting
from labeltrain.ui.dataset_loader import DatasetLoader
from labeltrain.ui.editing import Editing
from labeltrain.ui.editor.canvas import EditorView
from labeltrain.ui.editor.controller import EditorController
from labeltrain.ui.editor.document import LabelDocument
from labeltrain.ui.editor.prompts import DialogPrompts
from labeltrain.ui.editor.session import EditSession
from labeltrain.ui.file_list_model import FileListModel
from labeltrain.ui.image_loader import ImageLoader, LoadedImage
from labeltrain.ui.panels import BoxList, ClassList
from labeltrain.ui.review_queue import ReviewQueue
from labeltrain.ui.window_actions import build_actions, build_menus_and_toolbar, editor_actions
from labeltrain.ui.workspace import Workspace

PREFETCH_AHEAD = 2
SAVE_FORMATS = {"yolo": "YOLO (.txt)", "voc": "Pascal VOC (.xml)", "createml": "CreateML (.json)"}
RECENT_MAX = 10
PROBLEMS_IN_TOOLTIP = 15


def _problems_tooltip(problems: ProblemList) -> str:
    lines = [str(p) for p in problems[:PROBLEMS_IN_TOOLTIP]]
    if len(problems) > PROBLEMS_IN_TOOLTIP:
        lines.append(f"… and {len(problems) - PROBLEMS_IN_TOOLTIP} more")
    return "\n".join(lines)


class MainWindow(QMainWindow):
    """File list | image view | boxes and classes. Opens folders, data.yaml and COCO/CreateML files."""

    datasetLoaded = Signal(object)  # Dataset
    imageShown = Signal(str)        # path of the image now on screen (pixels or placeholder)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("labeltrain")
        self.setMinimumSize(QSize(720, 480))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self._dataset: Dataset | None = None
        self._row = -1
        self._annotation: Annotation | None = None
        self._image_problems = ProblemList()
        self._select_after_load: str | None = None

        self.document = LabelDocument(self)
        self.view = EditorView(self.document, self)
        self.workspace = Workspace(self, self.view)
        self.workspace.install()
        self.prompts = DialogPrompts(self)
        self.session = EditSession(self.document, self.prompts, self)
        self.editor = EditorController(self.document, self.view, self.session, self)
        self.file_model = FileListModel(self)
        self.file_list = QListView(self)
        self.file_list.setModel(self.file_model)
        self.file_list.setUniformItemSizes(True)
        self.file_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.file_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.file_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.file_list.selectionModel().currentRowChanged.connect(self._on_row_selected)
        self.box_list = BoxList(self)
        self.box_list.currentItemChanged.connect(self._on_box_selected)
        self.box_list.itemDoubleClicked.connect(lambda *_: self.editor.edit_class())
        self.class_list = ClassList(self)

        self.files_dock = self._dock("Files", "files", self.file_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.boxes_dock = self._dock("Boxes", "boxes", self.box_list, Qt.DockWidgetArea.RightDockWidgetArea)
        self.classes_dock = self._dock("Classes", "classes", self.class_list, Qt.DockWidgetArea.RightDockWidgetArea)
        self.assisting = Assisting(self)
        self.assist_dock = self._dock("Assist", "assist", self.assisting.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.classes_dock, self.assist_dock)  # a tab beside Classes, raised by Pre-label
        self.classes_dock.raise_()
        self.editor_docks = [self.files_dock, self.boxes_dock, self.classes_dock, self.assist_dock]
        self.resizeDocks([self.files_dock, self.boxes_dock], [250, 240], Qt.Orientation.Horizontal)

        self._build_status_bar()
        self.review_queue = ReviewQueue(self)
        self.editing = Editing(self)
        build_actions(self)
        build_menus_and_toolbar(self)

        self.image_loader = ImageLoader(self)
        self.image_loader.loaded.connect(self._on_pixels)
        self.image_loader.failed.connect(self._on_pixels_failed)
        self.dataset_loader = DatasetLoader(self)
        self.dataset_loader.loaded.connect(self._on_dataset)
        self.dataset_loader.failed.connect(self._on_dataset_failed)
        self.dataset_loader.progress.connect(self._on_scan_progress)
        self.view.zoomChanged.connect(self._on_zoom)

        self.view.show_placeholder("No dataset open\n"
                                   "Open a folder of images (Ctrl+U) or a data.yaml / COCO file (Ctrl+O)")
        self.editing.connect()
        self.assisting.connect()
        self._restore_settings()
        self._update_status()

    # --- construction ------------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}_dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(True)
        self.index_label = QLabel()
        self.size_label = QLabel()
        self.boxes_label = QLabel()
        self.zoom_label = QLabel()
        self.problems_label = QLabel()
        self.dataset_label = QLabel()
        self.dataset_label.setContentsMargins(6, 0, 6, 0)
        bar.addWidget(self.dataset_label, 1)
        for label in (self.index_label, self.size_label, self.boxes_label, self.zoom_label, self.problems_label):
            label.setContentsMargins(10, 0, 10, 0)
            bar.addPermanentWidget(label)

    # --- opening -----------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", self._last_dir())
        if folder:
            self.open_path(folder)

    def choose_dataset_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a dataset file", self._last_dir(),
                                              "Dataset files (*.yaml *.yml *.json);;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike[str]) -> None:
        """Open a folder, data.yaml, COCO/CreateML JSON, or an image (its folder, with it selected). The folder
        is listed in the background: rows appear as folders are listed and the first image (or the one to
        resume at) shows as soon as its folder is listed; labels and classes follow with the full listing."""
        if self._row >= 0 and not self.session.leave():  # unsaved edits that could not be saved: stay
            return
        target = Path(path).expanduser().absolute()
        self._select_after_load = None
        if target.is_file() and is_image_name(target.name):
            self._select_after_load = str(target)
            target = target.parent
        settings = QSettings()
        settings.setValue("dialogs/last_dir", str(target if target.is_dir() else target.parent))
        if self._select_after_load is None and target.is_dir():
            last = settings.value(f"resume/{target}")  # where go_to remembers the last image of a folder
            if isinstance(last, str) and last:
                self._select_after_load = last
        self._auto_shown: str | None = None  # the image the listing showed by itself (not chosen by the user)
        self.image_loader.clear()
        self._dataset = None
        self._row = -1
        self._annotation = None
        self.file_model.set_items([])
        self.box_list.clear()
        self.class_list.clear()
        self.dataset_label.clear()
        self.files_dock.setWindowTitle("Files")
        self.view.show_placeholder(f"Scanning …\n{target}")
        self.statusBar().showMessage(f"Scanning {target} …")
        self._update_status()
        self.dataset_loader.load(target)

    def _on_scan_progress(self, report) -> None:
        """Listing in progress: a count for the status bar, or a ListingBatch of provisional rows to append.
        The first image (or the one to select) is shown as soon as its row arrives."""
        items = getattr(report, "items", None)
        if items is None:
            count = report[0] if isinstance(report, tuple) and report else report
            if isinstance(count, int):
                self.statusBar().showMessage(f"Scanning … {count:,} images")
            return
        if self._dataset is not None:
            return
        first = self.file_model.rowCount()
        if first == 0:
            self.file_model.set_items(items)
        else:
            self.file_model.append_items(items)
        self.files_dock.setWindowTitle(f"Files ({report.count:,} …)")
        self.statusBar().showMessage(f"Scanning … {report.count:,} images")
        if self._row < 0:
            target = self._select_after_load
            row = next((first + i for i, it in enumerate(items) if it.image == target), -1) if target else 0
            if row >= 0:
                self.go_to(row)
                self._auto_shown = self._current_path()
                return
        self._update_status()

    def _on_dataset_failed(self, path: str, reason: str) -> None:
        self.statusBar().showMessage(f"Cannot open {path}: {reason}", 15000)
        if self.file_model.rowCount() == 0:  # else keep what the listing showed so far
            self.view.show_placeholder(f"Cannot open this dataset\n{path}: {reason}")
        self._update_status()

    def _on_dataset(self, dataset: Dataset) -> None:
        """The listing is complete: its Dataset completes (or replaces) the provisional rows. The image on screen
        stays (its row may move when the final order differs), unless the user has not moved yet and the
        image to resume at or select is another one."""
        current = self._current_path()
        self._dataset = dataset
        kept = self.file_model.replace_items(dataset.items, dataset.root)
        if current is not None and not kept:
            self._row = self.file_model.row_of(current)
            if self._row >= 0:
                self._select_row(self._row)
        self.class_list.show_classes(dataset.classes)
        self.files_dock.setWindowTitle(f"Files ({len(dataset.items):,})")
        self.statusBar().clearMessage()
        self.dataset_label.setText(f"{dataset.root.name}: {len(dataset.items):,} images, "
                                   f"{dataset.labelled_count():,} with labels, {len(dataset.classes)} classes, "
                                   f"{dataset.label_format} ({dataset.layout})")
        self.dataset_label.setToolTip(str(dataset.data_yaml or dataset.collection_file or dataset.root))
        self.datasetLoaded.emit(dataset)
        self.workspace.dataset_opened(dataset)
        if not dataset.items:
            self.view.show_placeholder(f"No images found\n{dataset.root}")
            self._update_status()
            return
        target = self._select_after_load
        row = self.file_model.row_of(target) if target else -1
        if self._row < 0:
            self.go_to(max(row, 0))
        elif row >= 0 and row != self._row and current == getattr(self, "_auto_shown", None):
            self.go_to(row)
        else:  # the same image: its labels were just read; make sure its pixels are still on screen
            path = self._current_path()
            loaded = self.view.loaded_image()
            if path is not None and (loaded is None or loaded.path != path) and not self.view.placeholder_text():
                cached = self.image_loader.request(path, self.view.display_target())
                if cached is not None:
                    self._on_pixels(cached)
            self._update_status()

    # --- navigation --------------------------------------------------------------------------------------
    def current_row(self) -> int:
        return self._row

    def dataset(self) -> Dataset | None:
        return self._dataset

    def editor_actions(self):
        return editor_actions(self)

    def current_annotation(self) -> Annotation | None:
        """The image on screen with the boxes as edited (saved or not)."""
        key, size = self.document.key, self.document.size
        if key is None or size is None:
            return None
        return Annotation(Path(key), size[0], size[1], self.document.boxes)

    def next_image(self) -> None:
        if self._row + 1 < self.file_model.rowCount():
            self.go_to(self._row + 1)

    def previous_image(self) -> None:
        if self._row > 0:
            self.go_to(self._row - 1)

    def go_to(self, row: int) -> None:
        """Show image `row`: boxes at once (labels are small), pixels when decoded (cache or worker). Leaving an
        edited image autosaves it (or asks, with autosave off); a failed or cancelled save stays put."""
        item = self.file_model.item(row)
        if item is None:
            return
        if row != self._row and self._row >= 0 and not self.session.leave():
            self._select_row(self._row)
            return
        self._row = row
        self._select_row(row)
        # ask for the pixels first (fitted into the viewport, as the view will show them): the decode runs
        # while the labels are read
        ratio = self.view.devicePixelRatioF()
        viewport = self.view.viewport().size()
        fit_box = (max(1, int((viewport.width() - 16) * ratio)), max(1, int((viewport.height() - 16) * ratio)))
        cached = self.image_loader.request(item.image, fit_box, fit=True)
        self._show_labels(item)
        if self._dataset is not None:
            QSettings().setValue(f"resume/{self._dataset.root}", item.image)
        self._update_title()
        self._update_status()
        if cached is not None:
            self._on_pixels(cached)
        self._prefetch_neighbours()

    def _show_labels(self, item) -> None:
        """Read the image's labels into the editor (when the dataset is known; during a progressive listing
        the labels follow when discovery ends)."""
        self._image_problems = ProblemList()
        self._annotation = None
        if self.session.dataset is None:
            self.document.unload()
            self.view.begin_image(None)
            return
        try:
            loaded = self.session.enter(item)
        except Exception as exc:  # a reader bug must not take the window down
            self._image_problems.add(Path(item.image), f"cannot read labels: {type(exc).__name__}: {exc}",
                                     rule="ui.read")
            self.document.unload()
            self.view.begin_image(None)
            return
        self._annotation = loaded.annotation
        self._image_problems = loaded.problems
        classes = self.session.classes
        if len(classes) != len(self.view.classes):  # a reader named new classes (VOC, labelme)
            self.editing.on_classes_changed()
        ann = loaded.annotation
        size = (ann.width, ann.height) if ann is not None else None
        on_screen = self.view.loaded_image()
        if on_screen is None or on_screen.path != item.image or self.view.image_size() != size:
            self.view.begin_image(size)  # (the listing showed this image before its labels: keep pixels, zoom)
        self.act_verify.setChecked(self.session.is_verified(item.image))

    def _update_title(self) -> None:
        item = self.file_model.item(self._row)
        if item is None:
            self.setWindowTitle("labeltrain")
            return
        root = self._dataset.root.name if self._dataset is not None else Path(item.image).parent.name
        star = "● " if self.document.is_dirty() else ""
        self.setWindowTitle(f"{star}{Path(item.image).name} — {root} — labeltrain")

    def _select_row(self, row: int) -> None:
        index = self.file_model.index(row, 0)
        selection = self.file_list.selectionModel()
        if selection.currentIndex() != index:
            selection.blockSignals(True)
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            selection.blockSignals(False)
            self.file_list.viewport().update()
        self.file_list.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)

    def _prefetch_neighbours(self) -> None:
        """Decode the next images ahead (in the direction of travel) and the one behind, each reduced for a
        view fitted to the window (new images open fitted), while the user looks at this one."""
        last = getattr(self, "_prefetched_from", self._row)
        step = -1 if self._row < last else 1
        self._prefetched_from = self._row
        rows = [self._row + step * i for i in range(1, PREFETCH_AHEAD + 1)] + [self._row - step]
        paths = [item.image for r in rows if (item := self.file_model.item(r)) is not None]
        viewport = self.view.viewport()
        ratio = self.view.devicePixelRatioF()
        margin = 16  # ImageView.zoom_fit leaves 8 px on each side
        box = (max(1, int((viewport.width() - margin) * ratio)), max(1, int((viewport.height() - margin) * ratio)))
        self.image_loader.prefetch(paths, box, fit=True)

    def _on_row_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() != self._row:
            self.go_to(current.row())

    def _current_path(self) -> str | None:
        item = self.file_model.item(self._row)
        return item.image if item is not None else None

    # --- pixels --------------------------------------------------------------------------------------------
    def _on_pixels(self, loaded: LoadedImage) -> None:
        if self.file_model.unreadable_reason(loaded.path) is not None:
            self.file_model.set_unreadable(loaded.path, "")  # readable now (replaced on disk)
        if loaded.path != self._current_path():
            return
        size = self.view.image_size()
        self.view.set_pixels(loaded)
        if self.view.image_size() != size:  # else the status bar is up to date (go_to set it)
            self._update_status()
        self.imageShown.emit(loaded.path)

    def _on_pixels_failed(self, path: str, reason: str) -> None:
        """An image cannot be decoded (the one on screen or a prefetched neighbour): marked in the file list,
        and shown as a placeholder if it is the current one."""
        self.file_model.set_unreadable(path, reason)
        if path != self._current_path():
            return
        self.view.show_placeholder(f"Cannot read this image\n{Path(path).name}: {reason}")
        self._update_status()
        self.imageShown.emit(path)

    def _on_zoom(self, _scale: float) -> None:
        """Zoomed in past the decoded resolution: ask for a finer decode (shown without refitting)."""
        self.zoom_label.setText(f"{self.view.scale_factor() * 100:.0f} %")
        loaded = self.view.loaded_image()
        if loaded is None or loaded.path != self._current_path():
            return
        target = self.view.display_target()
        if not loaded.good_enough_for(target):
            finer = self.image_loader.request(loaded.path, target)
            if finer is not None and finer is not loaded:
                self.view.set_pixels(finer)

    # --- editing (the behaviour lives in ui/editing.py; these are the window's entry points) --------------------
    def save(self) -> bool:
        return self.editing.save()

    def set_save_format(self, name: str, label_dir: Path | None = None) -> None:
        self.editing.set_save_format(name, label_dir)

    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", self._last_dir(),
                                              "Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff);;All files (*)")
        if path:
            self.open_path(path)

    # --- view ----------------------------------------------------------------------------------------------
    def _toggle_boxes(self, checked: bool) -> None:
        self.view.set_boxes_visible(checked)

    def _on_box_selected(self, current: QTreeWidgetItem | None, _previous) -> None:
        self.document.select(current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None)

    def _update_status(self) -> None:
        total = self.file_model.rowCount()
        self.index_label.setText(f"Image {self._row + 1:,} / {total:,}" if self._row >= 0 else f"{total:,} images")
        size = self.view.image_size()
        self.size_label.setText(f"{size[0]} × {size[1]} px" if size else "")
        boxes = len(self.document.boxes)
        self.boxes_label.setText(f"{boxes} box{'es' if boxes != 1 else ''}" if self._row >= 0 else "")
        self.zoom_label.setText(f"{self.view.scale_factor() * 100:.0f} %" if size else "")
        dataset_problems = self._dataset.problems if self._dataset is not None else ProblemList()
        n = len(dataset_problems)
        text = f"{n} dataset problem{'s' if n != 1 else ''}"
        if self._image_problems:
            k = len(self._image_problems)
            text = f"{k} problem{'s' if k != 1 else ''} in this image · {text}"
        self.problems_label.setText(text if self._dataset is not None else "")
        tip = _problems_tooltip(ProblemList([*self._image_problems, *dataset_problems]))
        self.problems_label.setToolTip(tip or "No problems found")
        color = "#b35900" if n or self._image_problems else "#57606a"
        if self.problems_label.property("tone") != color:  # a style sheet costs ~2 ms: only when it changes
            self.problems_label.setProperty("tone", color)
            self.problems_label.setStyleSheet(f"color: {color};")

    def show_about(self) -> None:
        QMessageBox.about(self, "About labeltrain",
                          f"<h3>labeltrain {__version__}</h3>"
                          "<p>From a folder of images to a deployed object detector: box editor, label "
                          "checker, YOLO trainer, ONNX / TF.js export.</p><p>MIT licence.</p>")

    # --- settings and shutdown -------------------------------------------------------------------------------
    def _last_dir(self) -> str:
        return str(QSettings().value("dialogs/last_dir", str(Path.home())))

    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self._default_geometry()
        state = settings.value("main_window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def _default_geometry(self) -> None:
        """First run: most of the screen, centred."""
        screen = self.screen().availableGeometry()
        width = min(1440, int(screen.width() * 0.92))
        height = min(920, int(screen.height() * 0.92))
        self.resize(width, height)
        self.move(screen.center().x() - width // 2, screen.center().y() - height // 2)

    def _save_settings(self) -> None:
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())

    def shutdown(self) -> None:
        """Remember the window layout and stop the worker threads. Idempotent; called on close and when the
        event loop ends without the window being closed."""
        self.workspace.shutdown()
        self._save_settings()
        self.session.flush_journal()
        self.editing.counts_job.close()
        self.assisting.close()
        self.dataset_loader.close()
        self.image_loader.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.document.is_dirty() and not self.editing.confirm_close():
            event.ignore()
            return
        busy = self.workspace.busy_reason()
        if busy and not self.prompts.confirm("Quit labeltrain?", busy):
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)
