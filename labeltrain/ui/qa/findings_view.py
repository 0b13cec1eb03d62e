"""The findings list: every finding (severity, rule, image, line, message, suggested fix), filterable and sortable;
click one to open its image in the editor (with the box of its line selected). "Run check" runs the whole checker
(run_check, with the dataset-wide rules: leakage, rare classes, orphan labels...) on a worker thread with progress
and cancel; per-image findings stay live as label files change. "Fix…" applies a safe one-click fix after showing
what it will change (backups are kept by core.check.fixes)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from labeltrain.core.check import CheckReport, Finding, run_check
from labeltrain.core.check.fixes import FIXES, apply_fix, fix_for_rule, plan_fix
from labeltrain.core.problems import Severity
from labeltrain.ui.qa.findings_model import FindingRole, FindingsFilter, FindingsModel
from labeltrain.ui.qa.records import editor_index_of_line
from labeltrain.ui.qa.store import QAStore
from labeltrain.ui.qa.workers import TaskSlot

PARAMETER_FIXES = frozenset({"remap_class"})  # need a choice from the user: done in the editor, not here


class FindingsView(QWidget):
    """`openInEditor(image, box index or None)`; `checkFinished(report)` after each full check."""

    openInEditor = Signal(str, object)
    checkFinished = Signal(object)

    def __init__(self, store: QAStore, parent: QWidget | None = None, auto_check: bool = True) -> None:
        super().__init__(parent)
        self.store = store
        self.auto_check = auto_check
        self.confirm: Callable[[str, str], bool] = self._ask  # (title, details) -> apply?
        self.model = FindingsModel(self)
        self.proxy = FindingsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        for col, width in enumerate((70, 150, 220, 45, 380)):
            header.resizeSection(col, width)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.clicked.connect(self._open)
        self.table.activated.connect(self._open)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.severity = QComboBox(self)
        for text, value in (("All severities", None), ("Errors", Severity.ERROR), ("Warnings", Severity.WARNING),
                            ("Notes", Severity.INFO)):
            self.severity.addItem(text, value)
        self.rule = QComboBox(self)
        self.rule.setMinimumContentsLength(22)
        self.rule.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter findings…")
        self.search.setClearButtonEnabled(True)
        for w in (self.severity, self.rule):
            w.currentIndexChanged.connect(self._filter_changed)
        self.search.textChanged.connect(self._filter_changed)
        self.run_button = QPushButton("Run check", self)
        self.run_button.setToolTip("Check every image and the dataset-wide rules (leakage, rare classes, orphans)")
        self.run_button.clicked.connect(self.run_check)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel_check)
        self.fix_button = QPushButton("Fix…", self)
        self.fix_button.setToolTip("Apply the safe fix of the selected finding's rule (shows the changes first; "
                                   "keeps a backup)")
        self.fix_button.clicked.connect(self.fix_selected)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(200)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self._task = TaskSlot(self)

        bar = QHBoxLayout()
        bar.addWidget(self.severity)
        bar.addWidget(self.rule)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.fix_button)
        bar.addWidget(self.run_button)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.reload)
        store.datasetChanged.connect(self._dataset_changed)
        store.recordsChanged.connect(lambda _i: self._timer.isActive() or self._timer.start())
        store.datasetFindingsChanged.connect(self.reload)
        store.indexFinished.connect(self._index_finished)
        self._set_running(False)
        self.reload()

    # --- public --------------------------------------------------------------------------------------------
    def run_check(self) -> None:
        """Run the full checker on the store's dataset in the background."""
        dataset = self.store.dataset
        if dataset is None:
            return
        self._set_running(True)
        self.progress.setRange(0, max(1, len(dataset.items)))
        self.progress.setValue(0)
        self._task.start(lambda progress, cancelled: run_check(dataset, progress=progress, cancelled=cancelled),
                         self._check_done, self._check_failed, self._check_progress)

    def cancel_check(self) -> None:
        self._task.cancel()
        self._set_running(False)
        self.summary.setText("Check cancelled.")

    def is_running(self) -> bool:
        return self._task.busy()

    def close_workers(self) -> None:
        self._task.close()

    def reload(self) -> None:
        ds = self.store.dataset
        findings = self.store.all_findings() if ds is not None else []
        self.model.set_findings(findings, str(ds.root) if ds is not None else "")
        self._fill_rules(findings)
        self._update_summary()

    # --- internals -----------------------------------------------------------------------------------------
    def _dataset_changed(self) -> None:
        self._task.cancel()
        self._set_running(False)
        self.reload()

    def _index_finished(self) -> None:
        self.reload()
        if self.auto_check and self.store.report is None and not self._task.busy():
            self.run_check()

    def _check_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _check_done(self, report: CheckReport) -> None:
        self._set_running(False)
        if report.dataset is not self.store.dataset:
            return
        self.store.set_report(report)
        self.checkFinished.emit(report)

    def _check_failed(self, message: str) -> None:
        self._set_running(False)
        self.summary.setText(f"The check failed: {message}")

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.run_button.setEnabled(not running)

    def _fill_rules(self, findings: list[Finding]) -> None:
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.rule] = counts.get(f.rule, 0) + 1
        current = self.rule.currentData()
        self.rule.blockSignals(True)
        self.rule.clear()
        self.rule.addItem("All rules", None)
        for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            self.rule.addItem(f"{rule} ({n:,})", rule)
        pos = self.rule.findData(current) if current is not None else 0
        self.rule.setCurrentIndex(max(0, pos))
        self.rule.blockSignals(False)
        self._filter_changed()

    def _filter_changed(self) -> None:
        self.proxy.set_conditions(self.severity.currentData(), self.rule.currentData(), self.search.text())
        self._update_summary()

    def _update_summary(self) -> None:
        if self._task.busy():
            return
        fs = self.model.findings
        c = {s: sum(1 for f in fs if f.severity == s) for s in Severity}
        text = (f"{c[Severity.ERROR]:,} errors, {c[Severity.WARNING]:,} warnings, {c[Severity.INFO]:,} notes"
                f" · showing {self.proxy.rowCount():,}")
        report = self.store.report
        if report is not None:
            s = report.summary
            text += (f" · last full check: {s.get('images', 0):,} images, the trainer would ignore "
                     f"{s.get('images_rejected', 0):,} and alter {s.get('images_altered', 0):,}"
                     f" ({s.get('seconds', 0):.1f} s)")
        elif self.store.dataset is not None:
            text += " · dataset-wide rules not run yet (Run check)"
        self.summary.setText(text)

    def _selected(self) -> list[Finding]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.proxy.index(r, 0).data(FindingRole) for r in sorted(rows)]

    def _selection_changed(self) -> None:
        fixable = [f for f in self._selected() if (fix_for_rule(f.rule) or "") in FIXES
                   and fix_for_rule(f.rule) not in PARAMETER_FIXES]
        self.fix_button.setEnabled(bool(fixable))

    def _open(self, index: QModelIndex) -> None:
        f: Finding | None = index.data(FindingRole)
        if f is None or f.image is None:
            return
        self.openInEditor.emit(f.image, editor_index_of_line(f.label, f.line) if f.line else None)

    def fix_selected(self) -> None:
        """Plan the fix of the selected findings' rule for their files, show it, apply it when confirmed."""
        chosen = self._selected()
        fixes = {fix_for_rule(f.rule) for f in chosen} - {None} - PARAMETER_FIXES
        if len(fixes) != 1 or self.store.dataset is None:
            return
        fix_id = fixes.pop()
        assert fix_id is not None
        files = {p for f in chosen if fix_for_rule(f.rule) == fix_id for p in (f.image, f.label) if p}
        report = CheckReport(str(self.store.dataset.root), self.store.all_findings(), {}, self.store.dataset)
        plan = plan_fix(fix_id, report, files=files)
        if plan.empty:
            QMessageBox.information(self, "labeltrain", "Nothing to change:\n" + plan.describe())
            return
        if not self.confirm(plan.title, plan.describe()):
            return
        result = apply_fix(plan)
        self.summary.setText(f"{plan.title}: wrote {len(result.written)} file(s); backup in {result.backup_dir}")
        self.store.refresh([i for p in result.written for i in self.store.indices_of_label(p)])

    def _ask(self, title: str, details: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "labeltrain", f"{title}?", parent=self)
        box.setInformativeText("The files below will be changed; the originals are backed up in "
                               ".labeltrain/backups.")
        box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Apply | QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Apply
