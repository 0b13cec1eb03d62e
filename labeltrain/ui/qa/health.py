"""Dataset health (pyqtgraph): instances per class per split, images per class, boxes per image, box width/height,
box-centre heat map, image sizes; counts and plain-language warnings (rare classes below the threshold, classes
missing from val, unbalanced splits). Numbers from `core.health.compute_health` over the QAStore's records (boxes
as the trainer reads them), computed off the UI thread when the view is shown and after label files change."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from labeltrain.core.health import MIN_INSTANCES, HealthStats, ImageStats, compute_health, health_warnings
from labeltrain.core.problems import Severity
from labeltrain.ui.colors import class_color
from labeltrain.ui.qa.paint import SEVERITY_COLORS
from labeltrain.ui.qa.store import QAStore
from labeltrain.ui.qa.workers import TaskSlot

SPLIT_COLORS = {"train": QColor(33, 150, 243), "val": QColor(255, 152, 0), "test": QColor(76, 175, 80),
                "all": QColor(96, 125, 139)}
MAX_SCATTER = 6000


def _records_to_stats(records) -> list[ImageStats]:
    return [ImageStats(r.split, r.width, r.height, r.kept_values(), r.rejected) for r in records if r is not None]


class HealthView(QWidget):
    def __init__(self, store: QAStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.stats: HealthStats | None = None
        self._task = TaskSlot(self)
        self._stale = True
        self.threshold = QSpinBox(self)
        self.threshold.setRange(1, 100_000)
        self.threshold.setValue(MIN_INSTANCES)
        self.threshold.setSingleStep(100)
        self.threshold.setToolTip("Classes with fewer training instances are flagged (the seeds advise 500-2000)")
        self.threshold.valueChanged.connect(self._threshold_changed)
        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.warnings = QLabel(self)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.warnings.setWordWrap(True)
        self.warnings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plots = pg.GraphicsLayoutWidget(self)
        self.plots.setBackground("w")
        self.p_instances = self._plot(0, 0, "Instances per class and split", colspan=2)
        self.p_images = self._plot(0, 2, "Images per class")
        self.p_per_image = self._plot(1, 0, "Boxes per image", xlabel="boxes", ylabel="images")
        self.p_wh = self._plot(1, 1, "Box width × height (fraction of image)", xlabel="width", ylabel="height")
        self.p_heat = self._plot(1, 2, "Box centres")
        self.p_sizes = self._plot(0, 3, "Image sizes (px)", xlabel="width", ylabel="height")
        self.p_aspect = self._plot(1, 3, "Image aspect ratio (w/h)", ylabel="images")
        self.p_heat.invertY(True)
        self.p_heat.setAspectLocked(True)
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setColorMap(pg.colormap.get("viridis"))
        self.p_heat.addItem(self.heat)
        self.legend = self.p_instances.addLegend(offset=(-10, 10), labelTextColor="k")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(QLabel("Flag classes below", self))
        top.addWidget(self.threshold)
        top.addWidget(QLabel("instances", self))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.warnings)
        layout.addWidget(self.plots, 1)
        self._timer = QTimer(self, singleShot=True, interval=800)
        self._timer.timeout.connect(self.recompute)
        store.datasetChanged.connect(self._dataset_changed)
        store.recordsChanged.connect(self._records_changed)
        store.indexFinished.connect(self.recompute)

    def _plot(self, row: int, col: int, title: str, xlabel: str = "", ylabel: str = "", colspan: int = 1):
        plot = self.plots.addPlot(row=row, col=col, colspan=colspan, title=f"<span style='color:#222'>{title}</span>")
        plot.showGrid(x=False, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen(pg.mkPen("#666"))
            plot.getAxis(axis).setTextPen(pg.mkPen("#333"))
        if xlabel:
            plot.setLabel("bottom", xlabel)
        if ylabel:
            plot.setLabel("left", ylabel)
        plot.setMenuEnabled(False)
        return plot

    # --- computing -----------------------------------------------------------------------------------------
    def recompute(self) -> None:
        """Compute the statistics of the store's records in the background (only while visible)."""
        if not self.isVisible() and self.stats is not None:
            self._stale = True
            return
        if self.store.dataset is None:
            return
        records = list(self.store.records)
        names = self.store.dataset.classes
        threshold = self.threshold.value()
        self._stale = False
        boxes = sum(len(r.boxes) for r in records if r is not None)
        bins = int(np.clip(np.sqrt(boxes) / 1.5, 8, 40))  # a heat map that is neither empty squares nor a blur
        self._task.start(lambda _p, _c: compute_health(_records_to_stats(records), names, min_instances=threshold,
                                                       bins=bins), self.show_stats)

    def is_busy(self) -> bool:
        return self._task.busy()

    def close_workers(self) -> None:
        self._task.close()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and not self.store.indexing:
            self.recompute()

    def _dataset_changed(self) -> None:
        self._task.cancel()
        self.stats = None
        self._stale = True
        for p in (self.p_instances, self.p_images, self.p_per_image, self.p_wh, self.p_sizes, self.p_aspect):
            p.clear()
        self.heat.clear()
        self.summary.setText("Reading labels…" if self.store.dataset is not None else "No dataset.")
        self.warnings.setText("")

    def _records_changed(self, _indices) -> None:
        if not self.store.indexing:
            self._timer.start()

    def _threshold_changed(self) -> None:
        if self.stats is not None:
            self.stats.warnings[:] = health_warnings(self.stats, self.threshold.value())
            self.show_stats(self.stats)

    # --- drawing -------------------------------------------------------------------------------------------
    def show_stats(self, stats: HealthStats) -> None:
        self.stats = stats
        self._summary(stats)
        self._bars(stats)
        self._distributions(stats)

    def _summary(self, s: HealthStats) -> None:
        parts = [f"<b>{s.total_images:,}</b> images, <b>{s.total_boxes:,}</b> boxes, "
                 f"<b>{s.total_backgrounds:,}</b> backgrounds"]
        rejected = sum(s.rejected.values())
        if rejected:
            parts.append(f"<span style='color:#c62828'><b>{rejected:,}</b> ignored by the trainer</span>")
        if len(s.splits) > 1 or s.splits != ("all",):
            parts.append(" · ".join(f"{k}: {s.images[k]:,} images / {int(s.instances[k].sum()):,} boxes"
                                    for k in s.splits))
        self.summary.setText(" — ".join(parts))
        if not s.warnings:
            self.warnings.setText("<span style='color:#2e7d32'>No balance problems found.</span>")
            return
        lines = []
        for w in s.warnings:
            color = SEVERITY_COLORS.get(w.severity, QColor(90, 90, 90)).darker(120).name()
            mark = "⚠" if w.severity != Severity.INFO else "ℹ"
            lines.append(f"<span style='color:{color}'>{mark}</span> {html.escape(w.message)}")
        self.warnings.setText("<br>".join(lines))

    def _bars(self, s: HealthStats) -> None:
        nc = len(s.names)
        ticks = [[(i, name if len(name) <= 14 else name[:13] + "…") for i, name in enumerate(s.names)]]
        self.p_instances.clear()
        self.legend.clear()
        width = 0.8 / max(1, len(s.splits))
        for k, split in enumerate(s.splits):
            x = np.arange(nc) - 0.4 + width * (k + 0.5)
            bars = pg.BarGraphItem(x=x, height=s.instances[split], width=width * 0.95,
                                   brush=SPLIT_COLORS.get(split, QColor(120, 120, 120)), pen=pg.mkPen(None))
            self.p_instances.addItem(bars)
            self.legend.addItem(bars, split)
        top = max([int(v.max()) for v in s.instances.values() if len(v)] + [1])
        threshold = self.threshold.value()
        if threshold <= 2 * top:  # far above every bar, the line would squash them: said in the title instead
            self.p_instances.addItem(pg.InfiniteLine(pos=threshold, angle=0, pen=pg.mkPen(
                SEVERITY_COLORS[Severity.ERROR], width=1.5, style=Qt.PenStyle.DashLine)))
        title = "Instances per class and split"
        note = f" (dashed: {threshold:,})" if threshold <= 2 * top else f" (all below the {threshold:,} advised)" \
            if top < threshold else ""
        self.p_instances.setTitle(f"<span style='color:#222'>{title}{note}</span>")
        self.p_instances.getAxis("bottom").setTicks(ticks)
        self.p_instances.setYRange(0, max(top, threshold if threshold <= 2 * top else 0) * 1.1, padding=0)
        self.p_images.clear()
        brushes = [class_color(c, nc) for c in range(nc)]
        self.p_images.addItem(pg.BarGraphItem(x=np.arange(nc), height=s.images_per_class, width=0.7, brushes=brushes,
                                              pen=pg.mkPen(None)))
        self.p_images.getAxis("bottom").setTicks(ticks)
        self.p_per_image.clear()
        counts = s.boxes_per_image
        self.p_per_image.addItem(pg.BarGraphItem(x=np.arange(len(counts)), height=counts, width=0.85,
                                                 brush=QColor(96, 125, 139), pen=pg.mkPen(None)))
        step = max(1, len(counts) // 12)
        self.p_per_image.getAxis("bottom").setTicks([[(k, str(k)) for k in range(0, len(counts), step)]])

    def _distributions(self, s: HealthStats) -> None:
        self.p_wh.clear()
        n = len(s.box_wh)
        pick = np.random.default_rng(0).choice(n, MAX_SCATTER, replace=False) if n > MAX_SCATTER else np.arange(n)
        nc = len(s.names)
        for c in np.unique(s.box_classes[pick]) if n else []:
            sel = pick[s.box_classes[pick] == c]
            color = class_color(int(c), nc)
            color.setAlpha(140)
            self.p_wh.addItem(pg.ScatterPlotItem(s.box_wh[sel, 0], s.box_wh[sel, 1], size=5, pen=pg.mkPen(None),
                                                 brush=color))
        self.p_wh.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        heat = s.centre_heatmap.astype(float)
        self.heat.setImage(heat, autoLevels=False, levels=(0, max(1.0, float(heat.max()))))
        self.heat.setRect(0, 0, 1, 1)
        self.p_heat.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.p_sizes.clear()
        if len(s.image_sizes):
            sizes, count = np.unique(s.image_sizes, axis=0, return_counts=True)
            spot = 6 + 14 * np.sqrt(count / count.max())
            self.p_sizes.addItem(pg.ScatterPlotItem(sizes[:, 0], sizes[:, 1], size=spot, pen=pg.mkPen("#1565c0"),
                                                    brush=QColor(33, 150, 243, 120)))
        self.p_aspect.clear()
        ratios = s.aspect_ratios
        if len(ratios):
            hist, edges = np.histogram(ratios, bins=min(30, max(5, len(np.unique(ratios)) * 2)))
            self.p_aspect.addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=hist, brush=QColor(96, 125, 139),
                                                  pen=pg.mkPen("w")))
