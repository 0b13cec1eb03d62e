"""Atomic writes: a writer killed at random moments leaves only whole old or whole new files."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from labeltrain.core.atomic import EmptyOverwriteError, atomic_write_bytes, atomic_write_text

WRITER = r"""
import sys
from labeltrain.core.atomic import atomic_write_bytes
target = sys.argv[1]
blocks = [bytes([65 + i]) * 2_000_000 for i in range(4)]
print("ready", flush=True)
i = 0
while True:
    atomic_write_bytes(target, blocks[i % 4])
    i += 1
"""


def test_killed_writer_never_leaves_a_torn_file(tmp_path):
    target = tmp_path / "labels.txt"
    original = b"0 0.5 0.5 0.1 0.1\n" * 1000
    target.write_bytes(original)
    valid = {original} | {bytes([65 + i]) * 2_000_000 for i in range(4)}
    rng = random.Random(0)
    for kills in range(1, 26):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.08))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = target.read_bytes()
        assert data in valid, f"torn file after kill {kills}: {len(data)} bytes"
    # the target changed at least once, so the kills did land mid-loop
    assert target.read_bytes() != original
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "labels.txt"]
    assert all(name.startswith(".labels.txt.") and name.endswith(".tmp") for name in leftovers)


def test_write_replaces_content_and_keeps_mode(tmp_path):
    target = tmp_path / "a" / "b.txt"
    atomic_write_text(target, "one\n")
    os.chmod(target, 0o640)
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["b.txt"]


def test_empty_over_content_is_refused_unless_allowed(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(EmptyOverwriteError):
        atomic_write_text(target, "", refuse_empty_over_content=True)
    assert target.read_text() == "0 0.5 0.5 0.2 0.2\n"
    atomic_write_text(target, "", refuse_empty_over_content=False)
    assert target.read_text() == ""
    # an empty file may always be (re)written empty, and a new file may be empty
    atomic_write_text(target, "", refuse_empty_over_content=True)
    atomic_write_text(tmp_path / "new.txt", "", refuse_empty_over_content=True)
    assert (tmp_path / "new.txt").exists()


def test_failed_write_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "x.txt"
    target.write_text("old")

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]
