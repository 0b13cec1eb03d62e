"""What every export shares: its options, its report (JSON, shown in the GUI), the staging folder that makes
an export all-or-nothing, and the registry of export targets.

An exporter writes into a fresh staging folder beside the destination; only when it has finished (and, when
asked, verified) are its outputs moved into place, each with an atomic rename, and the report written last.
A failure or a cancel removes the staging folder: no half-written model is ever left where a user looks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from labeltrain.core.atomic import atomic_write_text

Progress = Callable[[str], None]  # a status line ("exporting ONNX", "verifying on 8 images")


class ExportError(RuntimeError):
    """An export that cannot be done, with a message for the user (and `hint`: what to do about it)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class ExportOptions:
    """Options common to the targets; a target ignores what it does not support (and says so in its report)."""

    imgsz: int | None = None  # default: the size the model was trained at
    half: bool = False  # float16 weights
    int8: bool = False  # INT8 quantisation (needs calibration images: the sample images)
    opset: int | None = None  # ONNX opset (default: Ultralytics' choice)
    dynamic: bool = False  # dynamic batch (and image size) axes
    nms: bool = False  # NMS inside the graph
    verify: bool = True
    images: tuple[str, ...] = ()  # sample images for verification and calibration (default: the model's data)
    max_images: int = 8
    out_dir: str | None = None  # default: <run folder>/export (or beside the weights)
    conf: float = 0.25  # detection threshold used to compare detections

    def with_changes(self, **changes: Any) -> ExportOptions:
        return replace(self, **changes)


@dataclass(frozen=True)
class Verification:
    """How an exported model compares with the PyTorch original on the same images."""

    images: int
    max_abs_diff: float | None  # largest difference of the raw outputs (None: different layouts, NMS inside)
    matched: int  # detections of the original matched by the export (same class, IoU >= 0.3)
    reference: int  # detections of the original
    exported: int  # detections of the export
    borderline: int  # unmatched ones whose score sits within 1e-3 of the threshold
    min_iou: float  # lowest IoU among matched (an unmatched non-borderline detection counts as 0)
    mean_iou: float
    max_score_diff: float
    reference_ms: float  # median latency per image, network only
    exported_ms: float
    runtime: str  # what ran the export ("onnxruntime 1.23 CPU", "Chromium 156 + tfjs 4.22 (webgl)")
    passed: bool
    notes: tuple[str, ...] = ()

    @property
    def latency_ratio(self) -> float:
        return self.exported_ms / self.reference_ms if self.reference_ms > 0 else float("nan")


@dataclass(frozen=True)
class ExportArtifact:
    """One output of an export (a file or a folder) with its size and, when checked, its verification."""

    kind: str  # "onnx", "tfjs", "tflite-float32", "web-demo", ...
    path: str
    size_bytes: int
    verification: Verification | None = None


@dataclass(frozen=True)
class ExportReport:
    format: str
    weights: str
    imgsz: int
    options: dict[str, Any]
    artifacts: tuple[ExportArtifact, ...]
    seconds: float
    messages: tuple[str, ...] = ()
    versions: dict[str, str] = field(default_factory=dict)
    report_path: str = ""

    @property
    def verified(self) -> bool:
        """Every artifact that was verified passed, and at least one was."""
        checks = [a.verification for a in self.artifacts if a.verification is not None]
        return bool(checks) and all(v.passed for v in checks)

    @property
    def main(self) -> ExportArtifact:
        return self.artifacts[0]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verified"] = self.verified
        for a, src in zip(d["artifacts"], self.artifacts):
            if src.verification is not None:
                a["verification"]["latency_ratio"] = round(src.verification.latency_ratio, 4)
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def table(self) -> str:
        """The export report table: format, file size, max difference vs PyTorch, latency."""
        rows = [f"{'output':<18} {'size':>10} {'max diff':>10} {'min IoU':>8} {'latency':>16}  verdict  file"]
        for a in self.artifacts:
            v = a.verification
            size = f"{a.size_bytes / 1e6:.2f} MB"
            if v is None:
                rows.append(f"{a.kind:<18} {size:>10} {'-':>10} {'-':>8} {'-':>16}  {'-':<7}  {a.path}")
                continue
            latency = f"{v.exported_ms:.1f} / {v.reference_ms:.1f} ms"
            diff = "n/a" if v.max_abs_diff is None else f"{v.max_abs_diff:.2e}"
            rows.append(f"{a.kind:<18} {size:>10} {diff:>10} {v.min_iou:>8.4f} {latency:>16}  "
                        f"{'pass' if v.passed else 'FAIL':<7}  {a.path}")
        rows.append("(latency: export / PyTorch, median per image on this CPU, network only)")
        return "\n".join(rows)


class Exporter(Protocol):
    """An export target. `missing()` says what is missing to run it (None when it can run)."""

    name: str
    title: str

    def missing(self) -> str | None: ...

    def export(self, weights: Path, options: ExportOptions, stage: Path, progress: Progress) -> ExportReport: ...


EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> Exporter:
    EXPORTERS[exporter.name] = exporter
    return exporter


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def default_out_dir(weights: Path) -> Path:
    """<run>/export for weights in <run>/weights/, else an `export` folder beside the weights."""
    parent = weights.resolve().parent
    return (parent.parent if parent.name == "weights" else parent) / "export"


@contextlib.contextmanager
def staging(out_dir: Path) -> Iterator[Path]:
    """A fresh folder inside `out_dir` for one export; removed afterwards whatever happens."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(item: Path, out_dir: Path) -> Path:
    """Move a finished output (file or folder) from the staging folder to `out_dir`, replacing an older one of
    the same name: files by an atomic rename; folders by renaming the old one aside first."""
    dest = out_dir / item.name
    if item.is_dir() and dest.exists():
        old = out_dir / f".{item.name}.old-{os.getpid()}-{time.monotonic_ns()}"
        os.replace(dest, old)
        os.replace(item, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(item, dest)
    return dest


def finish(report: ExportReport, stage: Path, out_dir: Path) -> ExportReport:
    """Publish the artifacts (paths relative to `stage`) and write the report beside them, last."""
    artifacts = []
    for a in report.artifacts:
        dest = publish(stage / a.path, out_dir)
        artifacts.append(replace(a, path=str(dest)))
    stem = Path(report.weights).stem
    report_path = out_dir / f"{stem}.{report.format}.report.json"
    done = replace(report, artifacts=tuple(artifacts), report_path=str(report_path))
    atomic_write_text(report_path, done.to_json() + "\n")
    return done
