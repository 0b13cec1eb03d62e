"""The "advanced" table of the training form: any other Ultralytics train argument as name / value rows.

Values are read as YAML scalars (true, 0.5, 3, [1, 2] or text), like the `extra:` mapping of a config file.
Argument names complete from Ultralytics' own defaults, which show as the placeholder of an empty value.
"""

from __future__ import annotations

from typing import Any

import yaml
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from labeltrain.training.config import RESERVED_ARGS, ultralytics_defaults


def _names() -> list[str]:
    return sorted(k for k in ultralytics_defaults() if k not in RESERVED_ARGS)


def parse_value(text: str) -> Any:
    text = text.strip()
    try:
        return yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return text


def format_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


class _NameDelegate(QStyledItemDelegate):
    """Editor of the name column: a line edit completing Ultralytics argument names."""

    def createEditor(self, parent, option, index):  # noqa: N802 - Qt override
        editor = QLineEdit(parent)
        completer = QCompleter(_names(), editor)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        editor.setCompleter(completer)
        return editor


class AdvancedTable(QWidget):
    """Name / value rows; `values()` returns the mapping (rows without a name are ignored)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Argument", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setItemDelegateForColumn(0, _NameDelegate(self.table))
        self.table.setMinimumHeight(90)
        self.table.setMaximumHeight(180)
        self.table.setToolTip("For example: cos_lr true, mosaic 0.5, close_mosaic 5, amp false, cache ram")
        self.table.itemChanged.connect(self._item_changed)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(QPushButton("Add", clicked=lambda: self.add_row()))
        row.addWidget(QPushButton("Remove", clicked=self.remove_selected))
        row.addStretch(1)
        layout.addLayout(row)

    def add_row(self, name: str = "", value: Any = "") -> None:
        self.table.blockSignals(True)
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(format_value(value) if name else ""))
        self.table.blockSignals(False)
        if not name:
            self.table.setCurrentCell(row, 0)
            self.table.editItem(self.table.item(row, 0))
        self.changed.emit()

    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.rowCount():
            rows = [self.table.currentRow() if self.table.currentRow() >= 0 else self.table.rowCount() - 1]
        for row in rows:
            self.table.removeRow(row)
        self.changed.emit()

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:  # show Ultralytics' default as a hint in an empty value
            value = self.table.item(item.row(), 1)
            default = ultralytics_defaults().get(item.text().strip())
            if value is not None and default is not None:
                value.setToolTip(f"Ultralytics default: {format_value(default)}")
        self.changed.emit()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for row in range(self.table.rowCount()):
            name_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            name = name_item.text().strip() if name_item is not None else ""
            if name:
                out[name] = parse_value(value_item.text() if value_item is not None else "")
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.table.blockSignals(False)
        for name, value in values.items():
            self.add_row(name, value)
        self.changed.emit()
