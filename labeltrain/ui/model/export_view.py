"""Export tab: pick a target from the exporters' registry, its options, and run `labeltrain export --verify
--json` in a child process; the report table (format, size, max difference vs PyTorch, matched IoU, latency,
verdict) and notes come back from the report JSON. A target that cannot run here says why (e.g. the TF.js
converter environment is missing, and the command that creates it)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from labeltrain.training.export import EXPORTERS
from labeltrain.ui.cli_job import CliJob
from labeltrain.ui.model.tables import make_table, table_item


def _unverified(artifact: dict, report: dict) -> str:
    """The verdict cell of an output without numbers: the web demo is checked against ONNX as part of the
    export (a mismatch fails it), so a finished verified export means its page passed."""
    if artifact["kind"] == "web-demo" and report.get("verified"):
        return "pass (see notes)"
    return "not verified"


COLUMNS = ["output", "size", "max diff", "min IoU", "matched", "latency (export / PyTorch)", "verdict", "file"]


class ExportView(QWidget):
    exported = Signal(object)  # the report dict

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights: Path | None = None
        self.report: dict | None = None
        self.job = CliJob(self)
        self.format = QComboBox(self)
        for name, exporter in EXPORTERS.items():
            self.format.addItem(exporter.title, name)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.imgsz = QSpinBox(self, minimum=0, maximum=4096, singleStep=32, value=0)
        self.imgsz.setSpecialValueText("as trained")
        self.half = QCheckBox("float16 weights", self)
        self.int8 = QCheckBox("INT8 quantisation (TFLite)", self)
        self.nms = QCheckBox("NMS inside the model (ONNX)", self)
        self.dynamic = QCheckBox("dynamic batch (ONNX)", self)
        self.verify = QCheckBox("verify against PyTorch on sample images", self, checked=True)
        self.availability = QLabel(self)
        self.availability.setWordWrap(True)
        self.availability.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_button = QPushButton("Export", self)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.folder_button = QPushButton("Open folder", self, enabled=False)
        self.folder_button.clicked.connect(self._open_folder)
        self.web_button = QPushButton("Open web demo", self, enabled=False)
        self.web_button.setToolTip("The exported page that detects objects in an image you drop on it")
        self.web_button.clicked.connect(self._open_web)
        self.status = QLabel("Choose a model (top) and a format, then Export.", self)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setWordWrap(True)
        self.table: QTableWidget = make_table(COLUMNS)
        self.notes = QLabel(self)
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Image size", self.imgsz)
        for box in (self.half, self.int8, self.nms, self.dynamic, self.verify):
            form.addRow("", box)
        form.addRow("", self.availability)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.folder_button, self.web_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        settings = QWidget(self)
        settings.setLayout(form)
        settings.setMaximumWidth(640)
        layout = QVBoxLayout(self)
        layout.addWidget(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)
        self.job.line.connect(lambda text: self.status.setText(text[:200]))
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(lambda reason: self._finish(f"Export failed: {reason}"))
        self._format_changed()

    def set_weights(self, weights: Path | None) -> None:
        self.weights = weights
        self._format_changed()

    def current_format(self) -> str:
        return str(self.format.currentData())

    def run(self) -> None:
        if self.weights is None or self.job.running:
            return
        args = ["export", str(self.weights), "--format", self.current_format(), "--json"]
        if self.imgsz.value():
            args += ["--imgsz", str(self.imgsz.value())]
        for box, flag in ((self.half, "--half"), (self.int8, "--int8"), (self.nms, "--nms"),
                          (self.dynamic, "--dynamic"), (self.verify, "--verify")):
            if box.isChecked() and box.isEnabled():
                args.append(flag)
        self.run_button.setEnabled(False)
        self.status.setText(f"Exporting {self.weights.name} to {self.format.currentText()}…")
        self.job.start(args, accept_codes=(0, 1))

    def show_report(self, report: dict) -> None:
        self.report = report
        artifacts = report.get("artifacts", [])
        self.table.setRowCount(len(artifacts))
        for i, a in enumerate(artifacts):
            v = a.get("verification") or {}
            diff = v.get("max_abs_diff")
            values = [a["kind"], f"{a['size_bytes'] / 1e6:.2f} MB",
                      "-" if not v else ("n/a" if diff is None else f"{diff:.2e}"),
                      f"{v['min_iou']:.4f}" if v else "-",
                      f"{v['matched']} / {v['reference']}" if v else "-",
                      f"{v['exported_ms']:.1f} / {v['reference_ms']:.1f} ms ({v.get('runtime', '')})" if v else "-",
                      ("pass" if v.get("passed") else "FAIL") if v else _unverified(a, report), a["path"]]
            for j, value in enumerate(values):
                item = table_item(value, j in (1, 2, 3, 4))
                if j == 6 and v:
                    item.setForeground(Qt.GlobalColor.darkGreen if v.get("passed") else Qt.GlobalColor.red)
                self.table.setItem(i, j, item)
        notes = list(report.get("messages", []))
        for a in artifacts:
            notes += [f"{a['kind']}: {n}" for n in (a.get("verification") or {}).get("notes", [])]
        self.notes.setText("\n".join(notes))
        self.folder_button.setEnabled(bool(artifacts))
        self.web_button.setEnabled(self._web_page() is not None)

    def close_jobs(self) -> None:
        self.job.close()

    # --- internals ---------------------------------------------------------------------------------------
    def _format_changed(self) -> None:
        name = self.current_format()
        exporter = EXPORTERS.get(name)
        missing = exporter.missing() if exporter is not None else "unknown format"
        self.availability.setText(f"Not available here: {missing}" if missing else "")
        self.availability.setStyleSheet("color: #b35900;" if missing else "")
        self.nms.setEnabled(name == "onnx")
        self.dynamic.setEnabled(name == "onnx")
        self.int8.setEnabled(name == "tflite")
        self.run_button.setEnabled(self.weights is not None and not missing and not self.job.running)

    def _done(self, report: dict) -> None:
        self.show_report(report)
        verified = report.get("verified")
        verdict = "verified" if verified else ("not verified" if not self.verify.isChecked() else "VERIFICATION FAILED")
        self._finish(f"Exported in {report.get('seconds', 0):.1f} s, {verdict}. Report: {report.get('report_path')}")
        self.exported.emit(report)

    def _finish(self, text: str) -> None:
        self.status.setText(text)
        self._format_changed()

    def _open_folder(self) -> None:
        if self.report and self.report.get("artifacts"):
            folder = Path(self.report["artifacts"][0]["path"]).parent
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _web_page(self) -> Path | None:
        for a in (self.report or {}).get("artifacts", []):
            page = Path(a["path"]) / "index.html" if a["kind"] in ("web-demo", "tfjs") else None
            if page is not None and page.is_file():
                return page
        return None

    def _open_web(self) -> None:
        page = self._web_page()
        if page is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(page)))
