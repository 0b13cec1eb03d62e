"""Live training curves (pyqtgraph): per-batch losses, per-epoch train/val losses, validation metrics and the
learning rate, on one shared epoch axis; the best epoch marked; the final evaluation of best.pt as stars.

Every curve is created once (the fixed ones here, the loss and learning-rate ones when their name first
appears) and then only fed with setData; a batch of events is drawn with one setData per changed curve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from labeltrain.training.events import BatchEnd, EpochEnd, Event, FinalEval, RunStarted

# Light theme matching labeltrain.ui.app (white plot area on the app's grey, one blue accent).
THEME = {"background": "#ffffff", "text": "#1f2328", "axis": "#57606a", "grid": "#eceef1", "best": "#1a7f37",
         "legend_bg": (255, 255, 255, 225), "legend_border": "#d0d7de"}
PALETTE = ("#2f6fde", "#e8590c", "#9c36b5", "#0c8599", "#c92a2a", "#5c940d", "#1864ab", "#e67700")
METRICS = (("precision", "precision", "#2f6fde"), ("recall", "recall", "#e8590c"),
           ("map50", "mAP50", "#2b8a3e"), ("map50_95", "mAP50-95", "#9c36b5"))


class Series:
    """x/y points in growing numpy buffers. A point whose x is not beyond the last one replaces the tail from
    that x on (a resumed run repeats the epoch it stopped in)."""

    def __init__(self) -> None:
        self._x = np.empty(256)
        self._y = np.empty(256)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n and self._x[self.n - 1] >= x:
            self.n = int(np.searchsorted(self._x[: self.n], x, side="left"))
        if self.n == len(self._x):
            self._x = np.resize(self._x, 2 * self.n)
            self._y = np.resize(self._y, 2 * self.n)
        self._x[self.n], self._y[self.n] = x, (y if y is not None and math.isfinite(y) else np.nan)
        self.n += 1

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x[: self.n], self._y[: self.n]

    def clear(self) -> None:
        self.n = 0


class TrainingCurves(pg.GraphicsLayoutWidget):
    """Four plots sharing the epoch axis. Feed it events with `add_events`; `reset` before another run (not `clear`:
    GraphicsLayoutWidget forwards that name to its layout, which would remove the plots)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(THEME["background"])
        self.ci.layout.setSpacing(10)
        self.ci.setContentsMargins(6, 6, 10, 6)
        self.batch_plot = self._plot(0, 0, "Loss per batch", "loss")
        self.loss_plot = self._plot(0, 1, "Loss per epoch", "loss")
        self.metric_plot = self._plot(1, 0, "Validation metrics", "score", inside=True)
        self.lr_plot = self._plot(1, 1, "Learning rate", "lr")
        self.metric_plot.setYRange(0, 1.0, padding=0.02)
        self.metric_plot.enableAutoRange(axis="y", enable=False)
        self.batch_plot.setDownsampling(auto=True, mode="peak")
        self.batch_plot.setClipToView(True)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.setXLink(self.batch_plot)
        self._series: dict[tuple[str, str], Series] = {}
        self._curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._fixed = {("metric", key) for key, _, _ in METRICS}
        for key, label, color in METRICS:
            self._add_curve(("metric", key), self.metric_plot, label, color, symbol=True)
        for label, style in (("train", Qt.PenStyle.SolidLine), ("val", Qt.PenStyle.DashLine)):
            self.loss_plot.plot([], [], name=label, pen=pg.mkPen(THEME["axis"], width=2, style=style))
        self.final = pg.ScatterPlotItem(symbol="star", size=17, pen=pg.mkPen(THEME["text"], width=1),
                                        name="best.pt, final evaluation")
        self.metric_plot.addItem(self.final)
        self._best_sample = self.metric_plot.plot([], [], name="best epoch",
                                                  pen=pg.mkPen(THEME["best"], width=1.5, style=Qt.PenStyle.DashLine))
        self.best_lines = []
        for plot in (self.batch_plot, self.loss_plot, self.metric_plot, self.lr_plot):
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen(THEME["best"], width=1.5, style=Qt.PenStyle.DashLine))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.best_lines.append(line)
        self.best_epoch = 0
        self.epochs = 0
        self._xmax = 0.0
        self._colors: dict[str, str] = {}

    # ---- construction ----
    def _plot(self, row: int, col: int, title: str, ylabel: str, inside: bool = False) -> pg.PlotItem:
        plot = self.addPlot(row=row, col=col)
        plot.setTitle(title, color=THEME["text"], size="10pt", justify="left")
        font = QFont()
        font.setPointSizeF(8.5)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(THEME["axis"]))
            axis.setTextPen(pg.mkPen(THEME["axis"]))
            axis.setTickFont(font)
            # Grid: opaque lines at the major ticks only. pyqtgraph's showGrid (translucent lines at every
            # tick level) made a repaint of the four plots ~4x slower (60 ms -> 15 ms here).
            axis.setStyle(maxTickLevel=0)
            axis.setGrid(255)
            axis.setTickPen(pg.mkPen(THEME["grid"]))
        plot.vb.setZValue(1)  # curves and legends above the grid lines, which the axes draw
        plot.setLabel("left", ylabel, color=THEME["axis"])
        plot.setLabel("bottom", "epoch", color=THEME["axis"])
        plot.setMenuEnabled(False)
        plot.hideButtons()
        style = {"brush": pg.mkBrush(*THEME["legend_bg"]), "labelTextColor": THEME["text"], "labelTextSize": "8pt"}
        if inside:  # a framed box in the top-left corner of the data area
            plot.addLegend(offset=(6, 6), pen=pg.mkPen(THEME["legend_border"]), verSpacing=-4, **style)
        else:  # one line in the title row, right-aligned (the title is left-aligned): never over the data
            plot.legend = pg.LegendItem(offset=(-8, 2), colCount=8, horSpacing=12, **style)
            plot.legend.setParentItem(plot)
        return plot

    def _add_curve(self, key: tuple[str, str], plot: pg.PlotItem, label: str | None, color: str, *, dashed: bool = False,
                   symbol: bool = False, width: float = 2.0) -> pg.PlotDataItem:
        pen = pg.mkPen(color, width=width, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        kwargs = {"symbol": "o", "symbolSize": 5, "symbolBrush": color, "symbolPen": None} if symbol else {}
        curve = plot.plot([], [], pen=pen, name=label, antialias=True, connect="finite", **kwargs)
        self._curves[key] = curve
        self._series[key] = Series()
        return curve

    def _color(self, name: str) -> str:
        if name not in self._colors:
            self._colors[name] = PALETTE[len(self._colors) % len(PALETTE)]
        return self._colors[name]

    def _series_for(self, kind: str, name: str) -> Series:
        key = (kind, name)
        if key not in self._series:
            color = self._color(name)
            if kind == "batch":
                self._add_curve(key, self.batch_plot, name, color, width=1.5)
            elif kind in ("train", "val"):
                self._add_curve(key, self.loss_plot, None, color, dashed=kind == "val", symbol=True)
            else:
                self._add_curve(key, self.lr_plot, name, PALETTE[len(self._curves) % len(PALETTE)], symbol=True)
        return self._series[key]

    # ---- feeding ----
    def reset(self) -> None:
        """Empty every plot for another run: metric curves stay, loss and lr curves go (names may differ)."""
        for key in list(self._curves):
            if key in self._fixed:
                self._series[key].clear()
                self._curves[key].setData([], [])
                continue
            curve = self._curves.pop(key)
            del self._series[key]
            plot = curve.getViewBox().parentItem() if curve.getViewBox() else None
            if plot is not None:
                plot.legend.removeItem(curve)
                plot.removeItem(curve)
        self._colors.clear()
        self.final.setData([], [])
        self.set_best_epoch(0)
        self.epochs = 0
        self._xmax = 0.0
        for plot in (self.batch_plot, self.loss_plot, self.lr_plot):
            plot.enableAutoRange(axis="y")

    def show_run(self, events: Iterable[Event]) -> None:
        self.reset()
        self.add_events(events)

    def add_events(self, events: Iterable[Event]) -> None:
        dirty: set[tuple[str, str]] = set()
        for event in events:
            if isinstance(event, BatchEnd):
                x = event.epoch - 1 + event.batch / max(event.batches, 1)
                for name, value in event.losses.items():
                    self._series_for("batch", name).append(x, value)
                    dirty.add(("batch", name))
                self.epochs = max(self.epochs, event.epochs)
            elif isinstance(event, EpochEnd):
                dirty |= self._add_epoch(event)
            elif isinstance(event, FinalEval):
                self._show_final(event)
            elif isinstance(event, RunStarted):
                self.epochs = max(self.epochs, event.epochs)
        for key in dirty:
            self._curves[key].setData(*self._series[key].data())
        self._lr_visibility()
        self._fit_x()

    def _fit_x(self) -> None:
        """The shared epoch axis spans the data of every plot (a run without batch events, read from a
        results.csv, has nothing in the batch plot that pyqtgraph's own auto-range could follow)."""
        xmax = max((s.data()[0][-1] for s in self._series.values() if s.n), default=0.0)
        if xmax != self._xmax:
            self._xmax = xmax
            self.batch_plot.setXRange(0, max(xmax, 1.0), padding=0.02)

    def _add_epoch(self, event: EpochEnd) -> set[tuple[str, str]]:
        changed = set()
        x = float(event.epoch)
        for kind, values in (("train", event.train_losses), ("val", event.val_losses), ("lr", event.lr)):
            for name, value in values.items():
                self._series_for(kind, name).append(x, value)
                changed.add((kind, name))
        for key, _, _ in METRICS:
            self._series[("metric", key)].append(x, getattr(event, key))
            changed.add(("metric", key))
        best = event.best_epoch or (event.epoch if event.is_best else self.best_epoch)
        self.epochs = max(self.epochs, event.epochs)
        self.set_best_epoch(best)
        return changed

    def set_best_epoch(self, epoch: int) -> None:
        self.best_epoch = epoch
        for line in self.best_lines:
            line.setVisible(epoch > 0)
            line.setValue(epoch)
        title = "Validation metrics" + (f" · best epoch {epoch}" if epoch > 0 else "")
        self.metric_plot.setTitle(title, color=THEME["text"], size="10pt", justify="left")

    def _show_final(self, event: FinalEval) -> None:
        x = float(event.best_epoch or self.best_epoch or self.epochs)
        spots = [{"pos": (x, getattr(event, key)), "brush": pg.mkBrush(color)} for key, _, color in METRICS
                 if math.isfinite(getattr(event, key))]
        self.final.setData(spots)
        if event.best_epoch:
            self.set_best_epoch(event.best_epoch)

    def _lr_visibility(self) -> None:
        """Parameter groups usually share one schedule: show a group only when it differs from pg0."""
        base = self._series.get(("lr", "pg0"))
        several = False
        for (kind, name), curve in self._curves.items():
            if kind != "lr" or name == "pg0" or base is None:
                continue
            y0, y = base.data()[1], self._series[(kind, name)].data()[1]
            same = len(y) == len(y0) and np.allclose(y, y0, rtol=1e-6, equal_nan=True)
            curve.setVisible(not same)
            several = several or not same
            legend = self.lr_plot.legend
            if same and legend.getLabel(curve) is not None:
                legend.removeItem(curve)
            elif not same and legend.getLabel(curve) is None:
                legend.addItem(curve, name)
        self.lr_plot.legend.setVisible(several)
        if base is not None and base.n == 1 and base.data()[1][0] > 0:  # a lone point: not centred on zero
            self.lr_plot.setYRange(0, 2 * float(base.data()[1][0]), padding=0)
        else:
            self.lr_plot.enableAutoRange(axis="y")
