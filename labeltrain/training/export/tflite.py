"""TFLite export: float32 and float16 `.tflite` files from one onnx2tf run in the converter env (and, when
asked, INT8 calibrated on the sample images), each verified with the LiteRT interpreter against PyTorch.

float16 has float16 weights computed in float32. INT8 is onnx2tf's "integer_quant" (int8 weights and
activations, float32 input/output) of the ONNX with its last Concat removed: box pixels and class scores
as two outputs, each with its own quantisation (one shared tensor zeroes every score); run-tflite joins
them back into the [1, 4+nc, anchors] layout. Its detections pass at a looser IoU (INT8_MIN_IOU).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from labeltrain.training.export.base import (
    ExportArtifact,
    ExportError,
    ExportOptions,
    ExportReport,
    Progress,
    Verification,
    register,
    size_of,
)
from labeltrain.training.export.tf_pipeline import (
    Prepared,
    convert,
    finish_report,
    prepare,
    split_head,
    verify_outputs,
)
from labeltrain.training.export.tfenv import TfEnv, find_env

RUN_TIMEOUT = 600.0
KINDS = ("float32", "float16", "int8")
# Raw-output tolerance (input pixels / scores) per kind; None: only the detections are compared.
TOLERANCE: dict[str, float | None] = {"float32": 1e-2, "float16": None, "int8": None}
INT8_MIN_IOU = 0.5  # INT8 passes when every PyTorch detection is matched this well (see the module doc)


class TfliteExporter:
    name = "tflite"
    title = "TFLite / LiteRT (Android, iOS, microcontrollers: float32, float16, INT8)"

    def __init__(self, env_root: str | os.PathLike[str] | None = None):
        self.env_root = env_root

    def missing(self) -> str | None:
        return find_env(self.env_root).missing_python()

    def export(self, weights: Path, options: ExportOptions, stage: Path, progress: Progress) -> ExportReport:
        env = find_env(self.env_root)
        missing = env.missing_python()
        if missing:
            raise ExportError(f"TFLite export is not available: {missing}")
        p = prepare(weights, options, stage, progress, "TFLite")
        int8 = options.int8 and bool(p.inputs)
        if options.int8 and not p.inputs:
            p.messages.append("int8: not made: it needs calibration images and there are no sample images")
        elif not options.int8:
            p.messages.append("int8: not requested (ExportOptions(int8=True) adds an INT8 file calibrated on "
                              "the sample images)")
        if options.half:
            p.messages.append("half: the float16 file is always made")
        result = convert(env, p, progress, tflite=stage)
        made: dict[str, str] = dict(result.get("tflite", {}))
        p.messages.append(f"float32/float16 converted in {result.get('onnx2tf_s')} s (onnx2tf)")
        if int8:
            split = split_head(p.onnx_path, p.work / "split" / p.onnx_path.name)
            quant = convert(env, p, progress, tflite=stage, int8=True, onnx_path=split, kinds=("int8",), tag="-int8")
            made.update(quant.get("tflite", {}))
            p.messages.append(f"int8 converted in {quant.get('onnx2tf_s')} s (onnx2tf, calibrated on "
                              f"{len(p.inputs)} sample images; boxes and scores quantised as separate outputs)")
            if "int8" not in made:
                p.messages.append("int8: onnx2tf made no INT8 file")
        artifacts = []
        for kind in KINDS:
            if kind not in made:
                continue
            final = stage / made[kind]
            check = None
            if options.verify and p.inputs:
                progress(f"verifying TFLite {kind} with LiteRT on {len(p.inputs)} images")
                check = self._verify(env, p, final, kind)
            artifacts.append(ExportArtifact(f"tflite-{kind}", final.name, size_of(final), check))
        if not artifacts:
            raise ExportError("onnx2tf made no .tflite file")
        if options.verify and not p.inputs:
            p.messages.append("not verified: no sample images (pass some, or keep the data.yaml the model was "
                              "trained on where it was)")
        return finish_report(self.name, p, tuple(artifacts), result.get("versions", {}))

    def _verify(self, env: TfEnv, p: Prepared, model: Path, kind: str) -> Verification:
        with tempfile.TemporaryDirectory(prefix="labeltrain-tflite-", dir=p.work) as tmp:
            inputs, outputs = Path(tmp) / "inputs.npy", Path(tmp) / "outputs.npz"
            np.save(inputs, p.nhwc())
            proc = env.run_python(["run-tflite", "--model", str(model), "--inputs", str(inputs), "--out",
                                   str(outputs)], RUN_TIMEOUT, f"running the TFLite {kind} model")
            info = json.loads(proc.stdout.strip().splitlines()[-1])
            with np.load(outputs) as data:
                outs, ms = list(data["outputs"]), [float(v) for v in data["ms"]]
        version = info.get("versions", {}).get("ai_edge_litert", "?")
        notes = ()
        if kind == "int8":
            notes = (f"int8: passes at matched IoU >= {INT8_MIN_IOU} (quantised outputs; see the TFLite notes)",)
        check = verify_outputs(p, outs, ms, f"LiteRT {version} CPU ({kind}, 2 threads)", max_diff=TOLERANCE[kind],
                               min_iou=INT8_MIN_IOU if kind == "int8" else None, notes=notes)
        if kind == "int8" and not check.passed:
            p.messages.append(int8_explanation(outs, check, p.options.conf))
        return check


def int8_explanation(outputs: list[np.ndarray], check: Verification, conf: float) -> str:
    """Why an INT8 file misses detections, measured on its outputs: the steps its box and score outputs are
    quantised in, against this model's scores and the threshold."""
    def step(values: np.ndarray) -> float:
        v = np.unique(values)
        return float(np.diff(v).min()) if len(v) > 1 else float("nan")

    boxes = np.concatenate([o[0, :4].reshape(-1) for o in outputs])
    scores = np.concatenate([o[0, 4:].reshape(-1) for o in outputs])
    return (f"int8: made offline (calibrated on the sample images) but not verified: {check.matched} of "
            f"{check.reference} PyTorch detections matched (mean IoU {check.mean_iou:.3f}); its scores are "
            f"quantised in steps of {step(scores):.3g} and box pixels in steps of {step(boxes):.3g}, and this "
            f"model's scores (max {float(scores.max()):.3g}) lie within a few steps of the threshold {conf}, so "
            "detections near it appear or vanish. Use the float16 file, or INT8 for a model whose scores are "
            "well above the threshold")


register(TfliteExporter())
