"""The class gallery: every box of one class side by side, cut from the images, to spot a wrong-class box at a
glance. Virtualised (a list model over the boxes; crops cut on demand off the UI thread). Click a crop to open its
image in the editor with that box selected."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from labeltrain.ui.colors import class_color
from labeltrain.ui.qa.crops import CropKey, CropProvider
from labeltrain.ui.qa.filters import swatch
from labeltrain.ui.qa.paint import IMAGE_BACKGROUND, draw_badge, fitted_rect, font
from labeltrain.ui.qa.records import KEPT, TileBox, editor_box_index, worst
from labeltrain.ui.qa.store import QAStore

EntryRole = Qt.ItemDataRole.UserRole + 11
_Index = QModelIndex | QPersistentModelIndex
SORTS = (("file", "File order"), ("small", "Smallest first"), ("large", "Largest first"),
         ("findings", "With findings first"), ("aspect", "Most elongated first"))


class CropModel(QAbstractListModel):
    """(image index, box) for every box of the chosen class."""

    def __init__(self, store: QAStore, parent=None) -> None:
        super().__init__(parent)
        self.store = store
        self.cls: int | None = None
        self.sort = "file"
        self.entries: list[tuple[int, TileBox]] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.entries):
            return None
        i, box = self.entries[index.row()]
        if role == EntryRole:
            return i, box
        if role == Qt.ItemDataRole.DisplayRole:
            record = self.store.records[i]
            return f"{record.name}:{box.line}" if record is not None and box.line else (record.name if record else "")
        if role == Qt.ItemDataRole.ToolTipRole:
            record = self.store.records[i]
            if record is None:
                return None
            lines = [record.image, f"line {box.line}: {box.w * record.width:.0f}×{box.h * record.height:.0f} px"
                     + ("" if box.state == KEPT else f" ({box.state} by the trainer)")]
            lines += [f"{f.severity}: {f.message}" for f in self._findings(i, box)]
            return "\n".join(lines)
        return None

    def _findings(self, i: int, box: TileBox):
        return [f for f in self.store.findings_of(i) if f.line is not None and f.line == box.line]

    def box_findings(self, row: int):
        i, box = self.entries[row]
        return self._findings(i, box)

    def rebuild(self) -> None:
        self.beginResetModel()
        entries = []
        if self.cls is not None:
            for r in self.store.records:
                if r is not None and self.cls in r.classes:
                    entries.extend((r.index, b) for b in r.boxes if b.cls == self.cls)
        if self.sort in ("small", "large"):
            entries.sort(key=lambda e: self._area(e), reverse=self.sort == "large")
        elif self.sort == "findings":
            entries.sort(key=lambda e: not self._findings(*e))
        elif self.sort == "aspect":
            entries.sort(key=lambda e: -max(e[1].w / max(e[1].h, 1e-9), e[1].h / max(e[1].w, 1e-9)))
        self.entries = entries
        self.endResetModel()

    def _area(self, entry: tuple[int, TileBox]) -> float:
        r = self.store.records[entry[0]]
        return entry[1].w * entry[1].h * ((r.width * r.height) if r is not None else 1)


class CropDelegate(QStyledItemDelegate):
    def __init__(self, crops: CropProvider, model: CropModel, parent=None) -> None:
        super().__init__(parent)
        self.crops, self.model, self.side = crops, model, 112

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(self.side + 8, self.side + 24)

    def key(self, i: int, box: TileBox) -> CropKey:
        record = self.model.store.records[i]
        return CropKey(record.image if record else "", box.xc, box.yc, box.w, box.h, 160 if self.side <= 160 else 256)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        i, box = index.data(EntryRole)
        tile = QRectF(option.rect)
        area = QRectF(tile.x() + 4, tile.y() + 4, tile.width() - 8, tile.width() - 8)
        p.save()
        if option.state & QStyle.StateFlag.State_Selected:
            p.fillRect(tile.adjusted(1, 1, -1, -1), option.palette.highlight())
        p.fillRect(area, IMAGE_BACKGROUND)
        key = self.key(i, box)
        hit = self.crops.get(key)
        names = self.model.store.dataset.classes if self.model.store.dataset else None
        color = class_color(box.cls, len(names) if names is not None and len(names) else None)
        if hit is not None:
            img, rel = hit
            target = fitted_rect(area, img.width(), img.height())
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(target, img)
            r = QRectF(target.x() + rel.x() * target.width(), target.y() + rel.y() * target.height(),
                       rel.width() * target.width(), rel.height() * target.height())
            style = Qt.PenStyle.SolidLine if box.state == KEPT else Qt.PenStyle.DashLine
            p.setPen(QPen(color, 2, style))
            p.drawRect(r)
        else:
            p.setPen(QColor(200, 200, 200))
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "cannot read" if self.crops.failed(key) else "…")
        found = self.model.box_findings(index.row())
        if found:
            draw_badge(p, QPointF(area.right() - 3, area.top() + 3), str(len(found)),
                       worst(f.severity for f in found), font_px=10)
        caption, fm = font(10)
        p.setFont(caption)
        cap = QRectF(tile.x() + 4, area.bottom() + 2, tile.width() - 8, 18)
        p.setPen(option.palette.highlightedText().color() if option.state & QStyle.StateFlag.State_Selected
                 else option.palette.text().color())
        p.drawText(cap, Qt.AlignmentFlag.AlignCenter,
                   fm.elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideMiddle,
                                 int(cap.width())))
        p.restore()


class CropGallery(QWidget):
    """Class chooser, sort order, size, and the crops. `openInEditor(image, box index)` on click."""

    openInEditor = Signal(str, object)

    def __init__(self, store: QAStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.crops = CropProvider(self)
        self.model = CropModel(store, self)
        self.delegate = CropDelegate(self.crops, self.model, self)
        self.view = QListView(self)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(2)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setModel(self.model)
        self.view.setItemDelegate(self.delegate)
        self.view.clicked.connect(self._open)
        self.view.activated.connect(self._open)
        self.class_combo = QComboBox(self)
        self.class_combo.setMinimumContentsLength(18)
        self.class_combo.currentIndexChanged.connect(self._class_chosen)
        self.sort_combo = QComboBox(self)
        for key, text in SORTS:
            self.sort_combo.addItem(text, key)
        self.sort_combo.currentIndexChanged.connect(self._sort_chosen)
        self.size = QSlider(Qt.Orientation.Horizontal, self)
        self.size.setRange(64, 224)
        self.size.setValue(self.delegate.side)
        self.size.setFixedWidth(110)
        self.size.valueChanged.connect(self._resize)
        self.status = QLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Class", self))
        bar.addWidget(self.class_combo)
        bar.addWidget(QLabel("Sort", self))
        bar.addWidget(self.sort_combo)
        bar.addStretch(1)
        bar.addWidget(QLabel("Size", self))
        bar.addWidget(self.size)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.crops.ready.connect(lambda _k: self.view.viewport().update())
        self._timer = QTimer(self, singleShot=True, interval=300)
        self._timer.timeout.connect(self._records_settled)
        store.datasetChanged.connect(self._dataset_changed)
        store.recordsChanged.connect(lambda _i: self._timer.isActive() or self._timer.start())
        store.indexFinished.connect(self._records_settled)
        self._resize(self.delegate.side)

    def set_class(self, cls: int | None) -> None:
        pos = self.class_combo.findData(cls)
        if pos >= 0:
            self.class_combo.setCurrentIndex(pos)
        self.model.cls = cls
        self.model.rebuild()
        self._update_status()

    def close_workers(self) -> None:
        self.crops.close()

    def _dataset_changed(self) -> None:
        self.crops.clear()
        self.model.cls = None
        self.model.rebuild()
        self._fill_classes()

    def _records_settled(self) -> None:
        self._fill_classes()
        current = self.view.currentIndex().row()
        self.model.rebuild()
        if 0 <= current < self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(current))
        self._update_status()

    def _fill_classes(self) -> None:
        ds = self.store.dataset
        counts = self.store.class_counts() if ds is not None else {}
        names = ds.classes if ds is not None else None
        nc = len(names) if names is not None and len(names) else None
        current = self.model.cls
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for c in sorted(set(range(nc or 0)) | set(counts)):
            label = names.name(c) if names is not None else str(c)
            self.class_combo.addItem(swatch(class_color(c, nc)), f"{label} ({counts.get(c, 0):,})", c)
        pos = self.class_combo.findData(current) if current is not None else -1
        self.class_combo.setCurrentIndex(pos if pos >= 0 else (0 if self.class_combo.count() else -1))
        self.class_combo.blockSignals(False)
        if self.model.cls is None and self.class_combo.count():
            self.model.cls = self.class_combo.currentData()
            self.model.rebuild()
            self._update_status()

    def _class_chosen(self) -> None:
        self.model.cls = self.class_combo.currentData()
        self.model.rebuild()
        self._update_status()

    def _sort_chosen(self) -> None:
        self.model.sort = self.sort_combo.currentData()
        self.model.rebuild()

    def _resize(self, side: int) -> None:
        self.delegate.side = side
        self.view.setGridSize(QSize(side + 12, side + 28))

    def _update_status(self) -> None:
        n = self.model.rowCount()
        images = len({i for i, _ in self.model.entries})
        self.status.setText(f"{n:,} boxes in {images:,} images" if self.model.cls is not None else "")

    def _open(self, index: QModelIndex) -> None:
        entry = index.data(EntryRole)
        if entry is None:
            return
        i, box = entry
        record = self.store.records[i]
        if record is not None:
            self.openInEditor.emit(record.image, editor_box_index(record, box))
