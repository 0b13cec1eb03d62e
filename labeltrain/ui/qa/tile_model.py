"""The previewer's list model: the images of the QAStore that pass the filters (class, rule, split, verified,
name). A refreshed image stays in view even when it no longer matches (it was just fixed: the user wants to see
the result); changing a filter applies it again."""

from __future__ import annotations

import bisect
import html
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from labeltrain.core.check import RULES
from labeltrain.core.problems import Severity
from labeltrain.ui.qa.records import TileRecord
from labeltrain.ui.qa.store import QAStore

RecordRole = Qt.ItemDataRole.UserRole + 1
ImageIndexRole = Qt.ItemDataRole.UserRole + 2
FindingsRole = Qt.ItemDataRole.UserRole + 3
VerifiedRole = Qt.ItemDataRole.UserRole + 4

ANY_FINDING, ERRORS, WARNINGS, REJECTED, CLEAN = "*any", "*error", "*warning", "*rejected", "*clean"
NO_SPLIT = ""
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class TileFilter:
    """None = no condition. `rule`: a rule id or one of ANY_FINDING, ERRORS, WARNINGS, REJECTED, CLEAN;
    `split`: a split name or NO_SPLIT; `text`: part of the file name (case-insensitive)."""

    cls: int | None = None
    rule: str | None = None
    split: str | None = None
    verified: bool | None = None
    text: str = ""

    @property
    def active(self) -> bool:
        return self != TileFilter()

    def accepts(self, store: QAStore, index: int) -> bool:
        record = store.records[index]
        item = store.dataset.items[index] if store.dataset is not None else None
        if item is None:
            return False
        if self.split is not None and (item.split or NO_SPLIT) != self.split:
            return False
        if self.text and self.text.casefold() not in item.image.rsplit("/", 1)[-1].casefold():
            return False
        if self.verified is not None and store.is_verified(item.image) != self.verified:
            return False
        if self.cls is None and self.rule is None:
            return True
        if record is None:
            return False
        if self.cls is not None and self.cls not in record.classes:
            return False
        if self.rule is not None:
            return _rule_matches(self.rule, record, store.findings_of(index))
        return True


def _rule_matches(rule: str, record: TileRecord, findings: list) -> bool:
    if rule == ANY_FINDING:
        return bool(findings)
    if rule == ERRORS:
        return any(f.severity == Severity.ERROR for f in findings)
    if rule == WARNINGS:
        return any(f.severity == Severity.WARNING for f in findings)
    if rule == REJECTED:
        return record.rejected
    if rule == CLEAN:
        return not any(f.severity != Severity.INFO for f in findings)
    return any(f.rule == rule for f in findings)


class TileModel(QAbstractListModel):
    def __init__(self, store: QAStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.filter = TileFilter()
        self.rows: list[int] = []
        self._pos: dict[int, int] = {}
        store.datasetChanged.connect(self.reapply)
        store.recordsChanged.connect(self._records_changed)
        store.verifiedChanged.connect(self._verified_changed)

    # --- Qt model ----------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        i = self.rows[index.row()]
        if role == RecordRole:
            return self.store.records[i]
        if role == ImageIndexRole:
            return i
        if role == FindingsRole:
            return self.store.findings_of(i)
        if role == VerifiedRole:
            return self.store.is_verified(self.store.dataset.items[i].image) if self.store.dataset else False
        if role == Qt.ItemDataRole.DisplayRole:
            return self.store.dataset.items[i].image.rsplit("/", 1)[-1] if self.store.dataset else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(i)
        return None

    # --- filtering -----------------------------------------------------------------------------------------
    def set_filter(self, flt: TileFilter) -> None:
        self.filter = flt
        self.reapply()

    def reapply(self) -> None:
        self.beginResetModel()
        n = len(self.store.records)
        if self.filter.active:
            self.rows = [i for i in range(n) if self.filter.accepts(self.store, i)]
        else:
            self.rows = list(range(n))
        self._pos = {i: r for r, i in enumerate(self.rows)}
        self.endResetModel()

    def row_of(self, image_index: int) -> int | None:
        return self._pos.get(image_index)

    def image_index(self, row: int) -> int:
        return self.rows[row]

    def _records_changed(self, indices: list[int]) -> None:
        new = []
        for i in indices:
            row = self._pos.get(i)
            if row is not None:
                mi = self.index(row)
                self.dataChanged.emit(mi, mi)
            elif self.filter.accepts(self.store, i):
                new.append(i)
        if not new:
            return
        new.sort()
        if not self.rows or new[0] > self.rows[-1]:  # streaming in during indexing: append
            start = len(self.rows)
            self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
            self.rows.extend(new)
            self._pos.update((i, start + k) for k, i in enumerate(new))
            self.endInsertRows()
            return
        if len(new) > 64:  # many at once (a checkout): one reset beats thousands of inserts
            self.beginResetModel()
            self.rows = sorted(set(self.rows).union(new))
            self._pos = {i: r for r, i in enumerate(self.rows)}
            self.endResetModel()
            return
        for i in new:
            row = bisect.bisect_left(self.rows, i)
            self.beginInsertRows(QModelIndex(), row, row)
            self.rows.insert(row, i)
            self.endInsertRows()
        self._pos = {i: r for r, i in enumerate(self.rows)}

    def _verified_changed(self) -> None:
        if self.filter.verified is not None:
            self.reapply()
        elif self.rows:
            self.dataChanged.emit(self.index(0), self.index(len(self.rows) - 1), [VerifiedRole])

    def image_changed(self, image_index: int) -> None:
        """Repaint one image's tile (its thumbnail arrived)."""
        row = self._pos.get(image_index)
        if row is not None:
            mi = self.index(row)
            self.dataChanged.emit(mi, mi, [Qt.ItemDataRole.DecorationRole])

    def _tooltip(self, i: int) -> str:
        item = self.store.dataset.items[i] if self.store.dataset else None
        record = self.store.records[i]
        if item is None:
            return ""
        lines = [f"<b>{html.escape(item.image)}</b>"]
        if record is None:
            return lines[0] + "<br>reading…"
        names = self.store.dataset.classes if self.store.dataset else None
        lines.append(f"{record.width}×{record.height} px · {len(record.boxes)} boxes"
                     + (f" · split {item.split}" if item.split else ""))
        if record.rejected:
            lines.append("<span style='color:#d32f2f'><b>the trainer ignores this image</b></span>")
        counts: dict[int, int] = {}
        for b in record.boxes:
            counts[b.cls] = counts.get(b.cls, 0) + 1
        if counts and names is not None:
            lines.append(", ".join(f"{html.escape(names.name(c))}: {n}" for c, n in sorted(counts.items())))
        for f in self.store.findings_of(i)[:8]:
            where = f" (line {f.line})" if f.line else ""
            title = RULES[f.rule].title if f.rule in RULES else f.rule
            lines.append(f"• <i>{f.severity}</i> {html.escape(title)}{where}: {html.escape(f.message)}")
        return "<br>".join(lines)
