"""The editor's clamp policy (core.box_geometry): properties over random gestures, plus the documented cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labeltrain.core.box_geometry import HANDLES, MIN_SIZE, drawn_box, moved_box, resized_box, shifted_copy
from labeltrain.core.model import Box

W, H = 640, 480
coord = st.floats(-2000, 2000, allow_nan=False)


def inside(b: Box) -> bool:
    return 0 <= b.x1 <= b.x2 <= W and 0 <= b.y1 <= b.y2 <= H


@st.composite
def boxes(draw) -> Box:
    x1 = draw(st.floats(0, W - MIN_SIZE))
    y1 = draw(st.floats(0, H - MIN_SIZE))
    x2 = draw(st.floats(x1 + MIN_SIZE, W))
    y2 = draw(st.floats(y1 + MIN_SIZE, H))
    return Box(draw(st.integers(0, 5)), x1, y1, x2, y2)


@given(coord, coord, coord, coord)
def test_drawn_boxes_are_inside_or_ignored(x0, y0, x1, y1):
    b = drawn_box(3, x0, y0, x1, y1, W, H)
    if b is not None:
        assert inside(b) and b.width >= MIN_SIZE and b.height >= MIN_SIZE and b.cls == 3


@given(boxes(), coord, coord)
def test_moving_keeps_size_and_stays_inside(box, dx, dy):
    m = moved_box(box, dx, dy, W, H)
    assert inside(m)
    assert m.width == pytest.approx(box.width) and m.height == pytest.approx(box.height)


@given(boxes(), st.sampled_from(HANDLES), coord, coord)
def test_resizing_stays_inside_and_moves_only_the_dragged_sides(box, handle, x, y):
    r = resized_box(box, handle, x, y, W, H)
    assert inside(r) and r.width >= MIN_SIZE - 1e-9 and r.height >= MIN_SIZE - 1e-9
    if not any(c in handle for c in "we"):
        assert (r.x1, r.x2) == (box.x1, box.x2)
    if not any(c in handle for c in "ns"):
        assert (r.y1, r.y2) == (box.y1, box.y2)


def test_documented_cases():
    assert drawn_box(0, 10, 10, 10.5, 50, W, H) is None                 # a click
    assert drawn_box(0, 600, 400, 900, 900, W, H) == Box(0, 600, 400, 640, 480)
    b = Box(1, 100, 100, 200, 150)
    assert moved_box(b, 1000, -1000, W, H) == Box(1, 540, 0, 640, 50)
    assert resized_box(b, "e", 50, 0, W, H) == Box(1, 50, 100, 100, 150)   # dragged past the left side: flips
    assert resized_box(b, "se", 900, 900, W, H) == Box(1, 100, 100, 640, 480)
    assert shifted_copy(b, 10, W, H) == Box(1, 110, 110, 210, 160)
    assert shifted_copy(Box(1, 600, 400, 640, 480), 10, W, H) == Box(1, 590, 390, 630, 470)
