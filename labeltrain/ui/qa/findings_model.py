"""The findings table's model (one row per finding: severity, rule, image, line, message, fix) and its filter
(severity, rule, free text)."""

from __future__ import annotations

import os

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush

from labeltrain.core.check import RULES, Finding
from labeltrain.core.problems import Severity
from labeltrain.ui.qa.paint import SEVERITY_COLORS
from labeltrain.ui.qa.records import SEVERITY_RANK

COLUMNS = ("Severity", "Rule", "Image", "Line", "Message", "Fix")
FindingRole = Qt.ItemDataRole.UserRole + 21
_Index = QModelIndex | QPersistentModelIndex


class FindingsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.findings: list[Finding] = []
        self.root = ""

    def set_findings(self, findings: list[Finding], root: str = "") -> None:
        self.beginResetModel()
        self.findings, self.root = findings, root
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def _where(self, f: Finding) -> str:
        path = f.image or f.label or ""
        if self.root and path.startswith(self.root + os.sep):
            return path[len(self.root) + 1:]
        return path or "(dataset)"

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        f = self.findings[index.row()]
        col = index.column()
        if role == FindingRole:
            return f
        if role == Qt.ItemDataRole.DisplayRole:
            return (str(f.severity), f.rule, self._where(f), "" if f.line is None else str(f.line), f.message,
                    f.fix or "")[col]
        if role == Qt.ItemDataRole.UserRole:  # sort keys
            return (SEVERITY_RANK[f.severity], f.rule, self._where(f), f.line or 0, f.message, f.fix or "")[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 0:
            return QBrush(SEVERITY_COLORS[f.severity].darker(115))
        if role == Qt.ItemDataRole.ToolTipRole:
            title = RULES[f.rule].title if f.rule in RULES else f.rule
            return f"{title}\n{f.location()}\n{f.message}" + (f"\nFix: {f.fix}" if f.fix else "")
        return None


class FindingsFilter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.severity: Severity | None = None
        self.rule: str | None = None
        self.text = ""
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def set_conditions(self, severity: Severity | None, rule: str | None, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10 (invalidateFilter is deprecated there)
            self.beginFilterChange()
            self.severity, self.rule, self.text = severity, rule, text.casefold()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.severity, self.rule, self.text = severity, rule, text.casefold()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:
        f: Finding = self.sourceModel().findings[row]  # type: ignore[attr-defined]
        if self.severity is not None and f.severity != self.severity:
            return False
        if self.rule is not None and f.rule != self.rule:
            return False
        if self.text:
            hay = f"{f.rule} {f.image or ''} {f.label or ''} {f.message}".casefold()
            return self.text in hay
        return True
