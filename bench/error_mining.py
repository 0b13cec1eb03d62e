"""Label-error mining (issue #6): does the queue surface label errors, and how much does k-fold help?

    python bench/error_mining.py                   # k=3 folds + one in-sample model, sample defaults (~10 min)
    python bench/error_mining.py --folds 3 --epochs 20 --imgsz 256 --seed 6 --out /tmp/mining-bench

1. Copies the bundled sample project and injects label errors on purpose (seeded, recorded in injected.json):
   `--per-kind` (10) moved boxes (shifted diagonally by 25-50 % of their size, IoU 0.14-0.39 with the object),
   deleted boxes and swapped classes, one per image, in images without a planted mistake.
2. Mines it out-of-sample (k-fold, labeltrain's engine, sample training defaults) and in-sample (one model of
   the same settings trained on every image, then predicting those same images); both times are printed.
3. Ranks all disputes by score and prints precision and recall at k = number injected and 2k, overall and per
   kind, plus the image queue's, and where the sample's own planted model mistakes land (sample_0073: swapped
   class on box 0; sample_0081: missing box).

A dispute hits an injected error when it names it: swapped -> WRONG_CLASS on that box index; deleted -> MISSING
with the prediction at IoU >= 0.5 with the deleted box; moved -> POOR_LOCALISATION or SPURIOUS on that box index,
or MISSING at IoU >= 0.5 with the box's true place. The sample's own planted mistakes are real errors too: any
dispute on one of those images is counted as "planted" (reported apart: precision with and without them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("LABELTRAIN_DATA_DIR", str(Path(tempfile.gettempdir()) / "labeltrain-bench-home"))

import numpy as np  # noqa: E402

from labeltrain.core.dataset import discover, load_annotation  # noqa: E402
from labeltrain.core.disputes import (  # noqa: E402
    MISSING,
    POOR_LOCALISATION,
    SPURIOUS,
    WRONG_CLASS,
    MiningResult,
    iou_matrix,
)
from labeltrain.core.sample import ensure_sample_project  # noqa: E402
from labeltrain.training.config import defaults_for_sample  # noqa: E402
from labeltrain.training.mining import mine_kfold, mine_with_model, train_model  # noqa: E402

KINDS = ("moved", "deleted", "swapped")
FOUND_BY = {"moved": (POOR_LOCALISATION, SPURIOUS, MISSING), "deleted": (MISSING,), "swapped": (WRONG_CLASS,)}
PLANTED_MODEL = {"images/sample_0073.jpg": ("swapped", 0, None),
                 "images/sample_0081.jpg": ("deleted", None, (229.0, 131.0, 293.0, 195.0))}


def inject(root: Path, per_kind: int, seed: int) -> list[dict]:
    """Write the errors into root/labels and return them (image, kind, box index, boxes in pixels)."""
    meta = json.loads((root / "mistakes.json").read_text())
    skip = {m["image"] for m in meta["mistakes"]} | set(meta["negatives"])
    dataset = discover(root)
    nc = len(dataset.classes)
    candidates = []
    for item in dataset.items:
        rel = Path(item.image).relative_to(root).as_posix()
        if rel in skip or item.label is None:
            continue
        ann = load_annotation(dataset, item).annotations[0]
        if ann.boxes:
            candidates.append((rel, item, ann))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(candidates))[:per_kind * len(KINDS)]
    errors = []
    for n, idx in enumerate(order):
        rel, item, ann = candidates[idx]
        kind = KINDS[n // per_kind]
        lines = Path(item.label).read_text().splitlines()
        i = int(rng.integers(len(ann.boxes)))
        box = ann.boxes[i]
        w, h = box.width, box.height
        record = {"image": rel, "kind": kind, "box_index": i, "class": box.cls,
                  "box": [box.x1, box.y1, box.x2, box.y2]}
        if kind == "moved":
            fx, fy = rng.uniform(0.25, 0.5, size=2) * rng.choice((-1, 1), size=2)
            dx, dy = fx * w, fy * h
            if not (box.x1 + dx >= 0 and box.x2 + dx <= ann.width):
                dx = -dx
            if not (box.y1 + dy >= 0 and box.y2 + dy <= ann.height):
                dy = -dy
            moved = box.moved(dx, dy).clamped(ann.width, ann.height)
            xc, yc, bw, bh = moved.xywh_norm(ann.width, ann.height)
            lines[i] = f"{box.cls} {xc:.6f} {yc:.6f} {bw:.6f} {bh:.6f}"
            record["moved_to"] = [moved.x1, moved.y1, moved.x2, moved.y2]
            record["iou"] = round(box.iou(moved), 3)
        elif kind == "deleted":
            del lines[i]
            record["box_index"] = None
        else:
            new = int(rng.choice([c for c in range(nc) if c != box.cls]))
            lines[i] = " ".join([str(new)] + lines[i].split()[1:])
            record["new_class"] = new
        Path(item.label).write_text("".join(line + "\n" for line in lines))
        errors.append(record)
    return errors


def _hits(dispute, image: str, errors: list[dict]) -> list[int]:
    """Indexes of the errors this dispute names."""
    out = []
    for n, e in enumerate(errors):
        if e["image"] != image or dispute.kind not in FOUND_BY[e["kind"]]:
            continue
        if dispute.kind == MISSING:
            if e.get("box") and dispute.prediction is not None and \
                    iou_matrix(np.array([dispute.prediction.xyxy]), np.array([e["box"]]))[0, 0] >= 0.5:
                out.append(n)
        elif dispute.box_index == e["box_index"]:
            out.append(n)
    return out


def evaluate(result: MiningResult, root: Path, errors: list[dict], planted: set[str]) -> dict:
    """Precision / recall at k over the ranked disputes and the image queue."""
    rel = {im.image: Path(im.image).relative_to(root).as_posix() for im in result.images}
    ranked = [(rel[im.image], d) for im, d in result.all_disputes()]
    marks = [(_hits(d, image, errors), image in planted) for image, d in ranked]
    n = len(errors)
    out: dict = {"disputes": len(ranked), "calibration": result.calibration.__dict__}
    for k in (n, 2 * n):
        top = marks[:k]
        found = {i for hits, _ in top for i in hits}
        out[f"P@{k}"] = sum(1 for hits, _ in top if hits) / k
        out[f"P@{k}+planted"] = sum(1 for hits, p in top if hits or p) / k
        out[f"R@{k}"] = len(found) / n
        for kind in KINDS:
            ids = [i for i, e in enumerate(errors) if e["kind"] == kind]
            out[f"R@{k} {kind}"] = len(found & set(ids)) / len(ids)
    per = len(errors) // len(KINDS)
    for kind in KINDS:
        # Precision per kind: the top disputes of the kinds that find it, as many as injected (and 2x).
        own = [(hits, p) for (image, d), (hits, p) in zip(ranked, marks, strict=True) if d.kind in FOUND_BY[kind]
               and (kind != "moved" or d.kind != MISSING)]
        for k in (per, 2 * per):
            top = own[:k]
            good = sum(1 for hits, p in top if any(errors[i]["kind"] == kind for i in hits))
            out[f"P@{k} {kind}"] = good / k if k else 0.0
            out[f"P@{k} {kind}+planted"] = sum(1 for hits, p in top
                                              if p or any(errors[i]["kind"] == kind for i in hits)) / k
    injected_images = {e["image"] for e in errors}
    queue = [rel[im.image] for im in result.images]
    for k in (n, 2 * n):
        out[f"images P@{k}"] = sum(1 for img in queue[:k] if img in injected_images or img in planted) / k
        out[f"images R@{k}"] = len(set(queue[:k]) & injected_images) / len(injected_images)
    for image, (kind, index, box) in PLANTED_MODEL.items():
        rank = queue.index(image) + 1 if image in queue else None
        im = result.images[rank - 1] if rank else None
        right = False
        if im is not None:
            probe = [{"image": image, "kind": kind, "box_index": index, "box": box}]
            right = any(_hits(d, image, probe) for d in im.disputes)
        out[image] = {"rank": rank, "score": round(im.score, 3) if im else None, "right_dispute": right}
    return out


def _row(name: str, kfold: dict, insample: dict | None) -> str:
    def fmt(d: dict | None) -> str:
        if d is None:
            return "-"
        v = d[name]
        return f"{v:.2f}" if isinstance(v, float) else str(v)
    return f"  {name:<26} {fmt(kfold):>8} {fmt(insample):>10}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=None, help="default: the sample defaults (20)")
    ap.add_argument("--imgsz", type=int, default=None, help="default: the sample defaults (256)")
    ap.add_argument("--per-kind", type=int, default=10)
    ap.add_argument("--seed", type=int, default=6, help="injection seed (the folds use seed 0)")
    ap.add_argument("--no-in-sample", action="store_true", help="skip the in-sample comparison")
    ap.add_argument("--out", default=None, help="work folder (default: a new temporary folder)")
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="labeltrain-mining-")).absolute()
    root = ensure_sample_project(out / "sample")
    errors = json.loads((out / "injected.json").read_text()) if (out / "injected.json").exists() else None
    if errors is None:
        errors = inject(root, args.per_kind, args.seed)
        (out / "injected.json").write_text(json.dumps(errors, indent=1))
    meta = json.loads((root / "mistakes.json").read_text())
    planted = {m["image"] for m in meta["mistakes"] if m["severity"] != "ok" and (root / m["image"]).exists()}
    config = defaults_for_sample().with_changes(device="cpu", workers=0)
    config = config.with_changes(**{k: v for k, v in (("epochs", args.epochs), ("imgsz", args.imgsz)) if v})
    moved_iou = [e["iou"] for e in errors if e["kind"] == "moved"]
    print(f"injected {len(errors)} errors into {root} ({args.per_kind} per kind, seed {args.seed}; moved boxes at "
          f"IoU {min(moved_iou):.2f}-{max(moved_iou):.2f}); training: {config.model} {config.epochs} epochs at "
          f"{config.imgsz} px", flush=True)

    def progress(done: int, total: int, text: str) -> None:
        if "predicting" not in text:
            print(f"  [{done}/{total}] {text}", flush=True)

    t0 = time.monotonic()
    kfold = mine_kfold(root, args.folds, config, work_dir=out / "kfold", progress=progress)
    kfold_wall = time.monotonic() - t0
    print(f"k-fold ({args.folds}): {kfold_wall:.0f} s wall, {kfold.train_seconds:.0f} s training; held-out mAP50 "
          f"per fold {', '.join(f'{m:.2f}' for m in kfold.fold_map50)}", flush=True)
    results = {"kfold": evaluate(kfold, root, errors, planted)}
    results["kfold"]["wall_s"] = round(kfold_wall, 1)
    insample = None
    if not args.no_in_sample:
        t0 = time.monotonic()
        dataset = discover(root)
        images = [item.image for item in dataset.items]
        cfg = config.with_changes(extra={**config.extra, "val": False, "plots": False})
        weights, map50, seconds = train_model(cfg, dataset, images, images, out / "insample", "all")
        result = mine_with_model(root, weights)
        wall = time.monotonic() - t0
        print(f"in-sample: {wall:.0f} s wall, {seconds:.0f} s training (mAP50 on its own training images "
              f"{map50:.2f})", flush=True)
        insample = evaluate(result, root, errors, planted)
        insample["wall_s"] = round(wall, 1)
        results["insample"] = insample
        result.save(out / "insample" / "mining.json")
    n = len(errors)
    print(f"\n{'':28} {'k-fold':>8} {'in-sample':>10}")
    names = ["wall_s", "disputes"]
    for k in (n, 2 * n):
        names += [f"P@{k}", f"P@{k}+planted", f"R@{k}"] + [f"R@{k} {kind}" for kind in KINDS]
    for kind in KINDS:
        names += [f"P@{args.per_kind} {kind}", f"P@{2 * args.per_kind} {kind}"]
    names += [f"images P@{n}", f"images R@{n}", f"images P@{2 * n}", f"images R@{2 * n}"]
    for name in names:
        print(_row(name, results["kfold"], insample))
    for image in PLANTED_MODEL:
        for label, res in (("k-fold", results["kfold"]), ("in-sample", insample)):
            if res is not None:
                r = res[image]
                print(f"  {image} {label}: queue rank {r['rank']} of {len(kfold.images)}, score {r['score']}, "
                      f"right dispute: {r['right_dispute']}")
    cal = results["kfold"]["calibration"]
    print(f"  k-fold calibration: recall {cal['recall']:.3f}, typical confidence {cal['typical']:.3f}, "
          f"conf {cal['conf']:.3f}")
    if insample:
        cal = insample["calibration"]
        print(f"  in-sample calibration: recall {cal['recall']:.3f}, typical confidence {cal['typical']:.3f}, "
              f"conf {cal['conf']:.3f}")
    (out / "bench_results.json").write_text(json.dumps(results, indent=1))
    print(f"\nresults: {out / 'bench_results.json'}; queues: {out / 'kfold' / 'mining.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
