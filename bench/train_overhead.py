"""P4: the overhead of training through labeltrain's runner compared with plain `YOLO(...).train(...)`.

    python bench/train_overhead.py              # 3 runs each, alternated (about 2 minutes on 2 cores)
    python bench/train_overhead.py --runs 5 --epochs 3 --imgsz 160

Both sides train the same model on the same data.yaml (a split of a copy of the bundled sample project) with
the same arguments, each in a fresh Python process, timed from launch until the process has exited:
- labeltrain: `TrainingRun().start(config)` then `wait()` (validation, run folder, child process, callbacks
  writing events.jsonl, the parent polling it);
- plain: `python -c "from ultralytics import YOLO; YOLO(m).train(**same kwargs)"` with the same environment.
Both children leave with os._exit once training has returned (labeltrain's worker does so to skip torch's
slow interpreter teardown; the plain script does the same so that only the training machinery is compared).
Runs alternate so that drift in machine load hits both sides alike. Target: ratio of medians <= 1.03.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from labeltrain.core.sample import ensure_sample_project  # noqa: E402
from labeltrain.training.config import TrainConfig  # noqa: E402
from labeltrain.training.data_prep import prepare_data  # noqa: E402
from labeltrain.training.env import environment  # noqa: E402
from labeltrain.training.events import Finished  # noqa: E402
from labeltrain.training.runner import TrainingRun  # noqa: E402

TARGET = 1.03
PLAIN = """
import json, os, sys
from ultralytics import YOLO
from ultralytics import settings
settings.update({"sync": False})
kwargs = json.loads(sys.argv[2])
YOLO(sys.argv[1]).train(**kwargs)
sys.stdout.flush(); sys.stderr.flush()
os._exit(0)
"""


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_labeltrain(config: TrainConfig) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the child plus this (polling) process."""
    c0 = _cpu(resource.RUSAGE_CHILDREN) + _cpu(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    run = TrainingRun()
    run.start(config)
    result = run.wait()
    elapsed = time.perf_counter() - t0
    cpu = _cpu(resource.RUSAGE_CHILDREN) + _cpu(resource.RUSAGE_SELF) - c0
    if not isinstance(result, Finished):
        raise SystemExit(f"labeltrain run did not finish: {result}")
    return elapsed, cpu


def run_plain(config: TrainConfig, run_dir: Path, data_yaml: Path) -> tuple[float, float]:
    kwargs = config.train_kwargs(run_dir, data_yaml)
    env = {**os.environ, **environment()}
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    c0 = _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(run_dir.parent / f"{run_dir.name}.log", "wb") as log:
        proc = subprocess.run([sys.executable, "-c", PLAIN, config.model, json.dumps(kwargs)], stdout=log,
                              stderr=subprocess.STDOUT, env=env, cwd=str(run_dir.parent))
    elapsed = time.perf_counter() - t0
    cpu = _cpu(resource.RUSAGE_CHILDREN) - c0
    if proc.returncode != 0 or not (run_dir / "weights" / "best.pt").exists():
        raise SystemExit(f"plain run failed (exit {proc.returncode}); see {run_dir.parent / run_dir.name}.log")
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--imgsz", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--model", default="yolo26n.yaml")
    parser.add_argument("--threads", type=int, default=0,
                        help="OMP_NUM_THREADS for both sides (default: torch's choice); 1 is steadier on a busy "
                             "machine")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed 1-epoch warm-up run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="labeltrain-p4-") as tmp:
        root = Path(tmp)
        os.environ.setdefault("LABELTRAIN_DATA_DIR", str(root / "home"))
        if args.threads:
            os.environ["OMP_NUM_THREADS"] = str(args.threads)
        sample = ensure_sample_project(root / "sample")
        data_yaml = prepare_data(sample, root / "split").yaml_path
        config = TrainConfig(data=str(data_yaml), model=args.model, epochs=args.epochs, imgsz=args.imgsz,
                             batch=args.batch, device="cpu", workers=0, extra={"plots": False})
        times: dict[str, list[float]] = {"labeltrain": [], "plain": []}
        cpus: dict[str, list[float]] = {"labeltrain": [], "plain": []}
        if not args.no_warmup:  # label cache, fonts, settings, disk cache: paid here, by neither side
            run_plain(config.with_changes(epochs=1), root / "warmup" / "w", data_yaml)
        print(f"P4: {args.model}, {args.epochs} epochs, imgsz {args.imgsz}, batch {args.batch}, "
              f"sample project ({data_yaml}), {args.runs} runs each, alternated"
              + (f", OMP_NUM_THREADS={args.threads}" if args.threads else ""), flush=True)
        for i in range(args.runs):
            order = ("labeltrain", "plain") if i % 2 == 0 else ("plain", "labeltrain")
            for side in order:
                if side == "labeltrain":
                    seconds, cpu = run_labeltrain(config.with_changes(project=str(root / "lt"), name=f"r{i}"))
                else:
                    seconds, cpu = run_plain(config, root / "plain" / f"r{i}", data_yaml)
                times[side].append(seconds)
                cpus[side].append(cpu)
                print(f"  run {i + 1} {side:10s} wall {seconds:7.2f} s   cpu {cpu:7.2f} s", flush=True)
        for side in ("labeltrain", "plain"):
            print(f"{side:10s} wall median {statistics.median(times[side]):6.2f} s  min {min(times[side]):6.2f} s"
                  f"   cpu median {statistics.median(cpus[side]):6.2f} s")
        ratio = statistics.median(times["labeltrain"]) / statistics.median(times["plain"])
        best = min(times["labeltrain"]) / min(times["plain"])
        cpu_ratio = statistics.median(cpus["labeltrain"]) / statistics.median(cpus["plain"])
        verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
        print(f"ratio labeltrain/plain: wall median {ratio:.3f} ({verdict}, target <= {TARGET}), "
              f"wall min {best:.3f}, cpu median {cpu_ratio:.3f}")
        print("(on a machine shared with other work, single runs vary by +-20%: the min ratio is the least "
              "disturbed estimate; use more --runs for a tighter median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
