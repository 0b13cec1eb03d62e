"""`labeltrain export`, `labeltrain predict` and `labeltrain evaluate`: the Model page's work headless.

Exit codes: 0 success, 1 failure (including a failed verification with --verify), 2 usage error.
`--json` prints exactly one JSON object on stdout (Ultralytics' own output is kept off stdout).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

EXIT_OK, EXIT_FAIL = 0, 1


def add_export(sub: argparse._SubParsersAction) -> None:
    from labeltrain.training.export import EXPORTERS

    p = sub.add_parser("export", help="export a trained .pt to ONNX, TF.js or TFLite and verify it",
                       description="Export WEIGHTS (a .pt) and, with --verify, check it against PyTorch on sample "
                                   "images (max difference, matched IoU, latency). Outputs and a report JSON go to "
                                   "<run>/export/ unless --out says otherwise; nothing half-written is ever left.")
    p.add_argument("weights", help="a trained .pt (e.g. runs/train/weights/best.pt)")
    p.add_argument("--format", "-f", required=True, choices=sorted(EXPORTERS), help="export target")
    p.add_argument("--imgsz", type=int, default=None, help="input size (default: the training size)")
    p.add_argument("--half", action="store_true", help="float16 weights where the target supports it")
    p.add_argument("--int8", action="store_true", help="INT8 quantisation where the target supports it")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset")
    p.add_argument("--dynamic", action="store_true", help="dynamic batch axis (ONNX)")
    p.add_argument("--nms", action="store_true", help="NMS inside the graph (ONNX)")
    p.add_argument("--verify", action="store_true", help="verify the export numerically (exit 1 if it fails)")
    p.add_argument("--images", nargs="+", default=(), help="sample images for verification (default: the "
                   "validation images of the data the model was trained on)")
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold for comparing detections")
    p.add_argument("--out", default=None, help="output folder")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from labeltrain.training.export import ExportError, ExportOptions, export

    options = ExportOptions(imgsz=args.imgsz, half=args.half, int8=args.int8, opset=args.opset,
                            dynamic=args.dynamic, nms=args.nms, verify=args.verify, images=tuple(args.images),
                            out_dir=args.out, conf=args.conf)
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    try:
        with _stdout_to_stderr(args.json):
            report = export(args.weights, args.format, options, progress=say)
    except ExportError as exc:
        print(f"labeltrain export: {exc}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print(report.to_json())
    else:
        print(report.table())
        for message in report.messages:
            print(f"note: {message}")
        for artifact in report.artifacts:
            for note in artifact.verification.notes if artifact.verification else ():
                print(f"{artifact.kind}: {note}")
        print(f"report: {report.report_path} ({report.seconds:.1f} s)")
    return EXIT_FAIL if args.verify and not report.verified else EXIT_OK


def add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="detect objects with a .pt or .onnx model; optionally write YOLO labels",
                       description="Run WEIGHTS (.pt or .onnx) on IMAGES (files or folders). Prints one line per "
                                   "image, or JSON lines with --json. --save-labels writes YOLO label files and "
                                   "never replaces an existing one unless --overwrite.")
    p.add_argument("weights")
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--conf", type=float, default=0.25)
    p.add_argument("--iou", type=float, default=0.7)
    p.add_argument("--save-labels", metavar="DIR", default=None, help="write <DIR>/<image stem>.txt")
    p.add_argument("--overwrite", action="store_true", help="with --save-labels: replace existing label files")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    p.set_defaults(func=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    from labeltrain.training.detectors import open_detector
    from labeltrain.training.predict import expand_images, predict_images, save_labels

    images = expand_images(args.images)
    if not images:
        print("labeltrain predict: no images given", file=sys.stderr)
        return EXIT_FAIL
    with _stdout_to_stderr(True):
        detector = open_detector(args.weights)
    names = detector.names
    written = kept = failed = 0
    for pred in predict_images(detector, images, conf=args.conf, iou=args.iou):
        if pred.error:
            failed += 1
            print(f"{pred.image}: {pred.error}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"image": pred.image, "width": pred.width, "height": pred.height,
                              "detections": [{"class": c, "name": names.get(c, str(c)), "box": [x1, y1, x2, y2],
                                              "score": s} for c, x1, y1, x2, y2, s in pred.rows]}))
        else:
            found = ", ".join(f"{names.get(c, c)} {s:.2f}" for c, *_box, s in pred.rows) or "nothing"
            print(f"{pred.image}: {found}")
        if args.save_labels:
            if save_labels(pred, args.save_labels, overwrite=args.overwrite) is None:
                kept += 1
            else:
                written += 1
    if args.save_labels:
        note = f"; {kept} existing label files kept (use --overwrite to replace them)" if kept else ""
        print(f"{written} label files written to {args.save_labels}{note}", file=sys.stderr)
    return EXIT_FAIL if failed == len(images) else EXIT_OK


def add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="validate a .pt on a data.yaml split: per-class table, confusion matrix, "
                                        "images with most errors",
                       description="Ultralytics' own validation numbers plus a confusion matrix at a readable "
                                   "confidence and per-image TP/FP/FN.")
    p.add_argument("weights")
    p.add_argument("--data", default=None, help="data.yaml (default: the one the model was trained on)")
    p.add_argument("--split", default="val", choices=("train", "val", "test"))
    p.add_argument("--conf", type=float, default=0.25, help="confidence of the confusion matrix and per-image lists")
    p.add_argument("--imgsz", type=int, default=None)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--json", action="store_true", help="print the whole result as one JSON object")
    p.add_argument("--out", default=None, help="also write the JSON result to this file")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from labeltrain.core.atomic import atomic_write_text
    from labeltrain.training.evaluate import evaluate

    with _stdout_to_stderr(True):
        result = evaluate(args.weights, args.data, split=args.split, conf=args.conf, imgsz=args.imgsz,
                          batch=args.batch, device="cpu")
    if args.out:
        atomic_write_text(args.out, result.to_json(indent=1) + "\n")
    print(result.to_json() if args.json else result.format_text())
    return EXIT_OK


@contextlib.contextmanager
def _stdout_to_stderr(active: bool):
    """Keep libraries' prints (Ultralytics' export log) off stdout while a JSON answer is due there."""
    if not active:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield
