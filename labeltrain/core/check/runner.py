"""Run the checker over a dataset: the per-image rules in chunks spread over worker processes (or threads, or
serially), then the dataset-level rules; progress and cooperative cancel callbacks as in `discover`.

Per image the work is a header read (a few KiB plus the last two bytes), one label file read and a few
microseconds of Python, so it is CPU-bound in the interpreter: processes scale with cores, threads do not
(bench/qa.py measures both). Workers return compact results (findings, a signature, class counts per chunk).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED as _FIRST
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from labeltrain.core.check.findings import Effect, Finding
from labeltrain.core.check.images import HEAD_BYTES, READ_FLAGS, ImageFacts, read_image_facts
from labeltrain.core.check.registry import (
    DATASET_CHECKS,
    IMAGE_CHECKS,
    CheckOptions,
    DatasetContext,
    ImageContext,
)
from labeltrain.core.check.report import CheckReport, count_severities
from labeltrain.core.check.rows import EMPTY, FOUND, MISSING, LabelFacts, read_label
from labeltrain.core.dataset import Dataset, discover

REJECT, ALTER = Effect.REJECT, Effect.ALTER
ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
AUTO_PROCESS_MIN = 1500  # below this many images a worker pool costs more than it saves


@dataclass(slots=True)
class ImageResult:
    """Everything the checker learnt about one image (what the live previewer needs to draw and badge it)."""

    image: str
    label: str | None
    split: str | None
    facts: ImageFacts
    labels: LabelFacts
    findings: list[Finding] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(f.effect == Effect.REJECT for f in self.findings) or self.facts.error is not None \
            or self.labels.rejected


def check_image_file(image: str | os.PathLike[str], label: str | os.PathLike[str] | None, *, nc: int | None,
                     split: str | None = None, options: CheckOptions | None = None) -> ImageResult:
    """Run every per-image rule on one image and its YOLO label file (no dataset-level rules)."""
    options = options or CheckOptions()
    image_s = os.fspath(image)
    label_s = os.fspath(label) if label is not None else None
    facts = read_image_facts(image_s)
    labels = read_label(label_s, image_s, nc)
    ctx = ImageContext(image_s, label_s, split, facts, labels, nc, options)
    findings: list[Finding] = []
    for check in IMAGE_CHECKS.values():
        found = check(ctx)
        if found:
            findings.extend(found)
    if options.disabled and findings:
        findings = [f for f in findings if options.enabled(f.rule)]
    return ImageResult(image_s, label_s, split, facts, labels, findings)


# A chunk: (index, image, label path, split) per image.
_Item = tuple[int, str, "str | None", "str | None"]


@dataclass(slots=True)
class _ChunkResult:
    # per image: (index, label state, rejected, altered, findings, (file size, head crc))
    images: list[tuple[int, str, bool, bool, tuple[Finding, ...], tuple[int, int]]]
    class_counts: Counter
    boxes: int


def _check_chunk(items: Sequence[_Item], nc: int | None, options: CheckOptions) -> _ChunkResult:
    out = []
    classes: dict[str | None, list[int]] = {}
    for index, image, label, split in items:
        r = check_image_file(image, label, nc=nc, split=split, options=options)
        findings = r.findings
        rejected = r.facts.error is not None or r.labels.rejected
        altered = False
        if findings:
            rejected = rejected or any(f.effect == REJECT for f in findings)
            altered = any(f.effect == ALTER for f in findings)
        if not rejected and r.labels.values:
            classes.setdefault(split, []).extend(int(v[0]) for v in r.labels.kept_values())
        sig = (r.facts.file_size, r.facts.head_crc) if r.facts.file_size else (0, 0)
        out.append((index, r.labels.state, rejected, altered, tuple(findings), sig))
    counts: Counter = Counter()
    for split, ids in classes.items():
        counts.update({(split, c): n for c, n in Counter(ids).items()})
    return _ChunkResult(out, counts, sum(len(ids) for ids in classes.values()))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _executor(kind: str, workers: int) -> Executor | None:
    if kind == "thread":
        return ThreadPoolExecutor(workers)
    if kind != "process":
        return None
    methods = multiprocessing.get_all_start_methods()
    # fork is cheapest, but forking a process that runs other threads (a GUI) is unsafe: use a fork server then.
    if "fork" in methods and threading.active_count() == 1:
        ctx = multiprocessing.get_context("fork")
    elif "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["labeltrain.core.check.runner"])
    else:
        ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init)


def _worker_init() -> None:
    """In a forked worker: leave the inherited objects out of garbage collection (a full collection would
    walk, and so copy, every page of a big parent such as a GUI with torch loaded) and collect nothing during
    the run (the rules create no reference cycles)."""
    gc.freeze()
    gc.disable()


class _Prefetcher:
    """Asks the kernel to start reading what the workers will read (image head and tail, label file) with
    posix_fadvise(WILLNEED), in the order the chunks are processed. The advice returns at once, so a few threads
    keep many reads in flight; on a cold page cache this is several times faster than waiting for each read
    (bench/qa.py). Only used when a probe found the files cold."""

    THREADS = 4

    def __init__(self, chunks: Sequence[Sequence[_Item]]):
        self.chunks = chunks
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        if not hasattr(os, "posix_fadvise"):
            return
        for k in range(self.THREADS):
            t = threading.Thread(target=self._run, args=(self.chunks[k::self.THREADS],), daemon=True,
                                 name=f"check-prefetch-{k}")
            t.start()
            self.threads.append(t)

    def stop(self) -> None:
        self.stopped.set()
        for t in self.threads:
            t.join()

    def _run(self, chunks: Sequence[Sequence[_Item]]) -> None:
        advise, willneed = os.posix_fadvise, os.POSIX_FADV_WILLNEED
        for chunk in chunks:
            if self.stopped.is_set():
                return
            for _, image, label, _ in chunk:
                try:
                    fd = os.open(image, READ_FLAGS)
                except OSError:
                    continue
                try:
                    size = os.fstat(fd).st_size
                    advise(fd, 0, HEAD_BYTES, willneed)
                    advise(fd, max(0, size - 2), 2, willneed)
                except OSError:
                    pass
                finally:
                    os.close(fd)
                if label is not None:
                    try:
                        fd = os.open(label, READ_FLAGS)
                    except OSError:
                        continue
                    try:
                        advise(fd, 0, 0, willneed)
                    except OSError:
                        pass
                    finally:
                        os.close(fd)


def resolve_executor(options: CheckOptions, n_images: int) -> tuple[str, int]:
    """Which executor and how many workers a run of `n_images` uses: processes, one per core (the rules are
    Python: threads would share one interpreter lock; bench/qa.py compares them), serial for small datasets.
    A cold page cache is handled by prefetching, not by more workers (bench/qa.py, 10,000 images from disk:
    2 workers 3.2 s, 8 workers 1.5 s, 2 workers with prefetch 0.8-0.9 s)."""
    cores = _cpu_count()
    kind = options.executor
    if kind == "auto":
        kind = "process" if cores > 1 and n_images >= AUTO_PROCESS_MIN else "serial"
    if kind not in ("process", "thread", "serial"):
        raise ValueError(f"executor must be 'auto', 'process', 'thread' or 'serial', not {options.executor!r}")
    workers = options.workers or cores
    if workers <= 1 and kind != "serial":
        kind = "serial"
    return kind, workers


def files_are_cold(paths: Sequence[str], sample: int = 16) -> bool:
    """True when most (3/4) of a sample of `paths` is not in the page cache (a read would wait for the disk). Uses
    preadv(RWF_NOWAIT), which fails instead of blocking; False where that is not available."""
    flag = getattr(os, "RWF_NOWAIT", None)
    if flag is None or not paths:
        return False
    step = max(1, len(paths) // sample)
    probe = bytearray(1)
    cold = total = 0
    for path in paths[::step][:sample]:
        try:
            fd = os.open(path, READ_FLAGS)
        except OSError:
            continue
        try:
            os.preadv(fd, [probe], 0, flag)
        except BlockingIOError:
            cold += 1
        except OSError:
            return False  # not supported here
        finally:
            os.close(fd)
        total += 1
    return total > 0 and cold * 4 >= total * 3  # most of the sample: a few evicted files are not a cold cache


def run_check(target: str | os.PathLike[str] | Dataset, *, options: CheckOptions | None = None,
              progress: ProgressFn | None = None, cancelled: CancelFn | None = None) -> CheckReport:
    """Check a dataset (a folder, data.yaml or an already discovered Dataset) with every registered rule.

    `progress(done, total)` is called as images are checked; `cancelled()` is polled between chunks and stops
    the run (the report then says `cancelled` and covers the images checked so far). Never raises on bad input.
    """
    options = options or CheckOptions()
    t0 = time.perf_counter()
    dataset = target if isinstance(target, Dataset) else discover(target, cancelled=cancelled)
    nc = len(dataset.classes) if len(dataset.classes) or dataset.data_yaml is not None else None
    yolo = dataset.label_format == "yolo" and dataset.resolved_label_mode != "collection"
    items: list[_Item] = []
    label_of: list[str | None] = []
    for i, item in enumerate(dataset.items):
        label = (item.label or str(dataset.label_path(item.image))) if yolo else None
        items.append((i, item.image, label, item.split))
        label_of.append(label)
    total = len(items)
    kind, workers = resolve_executor(options, total)
    cold = total >= 64 and files_are_cold([it[1] for it in items])
    size = max(1, min(options.chunk_size, -(-total // (workers * 4)) if kind != "serial" else options.chunk_size))
    chunks = [items[i:i + size] for i in range(0, total, size)]

    results: list[_ChunkResult] = []
    was_cancelled = False
    done = 0
    executor = _executor(kind, workers)
    prefetch = _Prefetcher(chunks) if cold else None
    gc_was_enabled = gc.isenabled()
    gc.disable()  # no cycles are made here; collections would only walk the caller's heap again and again
    try:
        if executor is None:
            if prefetch is not None:
                prefetch.start()
            for chunk in chunks:
                if cancelled is not None and cancelled():
                    was_cancelled = True
                    break
                results.append(_check_chunk(chunk, nc, options))
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        else:
            pending: set[Future] = {executor.submit(_check_chunk, chunk, nc, options) for chunk in chunks}
            if prefetch is not None:
                prefetch.start()  # after the submits: the workers are forked before any extra thread runs
            while pending:
                finished, pending = wait(pending, timeout=0.1, return_when=_FIRST)
                for fut in finished:
                    res = fut.result()
                    results.append(res)
                    done += len(res.images)
                if finished and progress is not None:
                    progress(done, total)
                if cancelled is not None and cancelled():
                    was_cancelled = True
                    for fut in pending:
                        fut.cancel()
                    break
    finally:
        if gc_was_enabled:
            gc.enable()
        if prefetch is not None:
            prefetch.stop()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    per_image: dict[int, tuple] = {}
    counts: Counter = Counter()
    boxes = 0
    for res in results:
        counts.update(res.class_counts)
        boxes += res.boxes
        for entry in res.images:
            per_image[entry[0]] = entry
    findings: list[Finding] = []
    ctx = DatasetContext(dataset, options, nc)
    checked: list[int] = sorted(per_image)
    remap = {}
    for i in checked:
        _, state, rejected, _altered, image_findings, sig = per_image[i]
        findings.extend(image_findings)
        remap[i] = len(ctx.images)
        ctx.images.append((items[i][1], label_of[i], items[i][3], state, rejected))
        if sig[0]:
            ctx.signatures[remap[i]] = sig
    ctx.class_counts = dict(counts)
    if not was_cancelled:
        for check in DATASET_CHECKS.values():
            findings.extend(f for f in check(ctx) if options.enabled(f.rule))
    else:
        findings.extend(f for f in DATASET_CHECKS["discovery"](ctx) if options.enabled(f.rule))

    states = Counter(per_image[i][1] for i in checked)
    if not yolo:  # labels in another format: count the label files discovery paired
        found = sum(1 for i in checked if dataset.items[i].label is not None)
        states = Counter({FOUND: found, MISSING: len(checked) - found})
    summary = {
        "root": str(dataset.root),
        "layout": dataset.layout,
        "label_format": dataset.label_format,
        "classes": list(dataset.classes),
        "images": len(checked),
        "images_total": total,
        "labels_found": states[FOUND] + states[EMPTY] + states["unreadable"],
        "labels_missing": states[MISSING],
        "labels_empty": states[EMPTY],
        "images_rejected": sum(1 for i in checked if per_image[i][2]),
        "images_altered": sum(1 for i in checked if per_image[i][3] and not per_image[i][2]),
        "boxes": boxes,
        "instances": _instances(counts, dataset),
        **count_severities(findings),
        "rules": dict(Counter(f.rule for f in findings)),
        "executor": kind,
        "workers": workers if kind != "serial" else 1,
        "cold_cache": cold,
        "cancelled": was_cancelled,
        "seconds": round(time.perf_counter() - t0, 4),
    }
    return CheckReport(str(dataset.root), findings, summary, dataset, was_cancelled)


def _instances(counts: Counter, dataset: Dataset) -> dict[str, dict[str, int]]:
    """Instances per split per class name (split 'all' when the dataset has no splits)."""
    out: dict[str, dict[str, int]] = {}
    for (split, cls), n in sorted(counts.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        out.setdefault(split or "all", {})[dataset.classes.name(cls)] = n
    return out


def check_path(path: str | os.PathLike[str], **kwargs) -> CheckReport:
    """Shorthand: `run_check(Path(path), ...)`."""
    return run_check(Path(path), **kwargs)
