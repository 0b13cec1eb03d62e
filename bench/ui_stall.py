"""P5: does the GUI stay responsive while a training runs under it?

    python bench/ui_stall.py                      # ~30-40 s of training of the sample project at 64 px
    python bench/ui_stall.py --epochs 20 --imgsz 96

A TrainingPanel (offscreen unless $QT_QPA_PLATFORM says otherwise) trains a copy of the bundled sample project
through the same path as the Train button (label check, split, child process, live curves, log, progress).
Meanwhile a 10 ms QTimer on the UI thread records how late each of its ticks comes; lateness = time between
two ticks minus 10 ms. Also printed: the UI thread's time per delivery of events (curves, progress) and the
poller thread's time per TrainingRun.poll(). Target: p99 lateness <= 50 ms.
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
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LABELTRAIN_DATA_DIR", tempfile.mkdtemp(prefix="labeltrain-bench-home-"))

from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from labeltrain.core.dataset import discover  # noqa: E402
from labeltrain.core.sample import ensure_sample_project  # noqa: E402
from labeltrain.training.config import TrainConfig  # noqa: E402
from labeltrain.ui.app import apply_style  # noqa: E402
from labeltrain.ui.training import TrainingPanel  # noqa: E402
from labeltrain.ui.training.monitor import TrainingPanel as _Panel  # noqa: E402

TARGET_P99_MS = 50.0
TICK_MS = 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--imgsz", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--screenshot", help="save the panel at the end to this PNG")
    args = parser.parse_args()

    app = QApplication([])
    apply_style(app)
    handler_ms: list[float] = []
    original = _Panel._on_events

    def timed(self, events):  # the UI thread's work per delivery: curves, progress
        t0 = time.perf_counter()
        original(self, events)
        handler_ms.append((time.perf_counter() - t0) * 1000)

    _Panel._on_events = timed
    root = ensure_sample_project(Path(tempfile.mkdtemp(prefix="labeltrain-bench-")) / "sample")
    panel = TrainingPanel()
    panel.resize(1400, 900)
    panel.show()
    panel.set_dataset(discover(root))
    panel.form.set_config(TrainConfig(data=str(root), epochs=args.epochs, imgsz=args.imgsz, batch=8, device="cpu",
                                      workers=0, patience=0, extra={"plots": False}))
    poll_ms: list[float] = []
    run = panel.controller.run
    poll = run.poll

    def timed_poll():  # runs in the poller thread
        t0 = time.perf_counter()
        out = poll()
        poll_ms.append((time.perf_counter() - t0) * 1000)
        return out

    run.poll = timed_poll

    lateness: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer(timerType=Qt.TimerType.PreciseTimer, interval=TICK_MS)

    def tick() -> None:
        if clock.isValid():
            lateness.append(max(0.0, clock.nsecsElapsed() / 1e6 - TICK_MS))
        clock.restart()

    timer.timeout.connect(tick)
    t0 = time.perf_counter()
    if not panel.train():
        print("could not start:", panel.form.check())
        return 2
    timer.start()
    panel.busyChanged.connect(lambda busy: busy or app.quit())
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    if panel.busy:
        app.exec()  # a real event loop, as in the app
    timer.stop()
    elapsed = time.perf_counter() - t0
    if args.screenshot:
        panel.grab().save(args.screenshot)
    outcome = panel.summary.title.text()
    panel.shutdown()

    p50, p99, worst = percentile(lateness, 50), percentile(lateness, 99), max(lateness, default=float("nan"))
    print(f"training under the GUI: {elapsed:.1f} s, {args.epochs} epochs at {args.imgsz} px, outcome: {outcome}")
    print(f"UI timer lateness ({len(lateness)} ticks of {TICK_MS} ms): p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {worst:.1f} ms")
    if handler_ms:
        print(f"UI thread per event delivery ({len(handler_ms)}): median {statistics.median(handler_ms):.2f} ms, "
              f"max {max(handler_ms):.1f} ms")
    if poll_ms:
        print(f"poller thread per TrainingRun.poll() ({len(poll_ms)}): median {statistics.median(poll_ms):.3f} ms, "
              f"max {max(poll_ms):.1f} ms")
    ok = p99 <= TARGET_P99_MS and outcome == "Training finished"
    print(f"P5 target p99 <= {TARGET_P99_MS:.0f} ms: {'PASS' if ok else 'MISS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
