"""The previewer's filter bar: class, rule (or severity), split, verified, file name. The combos list what the
dataset holds, with counts, and are refreshed as records arrive; the current choice survives a refresh."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QWidget

from labeltrain.core.check import RULES
from labeltrain.ui.colors import class_color
from labeltrain.ui.qa.store import QAStore
from labeltrain.ui.qa.tile_model import ANY_FINDING, CLEAN, ERRORS, NO_SPLIT, REJECTED, WARNINGS, TileFilter

_SPECIAL_RULES = ((ANY_FINDING, "Any finding"), (ERRORS, "Errors"), (WARNINGS, "Warnings"),
                  (REJECTED, "Ignored by the trainer"), (CLEAN, "No errors or warnings"))


def swatch(color: QColor, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(color)
    return QIcon(pm)


def _set_items(combo: QComboBox, items: list[tuple[str, object, QIcon | None]]) -> None:
    """Replace the items, keeping the current choice (by its data) when it is still there."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for text, data, icon in items:
        if icon is not None:
            combo.addItem(icon, text, data)
        else:
            combo.addItem(text, data)
    pos = combo.findData(current)
    combo.setCurrentIndex(pos if pos >= 0 else 0)
    combo.blockSignals(False)


class FilterBar(QWidget):
    changed = Signal(object)  # TileFilter

    def __init__(self, store: QAStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.cls = QComboBox(self)
        self.rule = QComboBox(self)
        self.split = QComboBox(self)
        self.verified = QComboBox(self)
        self.text = QLineEdit(self)
        self.text.setPlaceholderText("File name…")
        self.text.setClearButtonEnabled(True)
        for combo, tip in ((self.cls, "Images with a box of this class"),
                           (self.rule, "Images with a finding of this rule"),
                           (self.split, "Images of this split"), (self.verified, "Verified in the editor")):
            combo.setToolTip(tip)
            combo.currentIndexChanged.connect(self._emit)
        self.rule.setMaxVisibleItems(25)
        self.rule.view().setMinimumWidth(420)
        for combo, chars in ((self.cls, 14), (self.rule, 22), (self.split, 10), (self.verified, 12)):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(chars)
        self.text.textChanged.connect(self._emit_soon)
        _set_items(self.verified, [("Verified or not", None, None), ("Verified", True, None),
                                   ("Not verified", False, None)])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.cls, self.rule, self.split, self.verified):
            layout.addWidget(w)
        layout.addWidget(self.text, 1)
        self._text_timer = QTimer(self, singleShot=True, interval=200)
        self._text_timer.timeout.connect(self._emit)
        self._refresh_timer = QTimer(self, singleShot=True, interval=400)
        self._refresh_timer.timeout.connect(self.refresh_choices)
        store.datasetChanged.connect(self.refresh_choices)
        store.recordsChanged.connect(lambda _i: self._refresh_timer.isActive() or self._refresh_timer.start())
        store.indexFinished.connect(self.refresh_choices)
        store.datasetFindingsChanged.connect(self.refresh_choices)
        self.refresh_choices()

    def refresh_choices(self) -> None:
        ds = self.store.dataset
        names = ds.classes if ds is not None else None
        counts = self.store.class_counts() if ds is not None else {}
        nc = len(names) if names is not None and len(names) else None
        ids = sorted(set(range(nc or 0)) | set(counts))
        _set_items(self.cls, [("All classes", None, None)] + [
            (f"{names.name(c) if names is not None else c} ({counts.get(c, 0):,})", c, swatch(class_color(c, nc)))
            for c in ids])
        rules = self.store.rule_counts() if ds is not None else {}
        rule_items: list[tuple[str, object, QIcon | None]] = [("All images", None, None)]
        rule_items += [(text, key, None) for key, text in _SPECIAL_RULES]
        for rule, n in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0])):
            title = RULES[rule].title if rule in RULES else rule
            rule_items.append((f"{rule}: {title} ({n:,})", rule, None))
        _set_items(self.rule, rule_items)
        splits = ds.splits() if ds is not None else {}
        split_items: list[tuple[str, object, QIcon | None]] = [("All splits", None, None)]
        for s in sorted((s for s in splits if s), key=lambda s: ("train", "val", "test").index(s)
                        if s in ("train", "val", "test") else 9):
            split_items.append((f"{s} ({splits[s]:,})", s, None))
        if None in splits and len(splits) > 1:
            split_items.append((f"no split ({splits[None]:,})", NO_SPLIT, None))
        _set_items(self.split, split_items)
        self.split.setVisible(len(split_items) > 1)

    def current(self) -> TileFilter:
        return TileFilter(self.cls.currentData(), self.rule.currentData(), self.split.currentData(),
                          self.verified.currentData(), self.text.text().strip())

    def set_filter(self, flt: TileFilter) -> None:
        """Select the combo entries of `flt` (entries the dataset lacks are added) and apply it."""
        for combo, value in ((self.cls, flt.cls), (self.rule, flt.rule), (self.split, flt.split),
                             (self.verified, flt.verified)):
            combo.blockSignals(True)
            pos = combo.findData(value)
            if pos < 0:
                combo.addItem(str(value), value)
                pos = combo.count() - 1
            combo.setCurrentIndex(pos)
            combo.blockSignals(False)
        self.text.blockSignals(True)
        self.text.setText(flt.text)
        self.text.blockSignals(False)
        self._emit()

    def _emit_soon(self) -> None:
        self._text_timer.start()

    def _emit(self) -> None:
        self.changed.emit(self.current())
