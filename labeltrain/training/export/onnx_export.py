"""ONNX export through Ultralytics, verified with onnxruntime against the PyTorch original.

Options: opset, dynamic batch, half (float16 weights; Ultralytics makes it on a GPU only), NMS inside the graph
(`[1, 300, 6]` rows above the export's confidence threshold) or outside (raw `[1, 4+nc, anchors]`, the default: any runtime can run it). The export is
compared with the same head it was made from (YOLO26 has two: see detectors.TorchDetector).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labeltrain.training.export.base import (
    ExportArtifact,
    ExportError,
    ExportOptions,
    ExportReport,
    Progress,
    register,
    size_of,
)

RAW_TOLERANCE = 1e-2  # float32 ONNX vs PyTorch raw outputs (input pixels and scores): measured ~1e-4


class OnnxExporter:
    name = "onnx"
    title = "ONNX (onnxruntime: servers, apps, other runtimes)"

    def missing(self) -> str | None:
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            return f"the ONNX packages are not installed ({exc}); run `make setup`"
        return None

    def export(self, weights: Path, options: ExportOptions, stage: Path, progress: Progress) -> ExportReport:
        onnx_path, messages = export_onnx(weights, options, stage, progress)
        artifact = ExportArtifact("onnx", onnx_path.name, size_of(onnx_path))
        if options.verify:
            artifact = verify_onnx(weights, onnx_path, options, progress, artifact, messages)
        return report_for(self.name, weights, onnx_path, options, (artifact,), messages)


def export_onnx(weights: Path, options: ExportOptions, stage: Path, progress: Progress,
                name: str | None = None) -> tuple[Path, list[str]]:
    """Write `<stage>/<weights stem>.onnx` (or `name`) with Ultralytics; returns it and notes for the report."""
    from labeltrain.training.ultra import load_yolo, model_imgsz, quiet

    messages: list[str] = []
    model = load_yolo(weights)
    imgsz = options.imgsz or model_imgsz(model)
    if imgsz % 32:
        raise ExportError(f"image size {imgsz} is not a multiple of 32", "use 320, 416, 512, 640, ...")
    kwargs: dict = {"format": "onnx", "imgsz": imgsz, "dynamic": options.dynamic, "simplify": True,
                    "device": "cpu"}
    if options.opset:
        kwargs["opset"] = options.opset
    if options.nms:  # the graph then drops detections below this confidence itself
        kwargs.update(nms=True, conf=options.conf)
    if options.half:
        messages.append("half: Ultralytics writes float16 ONNX on a GPU only; this float32 file runs everywhere")
    if options.int8:
        messages.append("int8: not offered for ONNX here (use the TFLite export for an INT8 model)")
    progress(f"exporting ONNX at {imgsz} px")
    copy = stage / weights.name  # Ultralytics writes beside the weights: let it write into the stage
    shutil.copy2(weights, copy)
    try:
        with quiet():
            out = Path(str(load_yolo(copy).export(**kwargs)))
    except Exception as exc:  # noqa: BLE001 - Ultralytics raises many kinds; the user needs the message
        raise ExportError(f"the ONNX export failed: {type(exc).__name__}: {exc}") from exc
    finally:
        copy.unlink(missing_ok=True)
    target = stage / (name or f"{weights.stem}.onnx")
    if out != target:
        out.replace(target)
    return target, messages


def verify_onnx(weights: Path, onnx_path: Path, options: ExportOptions, progress: Progress,
                artifact: ExportArtifact, messages: list[str]) -> ExportArtifact:
    """Run the file with onnxruntime and the original with PyTorch on sample images; attach the result."""
    from dataclasses import replace

    import onnxruntime

    from labeltrain.training.detectors import TorchDetector
    from labeltrain.training.export.verify import sample_images, verify
    from labeltrain.training.onnx_infer import OnnxDetector

    images = sample_images(weights, options.images, options.max_images)
    if not images:
        messages.append("not verified: no sample images (pass some, or keep the data.yaml the model was "
                        "trained on where it was)")
        return artifact
    exported = OnnxDetector(onnx_path)
    progress(f"verifying ONNX on {len(images)} images")
    reference = TorchDetector(weights, imgsz=exported.input_hw[0], end2end=_end2end(exported))
    check = verify(reference, exported, images, conf=options.conf,
                   runtime=f"onnxruntime {onnxruntime.__version__} CPU",
                   max_diff=None if options.nms else RAW_TOLERANCE)
    return replace(artifact, verification=check)


def _end2end(detector) -> bool:
    value = detector.metadata.get("end2end")
    return value is True or value == "True"


def report_for(fmt: str, weights: Path, main: Path, options: ExportOptions, artifacts: tuple[ExportArtifact, ...],
               messages: list[str]) -> ExportReport:
    from dataclasses import asdict

    from labeltrain.training.onnx_infer import OnnxDetector
    from labeltrain.training.ultra import versions

    imgsz = options.imgsz or 0
    if main.suffix == ".onnx":
        imgsz = OnnxDetector(main).input_hw[0]
    return ExportReport(format=fmt, weights=str(weights), imgsz=imgsz, options=asdict(options),
                        artifacts=artifacts, seconds=0.0, messages=tuple(messages), versions=versions())


register(OnnxExporter())
