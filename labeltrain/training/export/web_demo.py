"""The web demo shipped with a TF.js export (resources/web/demo: a page that detects objects in a dropped
image, offline, from file://), and its check: headless Chromium opens the exported page, feeds it sample
images, and the detections its JavaScript draws must equal labeltrain's decode_raw on the ONNX output."""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labeltrain.core.resources import resource_path
from labeltrain.training.box_match import EMPTY_AGREEMENT, agreement
from labeltrain.training.export.base import ExportError
from labeltrain.training.export.tfenv import TfEnv
from labeltrain.training.export.web import decode_floats, run_driver

if TYPE_CHECKING:
    from labeltrain.training.onnx_infer import LetterboxInfo

DEMO_FILES = ("index.html", "app.js")
NMS_IOU = 0.7  # the page's NMS IoU (app.js), as decode_raw's default in verification


def embed_model(web_model: Path, dest: Path) -> int:
    """model.js: model.json and its weight shards (in manifest order, base64) as one script, so the page
    loads the model from file:// where fetching model.json is blocked. Returns the weight bytes."""
    model = json.loads((web_model / "model.json").read_text())
    weights = b"".join((web_model / p).read_bytes() for group in model["weightsManifest"] for p in group["paths"])
    text = ("// The TF.js graph model of this demo (model.json + weights), embedded for file:// use.\n"
            f"window.LABELTRAIN_MODEL = {{\"model\": {json.dumps(model, separators=(',', ':'))},\n"
            f"\"weights\": \"{base64.b64encode(weights).decode('ascii')}\"}};\n")
    dest.write_text(text, encoding="ascii")
    return len(weights)


def build_demo(env: TfEnv, web_model: Path, dest: Path, meta: dict[str, Any]) -> Path:
    """Write the demo folder `dest`: page, script, embedded model, tf.min.js from npm, README.txt."""
    dest.mkdir(parents=True)
    template = resource_path("web", "demo")
    for name in DEMO_FILES:
        shutil.copy2(template / name, dest / name)
    shutil.copy2(env.tf_min_js, dest / "tf.min.js")
    size = embed_model(web_model, dest / "model.js")
    names = meta.get("names", {})
    readme = (template / "README.txt").read_text().format(
        title=meta.get("title", "detector"), tfjs=env.tfjs_version, iou=NMS_IOU, model_mb=f"{size / 1e6:.1f}",
        imgsz=meta.get("imgsz", ["?"])[0], nc=len(names), names=", ".join(str(v) for v in names.values()))
    (dest / "README.txt").write_text(readme)
    return dest


@dataclass(frozen=True)
class DemoCheck:
    """What the demo page computed on sample images compared with ONNX + decode_raw on the page's own input."""

    images: int
    detections: int  # drawn by the page, over all images
    reference: int  # decode_raw on the ONNX output
    matched: int
    min_iou: float
    max_box_diff: float  # largest coordinate difference (original pixels) of pairs in the same order
    max_raw_diff: float  # the page's raw model output vs ONNX on the same input
    max_input_diff: float  # the page's letterboxed input vs Python's letterbox of the same image
    letterbox_equal: bool
    page_ms: float  # median model time per image in the page
    backend: str
    passed: bool
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        return (f"web demo (file:// in headless Chromium, {self.backend}): {self.images} image(s), "
                f"{self.matched}/{self.reference} detections equal ONNX's (min IoU {self.min_iou:.4f}, "
                f"max box diff {self.max_box_diff:.2g} px), raw diff {self.max_raw_diff:.2g}, "
                f"input diff vs Python letterbox {self.max_input_diff:.2g}, model {self.page_ms:.0f} ms/image")


def check_demo(env: TfEnv, demo_dir: Path, images: Sequence[str | Path], onnx_path: Path, conf: float,
               screenshot: Path | None = None, min_iou: float = 0.99) -> DemoCheck:
    """Open `demo_dir/index.html` as a file in Chromium, feed it `images` through its file input at `conf`,
    and compare every detection list it draws with decode_raw on the ONNX output for the same input tensor."""
    from labeltrain.training.export.verify import read_images
    from labeltrain.training.onnx_infer import OnnxDetector, decode_raw, scale_to_original

    loaded = dict(read_images(images))
    if not loaded:
        raise ExportError("no readable sample image to check the web demo with")
    with tempfile.TemporaryDirectory(prefix="labeltrain-demo-") as tmp:
        job = {"page": str(demo_dir / "index.html"), "images": list(loaded), "conf": conf, "timeout_ms": 120000,
               "screenshot": str(screenshot) if screenshot else None}
        result = run_driver(env, "demo", job, Path(tmp), "opening the web demo in Chromium")
    onnx = OnnxDetector(onnx_path)
    agree, box_diff, raw_diff, input_diff, same_box, ms, notes = EMPTY_AGREEMENT, 0.0, 0.0, 0.0, True, [], []
    for r in result["results"]:
        nhwc = decode_floats(r["input"], r["input_shape"])
        ref_raw = onnx.run(np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)))
        raw_diff = max(raw_diff, float(np.abs(decode_floats(r["raw"], r["raw_shape"]) - ref_raw).max()))
        info = _page_info(r["info"])
        batch, py_info = onnx.prepare(loaded[r["image"]])  # Python's letterbox of the same image
        same_box = same_box and py_info == info
        py_input = batch.transpose(0, 2, 3, 1)
        if py_input.shape == nhwc.shape:
            input_diff = max(input_diff, float(np.abs(py_input - nhwc).max()))
        ref = scale_to_original(decode_raw(ref_raw[0].astype(np.float32), conf, NMS_IOU), info)
        got = np.asarray(r["dets"], dtype=np.float64).reshape(-1, 6)
        agree = agree.merged(agreement(ref, got, conf))
        if len(ref) == len(got) and len(got):
            box_diff = max(box_diff, float(np.abs(ref[:, :4] - got[:, :4]).max()))
        elif len(ref) != len(got):
            notes.append(f"{Path(r['image']).name}: page drew {len(got)} detections, ONNX gives {len(ref)}")
        ms.append(float(r["ms"]["model"]))
    passed = agree.min_iou >= min_iou and agree.matched + agree.borderline >= agree.reference
    return DemoCheck(images=len(result["results"]), detections=agree.test, reference=agree.reference,
                     matched=agree.matched, min_iou=round(agree.min_iou, 6), max_box_diff=box_diff,
                     max_raw_diff=raw_diff, max_input_diff=input_diff, letterbox_equal=same_box,
                     page_ms=float(np.median(ms)) if ms else 0.0, backend=str(result.get("backend")),
                     passed=passed, notes=tuple(notes))


def _page_info(info: dict[str, Any]) -> LetterboxInfo:
    from labeltrain.training.onnx_infer import LetterboxInfo

    return LetterboxInfo(tuple(info["orig_hw"]), tuple(info["input_hw"]), tuple(info["gain_xy"]),
                         tuple(info["pad_xy"]))
