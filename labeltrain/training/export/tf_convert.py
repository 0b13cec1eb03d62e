"""The TensorFlow side of the TF.js / TFLite exports, run as a script by `.venv-tfjs/bin/python -I` (never
imported by labeltrain: that venv has TensorFlow, onnx2tf, tensorflowjs and LiteRT but no torch or labeltrain).

    tf_convert.py convert --onnx m.onnx --work W --saved-model SM [--tflite DIR] [--int8] [--calib c.npy]
                          [--tfjs DIR --metadata meta.json]
    tf_convert.py run-tflite --model m.tflite --inputs x.npy --out y.npz [--repeats 5]

Each command prints one JSON line (what it made, versions, timings) as its last stdout line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"  # onnx2tf reads it from the cwd


def _sample_data(work: Path, calib: np.ndarray | None) -> None:
    """onnx2tf checks its conversion on 20 RGB 128x128 images and downloads them unless this file is in the
    working folder: write it from the calibration images (or deterministic noise when there are none)."""
    import tensorflow as tf

    if calib is not None and len(calib):
        images = tf.image.resize(calib, (128, 128)).numpy().astype(np.float32)
        images = np.concatenate([images] * (20 // len(images) + 1))[:20]
    else:
        images = np.random.default_rng(0).uniform(0, 1, (20, 128, 128, 3)).astype(np.float32)
    np.save(work / ONNX2TF_SAMPLE, images)


def convert(args: argparse.Namespace) -> dict[str, Any]:
    """ONNX -> SavedModel (onnx2tf, grouped convolutions split: TF.js has none) -> .tflite and/or TF.js."""
    work = Path(args.work).absolute()
    work.mkdir(parents=True, exist_ok=True)
    onnx_path = Path(args.onnx).absolute()
    calib_path = Path(args.calib).absolute() if args.calib else None
    calib = np.load(calib_path).astype(np.float32) if calib_path else None
    _sample_data(work, calib)
    import onnx
    import onnx2tf

    input_name = onnx.load(str(onnx_path), load_external_data=False).graph.input[0].name
    saved = Path(args.saved_model).absolute()
    kwargs: dict[str, Any] = {"input_onnx_file_path": str(onnx_path), "output_folder_path": str(saved),
                              "disable_group_convolution": True, "output_signaturedefs": True,
                              "copy_onnx_input_output_names_to_tflite": True, "non_verbose": True}
    if args.int8:
        if calib is None:
            raise SystemExit("int8 needs calibration images (--calib)")
        kwargs["output_integer_quantized_tflite"] = True
        kwargs["custom_input_op_name_np_data_path"] = [
            [input_name, str(calib_path), np.zeros((1, 1, 1, 3), np.float32), np.ones((1, 1, 1, 3), np.float32)]]
    t0 = time.perf_counter()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            onnx2tf.convert(**kwargs)
    finally:
        os.chdir(cwd)
    result: dict[str, Any] = {"onnx2tf_s": round(time.perf_counter() - t0, 2), "input_name": input_name}
    if not (saved / "saved_model.pb").is_file():
        raise SystemExit(f"onnx2tf wrote no SavedModel in {saved}")
    if args.tflite:
        out = Path(args.tflite)
        out.mkdir(parents=True, exist_ok=True)
        made = {}
        kinds = args.kinds.split(",")
        for kind, suffix in (("float32", "float32"), ("float16", "float16"), ("int8", "integer_quant")):
            found = saved / f"{onnx_path.stem}_{suffix}.tflite"  # integer_quant: int8 inside, float32 in/out
            if kind in kinds and found.is_file():
                dest = out / f"{args.name or onnx_path.stem}_{kind}.tflite"
                shutil.move(str(found), dest)
                made[kind] = dest.name
        result["tflite"] = made
    if args.tfjs:
        result.update(_tfjs(saved, Path(args.tfjs), args.metadata))
    result["versions"] = _versions()
    return result


def _tfjs(saved: Path, out: Path, metadata: str | None) -> dict[str, Any]:
    from tensorflowjs.converters import tf_saved_model_conversion_v2 as tfjs_convert

    meta = {"labeltrain": json.loads(Path(metadata).read_text())} if metadata else None
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        tfjs_convert.convert_tf_saved_model(str(saved), str(out), signature_def="serving_default",
                                            saved_model_tags="serve", metadata=meta)
    model = json.loads((out / "model.json").read_text())
    sig = model.get("signature", {})
    shapes = {side: {name: [int(d.get("size", -1)) for d in spec.get("tensorShape", {}).get("dim", [])]
                     for name, spec in sig.get(side, {}).items()} for side in ("inputs", "outputs")}
    return {"tfjs_s": round(time.perf_counter() - t0, 2), "tfjs_signature": shapes}


def run_tflite(args: argparse.Namespace) -> dict[str, Any]:
    """Run a .tflite model with the LiteRT interpreter on NHWC float inputs: outputs and median latency."""
    from ai_edge_litert.interpreter import Interpreter

    inputs = np.load(args.inputs)
    interp = Interpreter(model_path=str(args.model), num_threads=args.threads)
    interp.allocate_tensors()
    inp, outs = interp.get_input_details()[0], _ordered(interp.get_output_details())

    def once(x: np.ndarray) -> np.ndarray:
        if inp["dtype"] != np.float32:  # a fully integer model: quantise the input, dequantise the output
            scale, zero = inp["quantization"]
            x = np.clip(np.round(x / scale + zero), *_limits(inp["dtype"])).astype(inp["dtype"])
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        ys = []
        for out in outs:
            y = interp.get_tensor(out["index"])
            if out["dtype"] != np.float32:
                scale, zero = out["quantization"]
                y = (y.astype(np.float32) - zero) * scale
            ys.append(y.astype(np.float32))
        return np.concatenate(ys, axis=1)  # a split head (boxes, scores) back to the [1, 4+nc, anchors] layout

    outputs, times = [], []
    for x in inputs:
        batch = x[None]
        outputs.append(once(batch))
        ms = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            once(batch)
            ms.append((time.perf_counter() - t0) * 1000)
        times.append(statistics.median(ms))
    np.savez(args.out, outputs=np.stack(outputs), ms=np.asarray(times))
    return {"input_shape": [int(v) for v in inp["shape"]], "output_shape": list(outputs[0].shape),
            "input_dtype": np.dtype(inp["dtype"]).name, "ms": round(statistics.median(times), 3),
            "versions": _versions()}


def _ordered(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outputs in graph order: a split head's boxes (4 channels) before its scores; else by name."""
    details = sorted(details, key=lambda d: d["name"])
    if len(details) == 2:
        four = [d for d in details if int(d["shape"][1]) == 4]
        if len(four) == 1:
            details = four + [d for d in details if d is not four[0]]
    return details


def _limits(dtype: Any) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _versions() -> dict[str, str]:
    out = {}
    for name in ("tensorflow", "onnx2tf", "tensorflowjs", "onnx"):
        module = sys.modules.get(name)
        if module is not None:  # onnx: the converter env's own (the exported ONNX comes from .venv's)
            out["onnx (converter)" if name == "onnx" else name] = str(getattr(module, "__version__", "?"))
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        out["ai_edge_litert"] = version("ai-edge-litert")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--onnx", required=True)
    c.add_argument("--work", required=True)
    c.add_argument("--saved-model", required=True)
    c.add_argument("--tflite")
    c.add_argument("--int8", action="store_true")
    c.add_argument("--kinds", default="float32,float16,int8", help="which .tflite files to keep")
    c.add_argument("--name", help="stem of the .tflite files (default: the ONNX file's)")
    c.add_argument("--calib")
    c.add_argument("--tfjs")
    c.add_argument("--metadata")
    r = sub.add_parser("run-tflite")
    r.add_argument("--model", required=True)
    r.add_argument("--inputs", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--repeats", type=int, default=5)
    r.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    result = convert(args) if args.command == "convert" else run_tflite(args)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
