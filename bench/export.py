"""P7: ONNX (onnxruntime, CPU) against PyTorch (CPU) on the same images, in one run; and pre-labelling
throughput with ONNX.

    python bench/export.py                          # trains the sample project first (~150 s) unless cached
    python bench/export.py --weights runs/train/weights/best.pt --images resources/sample/images

For each input size (the training size, and 640), the .pt is exported to ONNX with labeltrain's exporter and
both are timed alternately on the same letterboxed tensors:
- network only: TorchDetector.run (the fused PyTorch graph in eval mode) vs onnxruntime session.run, both with
  as many threads as the machine has cores;
- full pipeline per image: Ultralytics' YOLO.predict (read, letterbox, network, NMS) vs labeltrain's
  OnnxDetector.detect (same steps with onnxruntime).
Box agreement: the detections of the ONNX file against those of the PyTorch graph on the same input (matched IoU,
same class, conf 0.25), as the exporter's verification computes them. Targets: latency ratio <= 1.0 and matched
IoU >= 0.99 for every detection. Pre-labelling throughput: images/s for `predict_images` with the ONNX model over
the sample images (decode, letterbox, inference, NMS), which is what the editor's Pre-label runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("LABELTRAIN_DATA_DIR", str(Path(tempfile.gettempdir()) / "labeltrain-bench-home"))

from labeltrain.core.sample import ensure_sample_project  # noqa: E402
from labeltrain.training.config import defaults_for_sample  # noqa: E402
from labeltrain.training.events import Finished  # noqa: E402
from labeltrain.training.runner import TrainingRun  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "labeltrain-bench-model"
TARGET_RATIO, TARGET_IOU = 1.0, 0.99
THREADS = os.cpu_count() or 1  # both runtimes get the same number of threads


def trained_weights() -> Path:
    """best.pt of the sample project trained with the settings the app proposes (cached between runs)."""
    best = CACHE / "runs" / "train" / "weights" / "best.pt"
    if best.is_file():
        return best
    sample = ensure_sample_project(CACHE / "sample")
    print("training the sample project with the proposed settings (once; cached in", CACHE, ") ...", flush=True)
    t0 = time.perf_counter()
    run = TrainingRun()
    run.start(defaults_for_sample(str(sample)).with_changes(project=str(CACHE / "runs"), name="train",
                                                            device="cpu"))
    result = run.wait()
    if not isinstance(result, Finished):
        raise SystemExit(f"training failed: {result}")
    print(f"  trained in {time.perf_counter() - t0:.0f} s: mAP50 {result.map50:.3f}", flush=True)
    return best


def measure(weights: Path, images: list[str], imgsz: int, out: Path, repeats: int) -> dict:
    import cv2
    import torch

    from labeltrain.training.box_match import EMPTY_AGREEMENT, agreement
    from labeltrain.training.detectors import TorchDetector
    from labeltrain.training.export import ExportOptions, export
    from labeltrain.training.export.verify import median_ms
    from labeltrain.training.onnx_infer import OnnxDetector, scale_to_original
    from labeltrain.training.ultra import quiet

    report = export(weights, "onnx", ExportOptions(imgsz=imgsz, verify=False, out_dir=str(out / str(imgsz))))
    onnx = OnnxDetector(report.main.path, threads=THREADS)
    torch_det = TorchDetector(weights, imgsz=imgsz, end2end=False)
    net_torch, net_onnx, full_torch, full_onnx = [], [], [], []
    agree = EMPTY_AGREEMENT
    for path in images:
        img = cv2.imread(path)
        batch, info = onnx.prepare(img)
        for _ in range(2):  # alternate the sides, twice, so that drift in machine load hits both alike
            net_torch.append(median_ms(lambda b=batch: torch_det.run(b), repeats))
            net_onnx.append(median_ms(lambda b=batch: onnx.run(b), repeats))
        torch.set_num_threads(THREADS)
        with quiet():
            full_torch.append(median_ms(lambda i=img: torch_det.detect(i), repeats))
        full_onnx.append(median_ms(lambda i=img: onnx.detect(i), repeats))
        ref = scale_to_original(torch_det.decode(torch_det.run(batch)[0], 0.25, 0.7), info)
        test = scale_to_original(onnx.decode(onnx.run(batch)[0], 0.25, 0.7), info)
        agree = agree.merged(agreement(ref, test, 0.25))
    med = statistics.median
    return {"imgsz": imgsz, "net_torch": med(net_torch), "net_onnx": med(net_onnx), "full_torch": med(full_torch),
            "full_onnx": med(full_onnx), "agreement": agree, "onnx": report.main.path}


def prelabel_throughput(onnx_path: str, images: list[str], rounds: int = 3) -> float:
    from labeltrain.training.onnx_infer import OnnxDetector
    from labeltrain.training.predict import predict_images

    detector = OnnxDetector(onnx_path, threads=THREADS)
    list(predict_images(detector, images[:5]))  # warm up
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        n = sum(1 for _ in predict_images(detector, images, conf=0.25))
        best = max(best, n / (time.perf_counter() - t0))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="a trained .pt (default: train the sample project, cached)")
    parser.add_argument("--images", default=str(REPO / "resources" / "sample" / "images"))
    parser.add_argument("--count", type=int, default=24, help="images timed per size (default 24)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="input sizes (default: trained, 640)")
    args = parser.parse_args()

    weights = Path(args.weights) if args.weights else trained_weights()
    all_images = sorted(str(p) for p in Path(args.images).glob("*.jpg"))
    timed = all_images[:args.count]
    from labeltrain.training.ultra import load_yolo, model_imgsz

    trained = model_imgsz(load_yolo(weights))
    sizes = args.sizes or sorted({trained, 640})
    import onnxruntime
    import torch

    torch.set_num_threads(THREADS)  # (importing Ultralytics sets OMP_NUM_THREADS=1 for training's sake)
    print(f"P7: {weights} ({trained} px), {len(timed)} images, median of {args.repeats} repeats each, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), onnxruntime {onnxruntime.__version__}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="labeltrain-p7-") as tmp:
        results = [measure(weights, timed, s, Path(tmp), args.repeats) for s in sizes]
        for r in results:
            a = r["agreement"]
            ratio_net = r["net_onnx"] / r["net_torch"]
            ratio_full = r["full_onnx"] / r["full_torch"]
            met = ratio_net <= TARGET_RATIO and a.min_iou >= TARGET_IOU
            ok &= met
            print(f"  {r['imgsz']:>4} px  network: onnxruntime {r['net_onnx']:6.2f} ms, PyTorch {r['net_torch']:6.2f} ms, "
                  f"ratio {ratio_net:.2f} | full pipeline: labeltrain+onnxruntime {r['full_onnx']:6.2f} ms, "
                  f"Ultralytics predict {r['full_torch']:6.2f} ms, ratio {ratio_full:.2f}")
            print(f"         boxes: {a.matched}/{a.reference} PyTorch detections matched, min IoU {a.min_iou:.4f}, "
                  f"mean {a.mean_iou:.5f}, max score diff {a.max_score_diff:.2e}, borderline {a.borderline}"
                  f"  -> {'met' if met else 'MISSED'} (ratio <= {TARGET_RATIO}, IoU >= {TARGET_IOU})")
        onnx_trained = next(r["onnx"] for r in results if r["imgsz"] == trained)
        rate = prelabel_throughput(onnx_trained, all_images)
        print(f"pre-labelling with ONNX ({trained} px): {rate:.0f} images/s over {len(all_images)} sample images "
              "(read, letterbox, inference, NMS; best of 3)")
    print(f"P7 target: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
