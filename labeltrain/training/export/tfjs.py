"""TF.js export: ONNX (float32, raw output) -> onnx2tf -dgc (TF.js has no grouped convolution) -> SavedModel ->
tensorflowjs_converter -> graph model (model.json + shards, input NHWC float 0..1, output as ONNX's), run in
the converter env. Verified in real headless Chromium with @tensorflow/tfjs against PyTorch, and shipped with
an offline web demo page whose own detections are checked against ONNX + decode_raw.
"""

from __future__ import annotations

import os
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
from labeltrain.training.export.tf_pipeline import convert, finish_report, prepare, verify_outputs
from labeltrain.training.export.tfenv import find_env
from labeltrain.training.export.web import run_in_browser
from labeltrain.training.export.web_demo import build_demo, check_demo

DEMO_IMAGES = 3  # sample images the exported demo page is checked on


class TfjsExporter:
    name = "tfjs"
    title = "TF.js (browsers: graph model + offline web demo page)"

    def __init__(self, env_root: str | os.PathLike[str] | None = None):
        self.env_root = env_root  # None: $LABELTRAIN_TFJS_ENV or the checkout's .venv-tfjs

    def missing(self) -> str | None:
        return find_env(self.env_root).missing_browser()

    def export(self, weights: Path, options: ExportOptions, stage: Path, progress: Progress) -> ExportReport:
        env = find_env(self.env_root)
        missing = env.missing_browser()
        if missing:
            raise ExportError(f"TF.js export is not available: {missing}")
        if options.half or options.int8:
            notes = "half/int8: the TF.js model keeps float32 weights (the web demo must equal ONNX's detections)"
            options = options.with_changes(half=False, int8=False)
        else:
            notes = ""
        p = prepare(weights, options, stage, progress, "TF.js")
        if notes:
            p.messages.append(notes)
        web_model = stage / f"{weights.stem}_web_model"
        result = convert(env, p, progress, tfjs=web_model)
        p.messages.append(f"converted in {result.get('onnx2tf_s')} s (onnx2tf) + {result.get('tfjs_s')} s "
                          f"(tensorflowjs); signature {result.get('tfjs_signature')}")
        progress("building the web demo page")
        demo = build_demo(env, web_model, stage / f"{weights.stem}_web_demo", p.meta())
        model_artifact = ExportArtifact("tfjs", web_model.name, size_of(web_model))
        versions = {**result.get("versions", {}), "tfjs": env.tfjs_version}
        if options.verify and p.inputs:
            progress(f"verifying TF.js in headless Chromium on {len(p.inputs)} images")
            run = run_in_browser(env, web_model, p.nhwc())
            check = verify_outputs(p, run.outputs, run.ms, run.runtime)
            model_artifact = ExportArtifact("tfjs", web_model.name, size_of(web_model), check)
            versions["chromium"] = run.browser
            progress("checking the web demo page in headless Chromium")
            page = check_demo(env, demo, p.images[:DEMO_IMAGES], p.onnx_path, options.conf)
            if not page.passed:
                raise ExportError("the web demo page does not draw the model's detections: " + page.summary()
                                  + "".join(f"\n{n}" for n in page.notes))
            p.messages.append(page.summary())
        elif options.verify:
            p.messages.append("not verified: no sample images (pass some, or keep the data.yaml the model was "
                              "trained on where it was)")
        artifacts = (model_artifact, ExportArtifact("web-demo", demo.name, size_of(demo)))
        return finish_report(self.name, p, artifacts, versions)


register(TfjsExporter())
