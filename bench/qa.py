"""P3: `labeltrain check` against Ultralytics' own dataset scan on a generated 10,000-image dataset.

    python bench/qa.py                      # 10,000 images (generated once, ~1 min, kept in --data)
    python bench/qa.py --images 2000 --runs 5

The dataset: images/{train,val} (80/20) of 1280x720 photo-like JPEGs (smooth colour fields, texture and sensor
noise, coloured objects, a camera EXIF block), YOLO labels in labels/{train,val}, data.yaml with 5 classes. About
1 % of the images carry a planted mistake (class out of range, pixel coordinates, negative values, 4 columns,
duplicate rows, zero-area boxes, missing or empty label files, truncated JPEGs, 8x8 images, EXIF rotation) and a
few validation images are byte copies of training images (leakage).

Timed in the same process, alternating: `run_check(root)` (discovery + every rule, the core of `labeltrain
check`) and Ultralytics' label cache build (`YOLODataset(...)` for train and val, after deleting its .cache
files, so that `cache_labels` -> `verify_image_label` runs over every file). Warm: files in the page cache.
Cold: the page cache dropped before each run with `echo 3 > /proc/sys/vm/drop_caches` when permitted, else
`posix_fadvise(POSIX_FADV_DONTNEED)` on every file of the dataset (file contents leave the cache; directory
entries and inodes stay cached). The report says which was used. Then the verdicts: the images each tool says
the trainer ignores, the rows it keeps, and the images whose duplicate rows it drops must be identical.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")
os.environ.setdefault("YOLO_VERBOSE", "False")

from PIL import Image  # noqa: E402

from labeltrain.core.check import CheckOptions, run_check  # noqa: E402

NAMES = ["person", "car", "bicycle", "dog", "sign"]
W, H = 1280, 720
BASES = 16
PLANT_EVERY = 997
VERSION = "qa-bench-2"
TARGET_WARM, TARGET_COLD = 5.0, 3.0


# ---------------------------------------------------------------------------------------------------------
# Dataset
# ---------------------------------------------------------------------------------------------------------
def _base(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = cv2.resize(rng.integers(0, 255, (9, 16, 3), dtype=np.uint8), (W, H), interpolation=cv2.INTER_CUBIC)
    texture = cv2.resize(rng.normal(0, 18, (H // 8, W // 8, 3)).astype(np.float32), (W, H),
                         interpolation=cv2.INTER_LINEAR)
    y = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
    img = field.astype(np.float32) * (0.7 + 0.3 * y) + texture
    return np.clip(img, 0, 255).astype(np.uint8)


def _exif(orientation: int, i: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 80D"
    exif[0x0132] = f"2026:11:{1 + i % 28:02d} 12:{i % 60:02d}:{i % 59:02d}"
    exif[0x0112] = orientation
    data = exif.tobytes()
    return b"\xff\xe1" + (len(data) + 2).to_bytes(2, "big") + data


def _make_one(args: tuple[int, str, str, int]) -> None:
    i, image_path, label_path, seed = args
    rng = np.random.default_rng(seed)
    base = _BASE_CACHE[i % BASES]
    img = np.roll(base, (int(rng.integers(0, H)), int(rng.integers(0, W))), axis=(0, 1))
    noise = _NOISE[i % len(_NOISE)]
    img = cv2.add(img, np.roll(noise, int(rng.integers(0, H)), axis=0))
    rows = []
    for _ in range(int(rng.integers(1, 9))):
        cls = int(rng.integers(0, len(NAMES)))
        bw, bh = int(rng.integers(30, 400)), int(rng.integers(30, 300))
        x1, y1 = int(rng.integers(0, W - bw)), int(rng.integers(0, H - bh))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        if cls % 2:
            cv2.rectangle(img, (x1, y1), (x1 + bw, y1 + bh), color, -1)
        else:
            cv2.ellipse(img, (x1 + bw // 2, y1 + bh // 2), (bw // 2, bh // 2), 0, 0, 360, color, -1)
        rows.append(f"{cls} {(x1 + bw / 2) / W:.6f} {(y1 + bh / 2) / H:.6f} {bw / W:.6f} {bh / H:.6f}")
    kind = i % PLANT_EVERY
    orientation = 6 if kind == 11 else 1
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 88])
    data = enc.tobytes()
    data = data[:2] + _exif(orientation, i) + data[2:]
    if kind == 9:
        data = data[: len(data) // 2]  # truncated download: the trainer cannot restore it
    elif kind == 10:
        data = cv2.imencode(".jpg", img[:8, :8])[1].tobytes()
    Path(image_path).write_bytes(data)
    if kind == 1:
        rows[-1] = "9" + rows[-1][1:]
    elif kind == 2:
        rows[0] = "0 640.0 360.0 100.0 80.0"
    elif kind == 3:
        rows[0] = "1 -0.05 0.5 0.2 0.2"
    elif kind == 4:
        rows.append("0.5 0.5 0.1 0.1")
    elif kind == 5:
        rows.append(rows[0])
    elif kind == 6:
        rows.append("2 0.4 0.4 0 0.1")
    if kind == 7:
        return
    text = "" if kind == 8 else "\n".join(rows) + "\n"
    Path(label_path).write_text(text)


_BASE_CACHE: list[np.ndarray] = []
_NOISE: list[np.ndarray] = []


def _init_worker() -> None:
    if not _BASE_CACHE:
        _BASE_CACHE.extend(_base(s) for s in range(BASES))
        rng = np.random.default_rng(99)
        _NOISE.extend(np.clip(rng.normal(0, 5, (H, W, 3)) + 5, 0, 255).astype(np.uint8) for _ in range(3))


def make_dataset(root: Path, n: int) -> None:
    marker = root / ".bench-complete"
    if marker.is_file() and marker.read_text() == f"{VERSION} {n}":
        return
    import shutil

    if root.exists():
        shutil.rmtree(root)
    n_val = n // 5
    jobs = []
    for i in range(n):
        split = "val" if i >= n - n_val else "train"
        stem = f"img_{i:06d}"
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        jobs.append((i, str(root / "images" / split / f"{stem}.jpg"), str(root / "labels" / split / f"{stem}.txt"),
                     1000 + i))
    t = time.perf_counter()
    with Pool(os.cpu_count() or 2, initializer=_init_worker) as pool:
        for k, _ in enumerate(pool.imap_unordered(_make_one, jobs, chunksize=64), 1):
            if k % 2000 == 0:
                print(f"  generated {k}/{n} images ({time.perf_counter() - t:.0f} s)", flush=True)
    # leakage: a few validation images are byte copies of training images
    for k in range(5):
        src, dst = jobs[k * 37 + 20], jobs[n - n_val + k * 11 + 3]
        Path(dst[1]).write_bytes(Path(src[1]).read_bytes())
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(NAMES))
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    marker.write_text(f"{VERSION} {n}")


def dataset_bytes(root: Path) -> tuple[int, int]:
    files = size = 0
    for d, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(d, name))
    return files, size


# ---------------------------------------------------------------------------------------------------------
# Cold cache
# ---------------------------------------------------------------------------------------------------------
def drop_caches(root: Path) -> str:
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return "drop_caches"
    except OSError:
        pass
    for d, _, names in os.walk(root):
        for name in names:
            try:
                fd = os.open(os.path.join(d, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return "posix_fadvise(DONTNEED) per file"


# ---------------------------------------------------------------------------------------------------------
# The two scans
# ---------------------------------------------------------------------------------------------------------
def run_ours(root: Path, executor: str = "auto", workers: int | None = None):
    t = time.perf_counter()
    report = run_check(root, options=CheckOptions(executor=executor, workers=workers))
    return time.perf_counter() - t, report


def run_ultralytics(root: Path):
    from ultralytics.data.dataset import YOLODataset

    for cache in (root / "labels").glob("*.cache"):
        cache.unlink()
    data = {"names": dict(enumerate(NAMES)), "nc": len(NAMES), "channels": 3}
    t = time.perf_counter()
    datasets = [YOLODataset(img_path=str(root / "images" / split), imgsz=640, augment=False, rect=False, cache=False,
                            data=data, task="detect") for split in ("train", "val")]
    elapsed = time.perf_counter() - t
    for cache in (root / "labels").glob("*.cache"):
        cache.unlink()
    return elapsed, datasets


def verdicts_ultralytics(datasets, root: Path):
    kept_images, boxes = set(), 0
    all_images = set()
    for ds in datasets:
        for lb in ds.labels:
            kept_images.add(lb["im_file"])
            boxes += len(lb["cls"])
    for split in ("train", "val"):
        all_images.update(str(p) for p in (root / "images" / split).iterdir())
    return all_images - kept_images, boxes


def verdicts_ours(report):
    rejected = report.rejected_images()
    deduped = {f.image for f in report.findings if f.rule == "label.duplicate" and f.image not in rejected}
    return rejected, report.summary["boxes"], deduped


def ultralytics_deduped(root: Path) -> set[str]:
    """Images whose duplicate rows Ultralytics drops, from its scan messages."""
    from ultralytics.data.dataset import YOLODataset

    out = set()
    data = {"names": dict(enumerate(NAMES)), "nc": len(NAMES), "channels": 3}
    for split in ("train", "val"):
        for cache in (root / "labels").glob("*.cache"):
            cache.unlink()
        ds = YOLODataset(img_path=str(root / "images" / split), imgsz=640, augment=False, rect=False, cache=False,
                         data=data, task="detect")
        ds.get_label_files()  # the constructor dropped the rejected images from im_files: pair them again
        cache = ds.cache_labels(root / "labels" / f"{split}.scan.cache")
        for msg in cache["msgs"]:
            if "duplicate labels removed" in msg:
                out.add(msg.split(": ")[0].split(" ")[-1])
    for cache in (root / "labels").glob("*.cache"):
        cache.unlink()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="dataset folder (default: /tmp/labeltrain-qa-<n>)")
    args = ap.parse_args()
    from ultralytics.utils import LOGGER

    LOGGER.setLevel(logging.ERROR)
    root = (args.data or Path(f"/tmp/labeltrain-qa-{args.images}")).resolve()
    t = time.perf_counter()
    make_dataset(root, args.images)
    files, size = dataset_bytes(root)
    print(f"dataset: {root} ({args.images} images, {files} files, {size / 1e9:.2f} GB; ready in "
          f"{time.perf_counter() - t:.1f} s)")

    # warm up both (imports, page cache)
    _, report = run_ours(root)
    _, datasets = run_ultralytics(root)
    print(f"checker: {report.summary['executor']} x{report.summary['workers']}, {len(report.findings)} findings, "
          f"{report.summary['errors']} errors, {report.summary['images_rejected']} images the trainer ignores")

    results: dict[str, dict[str, list[float]]] = {"warm": {"ours": [], "ultra": []}, "cold": {"ours": [], "ultra": []}}
    def one(mode: str) -> None:
        if mode == "cold":
            drop_caches(root)
        t, rep = run_ours(root)
        if mode == "cold":
            drop_caches(root)
        u = run_ultralytics(root)[0]
        results[mode]["ours"].append(t)
        results[mode]["ultra"].append(u)
        print(f"  {mode}: labeltrain {t:.3f} s ({rep.summary['executor']} x{rep.summary['workers']}"
              f"{', cache cold' if rep.summary.get('cold_cache') else ''}), Ultralytics {u:.3f} s", flush=True)

    for _ in range(args.runs):
        one("warm")
    executors = {}
    for kind, workers in (("serial", 1), ("thread", 2), ("thread", 8), ("process", 2), ("process", 8)):
        executors[f"{kind} x{workers}"] = min(run_ours(root, kind, workers)[0] for _ in range(2))
    method = drop_caches(root)
    for _ in range(args.runs):
        one("cold")

    n = args.images
    print(f"\nP3 — check {n} images, {args.runs} runs each (cold = {method}); ratio = Ultralytics / labeltrain")
    print(f"{'':5} {'labeltrain best / median':>26} {'Ultralytics best / median':>27} {'ratio (median)':>15} "
          f"{'target':>7}")
    ok = True
    for mode, target in (("warm", TARGET_WARM), ("cold", TARGET_COLD)):
        o, u = results[mode]["ours"], results[mode]["ultra"]
        ours, ultra = statistics.median(o), statistics.median(u)
        ratio = ultra / ours
        ok &= ratio >= target
        print(f"{mode:5} {min(o):8.3f} / {ours:.3f} s ({n / ours:5.0f}/s) {min(u):8.3f} / {ultra:.3f} s "
              f"({n / ultra:5.0f}/s) {ratio:8.1f}x {target:9.1f}x {'ok' if ratio >= target else 'MISSED'}")
    print("labeltrain check by executor (warm, best of 2): "
          + ", ".join(f"{k} {v:.3f} s" for k, v in executors.items()))

    ours_rejected, ours_boxes, ours_dedup = verdicts_ours(report)
    ultra_rejected, ultra_boxes = verdicts_ultralytics(datasets, root)
    ultra_dedup = ultralytics_deduped(root)
    same = ours_rejected == ultra_rejected and ours_boxes == ultra_boxes and ours_dedup == ultra_dedup
    print(f"verdicts: images ignored {len(ours_rejected)} vs {len(ultra_rejected)}, rows kept {ours_boxes} vs "
          f"{ultra_boxes}, images with duplicate rows dropped {len(ours_dedup)} vs {len(ultra_dedup)}: "
          f"{'identical' if same else 'DIFFERENT'}")
    if not same:
        print("  only ours:", sorted(ours_rejected - ultra_rejected)[:5], "only Ultralytics:",
              sorted(ultra_rejected - ours_rejected)[:5], "dedup diff:", sorted(ours_dedup ^ ultra_dedup)[:5])
    return 0 if same and ok else 1


if __name__ == "__main__":
    sys.exit(main())
