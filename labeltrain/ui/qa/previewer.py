"""The live previewer: a virtualised grid of every image with the boxes the trainer reads from its label file on
disk, class names and colours, and a badge with the findings; filters by class, rule, split, verified and name.
Tiles refresh when label files change on disk (QAStore + LabelWatcher). Click a tile (or a box in it) to open it in
the editor: `openInEditor(image_path, box_index or None)`.

    panel = PreviewPanel()
    panel.set_dataset(dataset)                 # labeltrain.core.dataset.Dataset
    panel.openInEditor.connect(window.open_image_box)
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPointF, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QListView, QSlider, QVBoxLayout, QWidget

from labeltrain.core.dataset import Dataset
from labeltrain.ui.qa.filters import FilterBar
from labeltrain.ui.qa.records import TileRecord, editor_box_index
from labeltrain.ui.qa.store import QAStore
from labeltrain.ui.qa.thumbs import ThumbnailProvider
from labeltrain.ui.qa.tile_delegate import TileDelegate
from labeltrain.ui.qa.tile_model import ImageIndexRole, RecordRole, TileFilter, TileModel


class PreviewPanel(QWidget):
    """Grid of tiles + filter bar + status line. Owns a QAStore unless one is shared in (QAPanel does)."""

    openInEditor = Signal(str, object)  # image path, box index in the editor's list (or None)

    def __init__(self, store: QAStore | None = None, thumbs: ThumbnailProvider | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._owns_store = store is None
        self.store = store if store is not None else QAStore(self)
        self.thumbs = thumbs if thumbs is not None else ThumbnailProvider(self)
        self._owns_thumbs = thumbs is None
        self.model = TileModel(self.store, self)
        self.delegate = TileDelegate(self.thumbs, self)
        self.delegate.dataset_of = lambda: self.store.dataset
        self.view = QListView(self)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setWrapping(True)
        self.view.setSpacing(2)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.verticalScrollBar().setSingleStep(24)
        self.view.setModel(self.model)
        self.view.setItemDelegate(self.delegate)
        self.view.viewport().installEventFilter(self)
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._activated)
        self._press: QPointF | None = None

        self.filters = FilterBar(self.store, self)
        self.filters.changed.connect(self.model.set_filter)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setRange(96, 256)
        self.size_slider.setSingleStep(16)
        self.size_slider.setPageStep(32)
        self.size_slider.setValue(self.delegate.side)
        self.size_slider.setFixedWidth(110)
        self.size_slider.setToolTip("Tile size")
        self.size_slider.valueChanged.connect(self.set_tile_size)
        self.status = QLabel(self)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filters, 1)
        bar.addWidget(QLabel("Size", self))
        bar.addWidget(self.size_slider)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

        self.thumbs.ready.connect(self._thumb_ready)
        self.store.datasetChanged.connect(self._status_soon)
        self.store.indexProgress.connect(lambda *_: self._status_soon())
        self.store.indexFinished.connect(self._status_soon)
        self.model.modelReset.connect(self._status_soon)
        self.model.rowsInserted.connect(self._status_soon)
        self._status_timer = QTimer(self, singleShot=True, interval=150)
        self._status_timer.timeout.connect(self._update_status)
        self.set_tile_size(self.delegate.side)
        self._update_status()

    # --- public API ----------------------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None) -> None:
        """Show this dataset (reads and checks every image in the background; watches its label files)."""
        self.thumbs.clear()
        self.store.set_dataset(dataset)

    def set_filter(self, flt: TileFilter) -> None:
        self.filters.set_filter(flt)

    def current_filter(self) -> TileFilter:
        return self.model.filter

    def set_tile_size(self, side: int) -> None:
        self.delegate.side = int(side)
        self.view.setGridSize(self.delegate.tile_size() + QSize(4, 4))
        if self.size_slider.value() != side:
            self.size_slider.setValue(side)

    def tile_record(self, image: str) -> TileRecord | None:
        """The record a tile draws (for tests and the lead's window)."""
        i = self.store.index_of(image)
        return self.store.record(i) if i is not None else None

    def scroll_to(self, image: str) -> bool:
        i = self.store.index_of(image)
        row = self.model.row_of(i) if i is not None else None
        if row is None:
            return False
        mi = self.model.index(row)
        self.view.scrollTo(mi)
        self.view.setCurrentIndex(mi)
        return True

    def close_workers(self) -> None:
        if self._owns_store:
            self.store.close()
        if self._owns_thumbs:
            self.thumbs.close()

    # --- events --------------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.view.viewport() and event.type() == QEvent.Type.MouseButtonPress:
            self._press = event.position()  # type: ignore[attr-defined]
        return super().eventFilter(obj, event)

    def _clicked(self, index: QModelIndex) -> None:
        record: TileRecord | None = index.data(RecordRole)
        image = self.store.dataset.items[index.data(ImageIndexRole)].image if self.store.dataset else None
        if image is None:
            return
        box_index = None
        if record is not None and self._press is not None:
            box = self.delegate.box_at(self.view.visualRect(index), record, self._press)
            if box is not None:
                box_index = editor_box_index(record, box)
        self.openInEditor.emit(image, box_index)

    def _activated(self, index: QModelIndex) -> None:
        if self.store.dataset is not None and index.data(ImageIndexRole) is not None:
            self._press = None
            self.openInEditor.emit(self.store.dataset.items[index.data(ImageIndexRole)].image, None)

    def _thumb_ready(self, path: str) -> None:
        i = self.store.index_of(path)
        if i is not None:
            self.model.image_changed(i)

    def _status_soon(self) -> None:
        if not self._status_timer.isActive():
            self._status_timer.start()

    def _update_status(self) -> None:
        n = len(self.store)
        shown = self.model.rowCount()
        if self.store.dataset is None:
            self.status.setText("No dataset open.")
            return
        done = sum(1 for r in self.store.records if r is not None) if self.store.indexing else n
        text = f"{shown:,} of {n:,} images"
        if self.store.indexing:
            text += f" · reading labels {done * 100 // max(1, n)} %"
        rejected = sum(1 for r in self.store.records if r is not None and r.rejected)
        if rejected:
            text += f" · {rejected:,} ignored by the trainer"
        if self.store.dataset.label_format != "yolo":
            text += f" · labels are {self.store.dataset.label_format.upper()}: the trainer reads YOLO txt"
        self.status.setText(text)
