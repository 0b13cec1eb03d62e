"""Export a trained detector (`.pt`) to a deployable format and verify it numerically.

    from labeltrain.training.export import export, ExportOptions
    report = export("runs/train/weights/best.pt", "onnx", ExportOptions(imgsz=320))
    report.verified, report.table(), report.report_path

Targets are a registry (`EXPORTERS`, filled by the modules imported below): each writes into a staging folder;
`export` publishes the finished outputs and a `<stem>.<format>.report.json` into the output folder
(default `<run>/export/`). See base.py for the all-or-nothing rule.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from labeltrain.training.export import onnx_export, tfjs, tflite  # noqa: F401 - register "onnx", "tfjs", "tflite"
from labeltrain.training.export.base import (
    EXPORTERS,
    ExportArtifact,
    ExportError,
    ExportOptions,
    ExportReport,
    Progress,
    Verification,
    default_out_dir,
    finish,
    staging,
)

__all__ = ["EXPORTERS", "ExportArtifact", "ExportError", "ExportOptions", "ExportReport", "Verification",
           "export", "default_out_dir"]


def export(weights: str | os.PathLike[str], fmt: str, options: ExportOptions | None = None,
           progress: Progress | None = None) -> ExportReport:
    """Export `weights` to `fmt` (a key of EXPORTERS); returns the report (also written as JSON). Raises
    ExportError with a message (and a hint) when the export cannot be made; nothing is left behind then."""
    options = options or ExportOptions()
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise ExportError(f"unknown export format {fmt!r}", f"choose one of: {', '.join(EXPORTERS)}")
    missing = exporter.missing()
    if missing:
        raise ExportError(f"{exporter.title} export is not available: {missing}")
    weights = Path(weights).expanduser().absolute()
    if not weights.is_file():
        raise ExportError(f"{weights}: no such weights file")
    out_dir = Path(options.out_dir).expanduser().absolute() if options.out_dir else default_out_dir(weights)
    say = progress or (lambda _text: None)
    t0 = time.perf_counter()
    with staging(out_dir) as stage:
        report = exporter.export(weights, options, stage, say)
        report = replace(report, seconds=round(time.perf_counter() - t0, 2))
        return finish(report, stage, out_dir)
