"""The main window: file list (left), image view (centre), boxes and classes (right), status bar.

The window wires things together and holds no dataset logic: discovery runs in DatasetLoader (a worker
thread), decoding in ImageLoader (another), label reading through `core.dataset.load_annotation`.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
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
from labeltrain.core.dataset import Dataset, load_annotation
from labeltrain.core.images import is_image_name
from labeltrain.core.model import Annotation
from labeltrain.core.problems import ProblemList
from labeltrain.core.resources import resource_path
from labeltrain.ui.dataset_loader import DatasetLoader
from labeltrain.ui.file_list_model import FileListModel
from labeltrain.ui.image_loader import ImageLoader, LoadedImage
from labeltrain.ui.image_view import ImageView
from labeltrain.ui.panels import BoxList, ClassList

PREFETCH_AHEAD = 2
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

        self.view = ImageView(self)
        self.setCentralWidget(self.view)
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
        self.class_list = ClassList(self)

        self.files_dock = self._dock("Files", "files", self.file_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.boxes_dock = self._dock("Boxes", "boxes", self.box_list, Qt.DockWidgetArea.RightDockWidgetArea)
        self.classes_dock = self._dock("Classes", "classes", self.class_list, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.files_dock, self.boxes_dock], [250, 240], Qt.Orientation.Horizontal)

        self._build_status_bar()
        self._build_actions()
        self._build_menus_and_toolbar()

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

    def _action(self, text: str, slot, shortcuts: tuple[str | QKeySequence.StandardKey, ...] = (),
                icon: str | None = None, short: str = "", tip: str = "") -> QAction:
        """An action with shortcuts, a toolbar text (`short`) and a tooltip naming its shortcut. `icon` names a
        bundled resources/icons/<icon>.svg; until it exists the toolbar shows the text alone."""
        action = QAction(text, self)
        keys = [QKeySequence(k) for k in shortcuts]
        if keys:
            action.setShortcuts(keys)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if icon:
            path = resource_path("icons", f"{icon}.svg")
            if path.is_file():
                action.setIcon(QIcon(str(path)))
        if short:
            action.setIconText(short)
        shortcut_text = keys[0].toString(QKeySequence.SequenceFormat.NativeText) if keys else ""
        action.setToolTip((tip or text.replace("&", "").rstrip("…")) + (f"  ({shortcut_text})" if shortcut_text else ""))
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the toolbar is hidden
        return action

    def _build_actions(self) -> None:
        self.act_open_folder = self._action("Open &Folder…", self.choose_folder, ("Ctrl+U",), "open-folder",
                                            "Open Folder", "Open a folder of images")
        self.act_open_file = self._action("&Open Dataset File…", self.choose_dataset_file, ("Ctrl+O",),
                                          "open-file", "Open File", "Open a data.yaml or a COCO / CreateML JSON file")
        self.act_quit = self._action("&Quit", self.close, (QKeySequence.StandardKey.Quit,))
        self.act_prev = self._action("&Previous Image", self.previous_image, ("A",), "previous", "‹  Previous")
        self.act_next = self._action("&Next Image", self.next_image, ("D",), "next", "Next  ›")
        self.act_zoom_in = self._action("Zoom &In", self.view.zoom_in, ("Ctrl++", "Ctrl+="), "zoom-in", "Zoom +")
        self.act_zoom_out = self._action("Zoom &Out", self.view.zoom_out, ("Ctrl+-",), "zoom-out", "Zoom −")
        self.act_fit = self._action("&Fit Window", self.view.zoom_fit, ("Ctrl+F",), "zoom-fit", "Fit")
        self.act_actual = self._action("&Actual Size (100 %)", self.view.zoom_actual, ("Ctrl+0",), "zoom-100",
                                       "100 %")
        self.act_boxes = self._action("Show &Boxes", self._toggle_boxes, ("Ctrl+H",), "boxes", "Boxes")
        self.act_boxes.setCheckable(True)
        self.act_boxes.setChecked(True)
        self.act_about = self._action("&About labeltrain", self.show_about)

    def _build_menus_and_toolbar(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addActions([self.act_open_folder, self.act_open_file])
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        view_menu = menu.addMenu("&View")
        view_menu.addActions([self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_actual])
        view_menu.addSeparator()
        view_menu.addAction(self.act_boxes)
        view_menu.addSeparator()
        for dock in (self.files_dock, self.boxes_dock, self.classes_dock):
            view_menu.addAction(dock.toggleViewAction())
        go_menu = menu.addMenu("&Go")
        go_menu.addActions([self.act_prev, self.act_next])
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.act_about)

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        toolbar.addActions([self.act_open_folder, self.act_open_file])
        toolbar.addSeparator()
        toolbar.addActions([self.act_prev, self.act_next])
        toolbar.addSeparator()
        toolbar.addActions([self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_actual])
        toolbar.addSeparator()
        toolbar.addAction(self.act_boxes)
        self.toolbar = toolbar

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
        """Open a folder, data.yaml, COCO/CreateML JSON, or an image (its folder, with it selected)."""
        target = Path(path).expanduser().absolute()
        self._select_after_load = None
        if target.is_file() and is_image_name(target.name):
            self._select_after_load = str(target)
            target = target.parent
        QSettings().setValue("dialogs/last_dir", str(target if target.is_dir() else target.parent))
        self.image_loader.clear()
        self._dataset = None
        self._row = -1
        self._annotation = None
        self.file_model.set_items([])
        self.box_list.clear()
        self.class_list.clear()
        self.dataset_label.clear()
        self.view.show_placeholder(f"Scanning …\n{target}")
        self.statusBar().showMessage(f"Scanning {target} …")
        self._update_status()
        self.dataset_loader.load(target)

    def _on_scan_progress(self, report) -> None:
        count = report[0] if isinstance(report, tuple) and report else report
        if isinstance(count, int):
            self.statusBar().showMessage(f"Scanning … {count:,} images")

    def _on_dataset_failed(self, path: str, reason: str) -> None:
        self.statusBar().showMessage(f"Cannot open {path}: {reason}", 15000)
        self.view.show_placeholder(f"Cannot open this dataset\n{path}: {reason}")
        self._update_status()

    def _on_dataset(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self.file_model.set_items(dataset.items, dataset.root)
        self.class_list.show_classes(dataset.classes)
        self.files_dock.setWindowTitle(f"Files ({len(dataset.items):,})")
        self.statusBar().clearMessage()
        self.dataset_label.setText(f"{dataset.root.name}: {len(dataset.items):,} images, "
                                   f"{dataset.labelled_count():,} with labels, {len(dataset.classes)} classes, "
                                   f"{dataset.label_format} ({dataset.layout})")
        self.dataset_label.setToolTip(str(dataset.data_yaml or dataset.collection_file or dataset.root))
        self.datasetLoaded.emit(dataset)
        if not dataset.items:
            self.view.show_placeholder(f"No images found\n{dataset.root}")
            self._update_status()
            return
        row = self.file_model.row_of(self._select_after_load) if self._select_after_load else 0
        self.go_to(max(row, 0))

    # --- navigation --------------------------------------------------------------------------------------
    def current_row(self) -> int:
        return self._row

    def dataset(self) -> Dataset | None:
        return self._dataset

    def current_annotation(self) -> Annotation | None:
        return self._annotation

    def next_image(self) -> None:
        if self._row + 1 < self.file_model.rowCount():
            self.go_to(self._row + 1)

    def previous_image(self) -> None:
        if self._row > 0:
            self.go_to(self._row - 1)

    def go_to(self, row: int) -> None:
        """Show image `row`: boxes at once (labels are small), pixels when decoded (cache or worker)."""
        item = self.file_model.item(row)
        if item is None or self._dataset is None:
            return
        self._row = row
        self._select_row(row)
        self.setWindowTitle(f"{Path(item.image).name} — {self._dataset.root.name} — labeltrain")
        self._annotation, self._image_problems = self._read_annotation(item)
        size = (self._annotation.width, self._annotation.height) if self._annotation is not None else None
        self.view.begin_image(size)
        classes = self._dataset.classes
        if len(classes) != self.class_list.count():  # a reader named new classes (VOC, labelme)
            self.class_list.show_classes(classes)
        if self._annotation is not None:
            self.view.set_boxes(self._annotation.boxes, classes)
        self.box_list.show_annotation(self._annotation, classes)
        self._update_status()
        cached = self.image_loader.request(item.image, self.view.display_target())
        if cached is not None:
            self._on_pixels(cached)
        self._prefetch_neighbours()

    def _read_annotation(self, item) -> tuple[Annotation | None, ProblemList]:
        assert self._dataset is not None
        try:
            result = load_annotation(self._dataset, item)
        except Exception as exc:  # a reader bug must not take the window down
            problems = ProblemList()
            problems.add(Path(item.image), f"cannot read labels: {type(exc).__name__}: {exc}", rule="ui.read")
            return None, problems
        return (result.annotations[0] if result.annotations else None), result.problems

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
        rows = [self._row + i for i in range(1, PREFETCH_AHEAD + 1)] + [self._row - 1]
        paths = [item.image for r in rows if (item := self.file_model.item(r)) is not None]
        self.image_loader.prefetch(paths, self.view.display_target())

    def _on_row_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() != self._row:
            self.go_to(current.row())

    def _current_path(self) -> str | None:
        item = self.file_model.item(self._row)
        return item.image if item is not None else None

    # --- pixels --------------------------------------------------------------------------------------------
    def _on_pixels(self, loaded: LoadedImage) -> None:
        if loaded.path != self._current_path():
            return
        self.view.set_pixels(loaded)
        self._update_status()
        self.imageShown.emit(loaded.path)

    def _on_pixels_failed(self, path: str, reason: str) -> None:
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

    # --- view ----------------------------------------------------------------------------------------------
    def _toggle_boxes(self, checked: bool) -> None:
        self.view.set_boxes_visible(checked)

    def _on_box_selected(self, current: QTreeWidgetItem | None, _previous) -> None:
        self.view.set_highlighted_box(current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None)

    def _update_status(self) -> None:
        total = self.file_model.rowCount()
        self.index_label.setText(f"Image {self._row + 1:,} / {total:,}" if self._row >= 0 else f"{total:,} images")
        size = self.view.image_size()
        self.size_label.setText(f"{size[0]} × {size[1]} px" if size else "")
        boxes = len(self._annotation.boxes) if self._annotation is not None else 0
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
        self._save_settings()
        self.dataset_loader.close()
        self.image_loader.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
