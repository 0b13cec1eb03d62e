"""How editing gestures change a box: the editor's clamp policy in one place (pure functions, no Qt).

Clamp policy (documented in README):
- Drawing: the dragged rectangle is clamped to the image, [0, width] x [0, height]; you may start or end the
  drag outside the image, the box stops at the edge.
- Moving and nudging: the box moves rigidly and stops at the image edge; its size never changes.
- Resizing by a handle or an edge: only the dragged sides move, each clamped to the image; dragging a side
  past the opposite one flips the box (corners are re-ordered); a side never comes closer than MIN_SIZE px.
- A box read from disk that lies partly outside the image is shown as it is and is not altered until the user
  edits that box (no phantom edits; the checker reports it).
- A drawn box smaller than `min_size` pixels in either direction is a click, not a box: it is ignored.
"""

from __future__ import annotations

from dataclasses import replace

from labeltrain.core.model import Box

MIN_SIZE = 1.0  # smallest box side in full-resolution pixels

# a handle names the sides it moves: n(orth)=y1, s(outh)=y2, w(est)=x1, e(ast)=x2
HANDLES = ("nw", "n", "ne", "e", "se", "s", "sw", "w")


def _clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


def drawn_box(cls_id: int, x0: float, y0: float, x1: float, y1: float, width: int, height: int,
              min_size: float = MIN_SIZE) -> Box | None:
    """The box a drag from (x0, y0) to (x1, y1) makes, clamped to the image; None when it is too small."""
    xa, xb = sorted((_clamp(x0, 0, width), _clamp(x1, 0, width)))
    ya, yb = sorted((_clamp(y0, 0, height), _clamp(y1, 0, height)))
    if xb - xa < max(min_size, MIN_SIZE) or yb - ya < max(min_size, MIN_SIZE):
        return None
    return Box(cls_id, xa, ya, xb, yb)


def moved_box(box: Box, dx: float, dy: float, width: int, height: int) -> Box:
    """`box` moved by (dx, dy), stopping at the image edges (size kept). A box larger than the image keeps
    its top-left corner inside."""
    b = box.normalized()
    dx = _clamp(dx, -b.x1, width - b.x2) if b.width <= width else -b.x1
    dy = _clamp(dy, -b.y1, height - b.y2) if b.height <= height else -b.y1
    return b.moved(dx, dy)


def resized_box(box: Box, handle: str, x: float, y: float, width: int, height: int) -> Box:
    """`box` with the sides named by `handle` dragged to (x, y), clamped to the image, at least MIN_SIZE."""
    b = box.normalized()
    x1, y1, x2, y2 = b.x1, b.y1, b.x2, b.y2
    x = _clamp(x, 0, width)
    y = _clamp(y, 0, height)
    if "w" in handle:
        x1 = x
    if "e" in handle:
        x2 = x
    if "n" in handle:
        y1 = y
    if "s" in handle:
        y2 = y
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))
    if ("w" in handle or "e" in handle) and x2 - x1 < MIN_SIZE:  # only the axes being dragged
        x2 = min(x1 + MIN_SIZE, width)
        x1 = x2 - MIN_SIZE
    if ("n" in handle or "s" in handle) and y2 - y1 < MIN_SIZE:
        y2 = min(y1 + MIN_SIZE, height)
        y1 = y2 - MIN_SIZE
    return replace(b, x1=x1, y1=y1, x2=x2, y2=y2)


def shifted_copy(box: Box, offset: float, width: int, height: int) -> Box:
    """A duplicate of `box` offset down-right by `offset` px (up-left when there is no room)."""
    b = box.normalized()
    step = offset if b.x2 + offset <= width and b.y2 + offset <= height else -offset
    return moved_box(b, step, step, width, height)
