"""What the TF.js and TFLite exports share: the intermediate ONNX (float32, raw output, NMS outside), the
sample images' letterboxed input tensors (for verification and INT8 calibration), the conversion in the
converter environment, and the verification of outputs computed outside this process against PyTorch."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from labeltrain.training.export.base import ExportError, ExportOptions, ExportReport, Progress, Verification
from labeltrain.training.export.onnx_export import RAW_TOLERANCE, export_onnx, report_for
from labeltrain.training.export.tfenv import TfEnv
from labeltrain.training.export.web import Replay, to_onnx_layout

CONVERT_TIMEOUT = 1200.0  # seconds; a 640 px yolo26n converts in ~1 min on 2 cores


@dataclass
class Prepared:
    """The intermediate ONNX of an export, its runner, and the sample inputs prepared as verify() does."""

    weights: Path
    options: ExportOptions
    work: Path
    onnx_path: Path
    onnx: Any  # OnnxDetector
    images: list[str]
    inputs: list[np.ndarray]  # NCHW float32 batches of one image
    messages: list[str] = field(default_factory=list)

    @property
    def channels(self) -> int:
        return 4 + len(self.onnx.names)

    def nhwc(self) -> np.ndarray:
        return np.concatenate(self.inputs).transpose(0, 2, 3, 1).copy()

    def meta(self) -> dict[str, Any]:
        h, w = self.onnx.input_hw
        return {"names": {str(k): v for k, v in self.onnx.names.items()}, "imgsz": [h, w],
                "stride": self.onnx.metadata.get("stride", 32), "title": self.weights.name,
                "description": str(self.onnx.metadata.get("description", ""))}


def prepare(weights: Path, options: ExportOptions, stage: Path, progress: Progress, fmt: str) -> Prepared:
    """Export the float32 ONNX with raw output into `stage/.work` and prepare the sample inputs."""
    from labeltrain.training.export.verify import read_images, sample_images
    from labeltrain.training.onnx_infer import OnnxDetector

    work = stage / ".work"
    work.mkdir()
    messages = []
    if options.nms:
        messages.append(f"nms: the {fmt} model keeps NMS outside the graph (decoded as decode_raw does)")
    if options.dynamic:
        messages.append(f"dynamic: the {fmt} model has a fixed input size")
    onnx_options = options.with_changes(nms=False, dynamic=False, half=False, int8=False, verify=False)
    onnx_path, notes = export_onnx(weights, onnx_options, work, progress)
    messages.extend(notes)
    onnx = OnnxDetector(onnx_path)
    if onnx.final_rows:
        raise ExportError(f"the {fmt} export needs the raw output head; this ONNX has final rows")
    images = sample_images(weights, options.images, options.max_images)
    inputs = [onnx.prepare(img)[0] for _path, img in read_images(images)]
    return Prepared(weights, options, work, onnx_path, onnx, images, inputs, messages)


def split_head(onnx_path: Path, dest: Path) -> Path:
    """A copy of the ONNX whose last Concat (box pixels | class scores) is removed: two outputs, `boxes` and
    `scores`. For INT8: one quantised tensor for both gives scores a step of ~box range / 255 (they all become
    0); apart, the scores keep TFLite's sigmoid step of 1/256. run-tflite concatenates them back."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(onnx_path))
    graph = model.graph
    last = next((n for n in graph.node if graph.output[0].name in n.output), None)
    if last is None or last.op_type != "Concat" or len(last.input) != 2:
        raise ExportError("int8: the model's output is not a concatenation of boxes and scores")
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in inferred}
    graph.node.remove(last)
    del graph.output[:]
    for name, src in zip(("boxes", "scores"), last.input):
        graph.node.append(helper.make_node("Identity", [src], [name], name=f"labeltrain_{name}"))
        graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shapes.get(src)))
    onnx.checker.check_model(model)
    dest.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dest))
    return dest


def convert(env: TfEnv, p: Prepared, progress: Progress, *, tflite: Path | None = None, int8: bool = False,
            tfjs: Path | None = None, onnx_path: Path | None = None, kinds: tuple[str, ...] = ("float32", "float16"),
            tag: str = "") -> dict[str, Any]:
    """Run tf_convert.py in the converter env on the export's ONNX (or `onnx_path`); returns its JSON result
    (files made, versions, timings). `kinds`: the .tflite files to keep (named after the weights)."""
    args = ["convert", "--onnx", str(onnx_path or p.onnx_path), "--work", str(p.work / f"onnx2tf{tag}"),
            "--saved-model", str(p.work / f"saved_model{tag}"), "--kinds", ",".join(kinds),
            "--name", p.weights.stem]
    if p.inputs:
        calib = p.work / "calibration.npy"
        np.save(calib, p.nhwc())
        args += ["--calib", str(calib)]
    if tflite is not None:
        args += ["--tflite", str(tflite)] + (["--int8"] if int8 else [])
    if tfjs is not None:
        meta = p.work / "metadata.json"
        meta.write_text(json.dumps(p.meta()))
        args += ["--tfjs", str(tfjs), "--metadata", str(meta)]
    progress("converting ONNX -> TensorFlow (onnx2tf)" + (" -> TF.js" if tfjs else "")
             + (f" -> TFLite {'/'.join(kinds)}" if tflite else ""))
    proc = env.run_python(args, CONVERT_TIMEOUT, "the TensorFlow conversion (onnx2tf / tensorflowjs)")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise ExportError(f"the TensorFlow conversion gave no result: {proc.stdout[-500:]}") from exc


def verify_outputs(p: Prepared, outputs: list[np.ndarray], ms: list[float], runtime: str,
                   max_diff: float | None = RAW_TOLERANCE, min_iou: float | None = None,
                   notes: tuple[str, ...] = ()) -> Verification:
    """verify() against PyTorch with the export's outputs computed elsewhere (browser, LiteRT) on exactly the
    inputs verify() prepares; the latency is the one measured where the export ran."""
    from labeltrain.training.detectors import TorchDetector
    from labeltrain.training.export.onnx_export import _end2end
    from labeltrain.training.export.verify import MIN_IOU, verify

    replay = Replay(p.inputs, [to_onnx_layout(o, p.channels) for o in outputs])
    reference = TorchDetector(p.weights, imgsz=p.onnx.input_hw[0], end2end=_end2end(p.onnx))
    check = verify(reference, p.onnx, p.images, runtime=runtime, conf=p.options.conf, max_diff=max_diff,
                   min_iou=MIN_IOU if min_iou is None else min_iou, run_exported=replay)
    return replace(check, exported_ms=round(statistics.median(ms), 3), notes=check.notes + notes)


def finish_report(fmt: str, p: Prepared, artifacts: tuple, extra_versions: dict[str, str]) -> ExportReport:
    report = report_for(fmt, p.weights, p.onnx_path, p.options, artifacts, p.messages)
    return replace(report, versions={**report.versions, **extra_versions})
