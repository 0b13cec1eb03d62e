"""Box rules: near-duplicate search (small and vectorised paths against a brute-force IoU), the fast path's
agreement with the per-row checks, and messages with line numbers."""

from __future__ import annotations

import random

import pytest

from labeltrain.core.check import CheckOptions, check_image_file
from labeltrain.core.check.boxes import _pairs_numpy, corners, iou, near_duplicate_pairs
from tests.core.check.corpus import jpeg


def _brute(values, t):
    out = []
    seen = set()
    for j, b in enumerate(values):
        if b in seen:
            continue
        seen.add(b)
        for i in range(j):
            a = values[i]
            if a[0] == b[0] and a != b and iou(corners(a), corners(b)) > t:
                out.append((i, j))
                break
    return out


@pytest.mark.parametrize("seed", range(20))
def test_near_duplicates_match_brute_force(seed):
    rng = random.Random(seed)
    n = rng.choice([5, 30, 80])
    values = []
    for _ in range(n):
        if values and rng.random() < 0.3:
            c, x, y, w, h = rng.choice(values)
            d = rng.choice([0.0, 0.001, 0.01, 0.05])
            values.append((c, x + d, y, w, h))
        else:
            values.append((float(rng.randrange(3)), rng.random(), rng.random(), rng.uniform(0.01, 0.3),
                           rng.uniform(0.01, 0.3)))
    expected = _brute(values, 0.9)
    assert [(i, j) for i, j, _ in near_duplicate_pairs(values, 0.9)] == expected
    assert [(i, j) for i, j, _ in _pairs_numpy(values, 0.9)] == expected


def _check(tmp_path, text: str, size=(200, 100), **opts):
    img = tmp_path / "images" / "a.jpg"
    img.parent.mkdir(exist_ok=True)
    img.write_bytes(jpeg(*size))
    label = tmp_path / "a.txt"
    label.write_text(text)
    return check_image_file(img, label, nc=3, options=CheckOptions(**opts))


def test_box_findings_carry_lines_and_pixels(tmp_path):
    r = _check(tmp_path, "0 0.5 0.5 0.2 0.2\n\n1 0.95 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.0\n2 0.5 0.5 0.002 0.5\n"
                         "0 0.502 0.5 0.2 0.2\n")
    found = {(f.rule, f.line) for f in r.findings}
    assert found == {("box.past_edge", 3), ("box.zero_area", 4), ("box.tiny", 5), ("box.near_duplicate", 6)}
    past = next(f for f in r.findings if f.rule == "box.past_edge")
    assert "right by 10.0 px" in past.message  # 0.05 of a 200 px wide image
    near = next(f for f in r.findings if f.rule == "box.near_duplicate")
    assert "line 1" in near.message


def test_tiny_depends_on_the_training_size(tmp_path):
    text = "0 0.5 0.5 0.004 0.5\n"  # 0.8 px of 200: 2.56 px at imgsz 640, 0.5 px at 128
    assert not _check(tmp_path, text, imgsz=640).findings
    assert [f.rule for f in _check(tmp_path, text, imgsz=128).findings] == ["box.tiny"]


def test_near_duplicate_threshold_is_an_option(tmp_path):
    text = "0 0.5 0.5 0.2 0.2\n0 0.52 0.5 0.2 0.2\n"  # IoU 0.818
    assert not _check(tmp_path, text).findings
    assert [f.rule for f in _check(tmp_path, text, near_duplicate_iou=0.8).findings] == ["box.near_duplicate"]
