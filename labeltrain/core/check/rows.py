"""Label rows as the trainer reads them (Ultralytics `verify_image_label`), with its verdicts per row.

The trainer reads the file as UTF-8 (optional BOM), splits it into whitespace-separated rows, turns them into a
float32 array and asserts, for the whole file: 5 columns, coordinates <= 1.01, no value below -0.01 (nor any
negative width/height), integer classes, classes < nc; then it drops duplicate rows. One failing row makes it
ignore the whole image. Each assertion is a property of single rows, so it is reported here per row (with its
line), and an image is rejected exactly when one of its rows is. Rows with more than 6 values are polygons:
the trainer trains on their bounding box (computed here in float32, as it does).
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass
from math import isfinite

from labeltrain.core.check.findings import Effect, Finding, define, finding
from labeltrain.core.check.registry import ImageContext, image_check
from labeltrain.core.problems import Severity

R_MISSING = define(
    "label.missing", "rows", Severity.WARNING, "image without a label file",
    "label the image; if it really shows nothing to detect, create an empty label file (a deliberate "
    "background image)", fix_id="create_empty_labels", source="ultralytics")
R_EMPTY = define(
    "label.empty", "rows", Severity.INFO, "empty label file: a background image",
    "nothing to do if the image shows no object of any class", source="ultralytics")
R_UNREADABLE = define(
    "label.unreadable", "rows", Severity.ERROR, "label file cannot be read",
    "check the file's permissions", effect=Effect.REJECT, source="ultralytics")
R_ENCODING = define(
    "label.encoding", "rows", Severity.ERROR, "label file is not UTF-8 text",
    "save the label file as UTF-8", effect=Effect.REJECT, source="ultralytics")
R_SYNTAX = define(
    "label.syntax", "rows", Severity.ERROR, "could not convert string to float",
    "write each row as numbers: 'class x_center y_center width height'", effect=Effect.REJECT,
    source="ultralytics")
R_COLUMNS = define(
    "label.columns", "rows", Severity.ERROR, "labels require 5 columns",
    "write each row as 'class x_center y_center width height' (polygons: class then x y pairs)",
    effect=Effect.REJECT, source="ultralytics")
R_MIXED = define(
    "label.mixed", "rows", Severity.ERROR, "labels mix segment and detection rows",
    "use either boxes (5 values per row) or polygons (class then x y pairs) in one file",
    effect=Effect.REJECT, source="ultralytics")
R_POLYGON = define(
    "label.polygon", "rows", Severity.INFO, "polygon rows: the trainer uses their bounding boxes",
    "nothing to do for detection; convert to boxes to edit them here", source="ultralytics")
R_NON_NORMALIZED = define(
    "label.non_normalized", "rows", Severity.ERROR, "non-normalized or out of bounds coordinates",
    "coordinates are fractions of the image size (0-1): divide pixel values by the image width and height; "
    "clip boxes that only stick out of the image", effect=Effect.REJECT, fix_id="clip_boxes",
    source="ultralytics")
R_NEGATIVE = define(
    "label.negative", "rows", Severity.ERROR, "negative label values",
    "clip the box to the image (values below -0.01 are refused)", effect=Effect.REJECT, fix_id="clip_boxes",
    source="ultralytics")
R_CLASS_NON_INTEGER = define(
    "label.class_non_integer", "rows", Severity.ERROR, "non-integer class labels",
    "class ids are whole numbers 0..nc-1", effect=Effect.REJECT, source="ultralytics")
R_CLASS_RANGE = define(
    "label.class_range", "rows", Severity.ERROR, "Label class exceeds dataset class count",
    "change the class id to an existing class, or add the missing class to data.yaml / classes.txt",
    effect=Effect.REJECT, fix_id="remap_class", source="ultralytics")
R_DUPLICATE = define(
    "label.duplicate", "rows", Severity.ERROR, "duplicate labels removed",
    "delete the repeated row", effect=Effect.ALTER, fix_id="dedupe_rows", source="ultralytics")

MISSING, EMPTY, FOUND, UNREADABLE = "missing", "empty", "found", "unreadable"


@dataclass(slots=True)
class Row:
    """One non-blank row. `values` are (class, x centre, y centre, width, height) rounded to float32 as the
    trainer holds them (for polygons: their bounding box), or None when the row has no such reading."""

    line: int
    fields: list[str]
    values: tuple[float, float, float, float, float] | None = None
    polygon: bool = False
    rejected: bool = False
    duplicate: bool = False  # the trainer drops it as a repeat of an earlier row


class LabelFacts:
    """A label file as the trainer reads it: state, row findings, the verdict, and `values`: the (class, x, y,
    w, h) float32 readings of the rows the trainer does not refuse, in file order (`value_lines()` gives their
    line numbers). `rows` (every non-blank row, as Row objects) is built on first use: the common case of a
    clean file never needs it."""

    __slots__ = ("state", "findings", "rejected", "dropped", "values", "nrows", "_rows", "_text", "_lines")

    def __init__(self, state: str = MISSING):
        self.state = state
        self.findings: list[Finding] = []
        self.rejected = False
        self.dropped = 0  # duplicate rows the trainer removes
        self.values: list[tuple[float, float, float, float, float]] = []
        self.nrows = 0
        self._rows: list[Row] | None = []
        self._text: str | None = None
        self._lines: list[int] | None = None

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:  # a clean file read by the fast path: every row has its reading
            rows = split_rows(self._text or "")
            for r, v in zip(rows, self.values):
                r.values = v
            self._rows = rows
        return self._rows

    def value_lines(self) -> list[int]:
        """Line numbers of `values`."""
        if self._lines is None:
            self._lines = [r.line for r in self.rows if r.values is not None and not r.rejected]
        return self._lines

    def kept_values(self) -> list[tuple[float, float, float, float, float]]:
        """The readings of the rows the trainer trains on (none when it ignores the image)."""
        if self.rejected:
            return []
        if not self.dropped:
            return self.values
        return [r.values for r in self.rows if r.values is not None and not r.duplicate]  # type: ignore[misc]

    @property
    def kept(self) -> int:
        """Rows the trainer trains on (0 when it ignores the image)."""
        return 0 if self.rejected else self.nrows - self.dropped

    def __repr__(self) -> str:
        return (f"LabelFacts(state={self.state!r}, rows={self.nrows}, rejected={self.rejected}, "
                f"dropped={self.dropped}, findings={len(self.findings)})")


def read_label(label: str | None, image: str, nc: int | None) -> LabelFacts:
    """Read and judge one YOLO label file. Never raises."""
    facts = LabelFacts()
    if label is None:
        return facts
    try:
        fd = os.open(label, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except (FileNotFoundError, NotADirectoryError):
        return facts
    except OSError as exc:
        return _unreadable(facts, label, image, exc)
    try:
        data = os.read(fd, 1 << 16)
        if len(data) == 1 << 16:  # a big file: read the rest
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
    except IsADirectoryError:
        return facts  # not a file: the trainer counts the label as missing
    except OSError as exc:
        return _unreadable(facts, label, image, exc)
    finally:
        os.close(fd)
    return parse_label(data, label, image, nc, facts)


def _unreadable(facts: LabelFacts, label: str, image: str, exc: OSError) -> LabelFacts:
    facts.state, facts.rejected = UNREADABLE, True
    facts.findings.append(finding(R_UNREADABLE.id, f"[Errno {exc.errno}] {exc.strerror}: '{label}'",
                                  image=image, label=label))
    return facts


def split_rows(text: str) -> list[Row]:
    """Non-blank rows with their 1-based line numbers (the trainer's splitting: str.splitlines, str.split)."""
    rows = []
    for i, line in enumerate(text.splitlines(), 1):
        f = line.split()
        if f:
            rows.append(Row(i, f))
    return rows


def decode_label(data: bytes) -> str:
    """The trainer's decoding (UTF-8 with optional BOM); raises UnicodeDecodeError as it does."""
    return data.decode("utf-8-sig")


def parse_label(data: bytes, label: str, image: str, nc: int | None, facts: LabelFacts | None = None) -> LabelFacts:
    """Judge label file content `data` (bytes) the way the trainer does."""
    facts = facts if facts is not None else LabelFacts()
    try:
        text = decode_label(data)
    except UnicodeDecodeError as exc:
        facts.state, facts.rejected = FOUND, True
        facts.findings.append(finding(R_ENCODING.id, str(exc), image=image, label=label))
        return facts
    fields = [f for f in map(str.split, text.splitlines()) if f]
    facts.nrows = len(fields)
    if not fields:
        facts.state = EMPTY
        return facts
    facts.state = FOUND
    if set(map(len, fields)) == {5}:
        values = _clean_boxes(text, nc)
        if values is not None:  # the common case: every row valid and distinct
            facts.values, facts._text, facts._rows = values, text, None
            return facts
    rows = split_rows(text)
    facts._rows = rows
    add = facts.findings.append
    if any(len(r.fields) > 6 for r in rows):
        _polygon_rows(rows, label, image, add)
    else:
        _box_rows(rows, label, image, add)
    for r in rows:
        if r.values is not None and not r.rejected:
            problem = value_problem(r.values, nc)
            if problem is not None:
                r.rejected = True
                add(finding(problem[0], problem[1], image=image, label=label, line=r.line))
    facts.rejected = any(r.rejected for r in rows)
    facts.dropped = _duplicates(rows, label, image, add)
    facts.values = [r.values for r in rows if r.values is not None and not r.rejected]
    return facts


def _clean_boxes(text: str, nc: int | None) -> list[tuple] | None:
    """Fast path for a file of 5-column rows: their float32 readings when every row passes every assertion
    and no row repeats; None means 'look row by row'. Whole-file min/max instead of per-row checks (the
    file's tokens are the rows' fields in order: line breaks are whitespace to str.split)."""
    try:
        vals = array("f", map(float, text.split())).tolist()
    except ValueError:
        return None
    if not isfinite(sum(vals)) or min(vals) < 0:  # a NaN or inf makes the sum non-finite
        return None
    if max(max(vals[1::5]), max(vals[2::5]), max(vals[3::5]), max(vals[4::5])) > 1.01:
        return None
    classes = vals[0::5]
    if (nc is not None and max(classes) >= nc) or not all(map(float.is_integer, classes)):
        return None
    boxes = list(zip(*[iter(vals)] * 5))
    if len(set(boxes)) != len(boxes):
        return None
    return boxes


def _box_rows(rows: list[Row], label: str, image: str, add) -> None:
    ragged = len({len(r.fields) for r in rows}) > 1
    for r in rows:
        try:
            vals = [float(x) for x in r.fields]
        except ValueError:
            bad = next(x for x in r.fields if not _is_float(x))
            r.rejected = True
            add(finding(R_SYNTAX.id, f"could not convert string to float: {bad!r}", image=image, label=label,
                        line=r.line))
            continue
        if len(vals) != 5:
            r.rejected = True
            why = (" (the trainer stops earlier, on the ragged rows: 'setting an array element with a sequence')"
                   if ragged else "")
            add(finding(R_COLUMNS.id, f"labels require 5 columns, {len(vals)} columns detected{why}", image=image,
                        label=label, line=r.line))
            continue
        a = array("f", vals)
        r.values = (a[0], a[1], a[2], a[3], a[4])


def _polygon_rows(rows: list[Row], label: str, image: str, add) -> None:
    import numpy as np

    with np.errstate(all="ignore"):  # 1e39 -> inf, inf - inf -> nan: judged below, as the trainer does
        _polygon_boxes(rows, label, image, add, np)
    if not any(r.rejected for r in rows):
        add(finding(R_POLYGON.id, f"{len(rows)} polygon row(s): the trainer trains on their bounding boxes",
                    image=image, label=label, line=rows[0].line))


def _polygon_boxes(rows: list[Row], label: str, image: str, add, np) -> None:
    for r in rows:
        r.polygon = True
        n = len(r.fields)
        if n == 5:
            r.rejected = True
            add(finding(R_MIXED.id, "labels mix segment and detection rows (a 5-value box row in a file of "
                                    "polygons)", image=image, label=label, line=r.line))
            continue
        bad = next((x for x in r.fields if not _is_float(x)), None)
        if bad is not None:
            r.rejected = True
            add(finding(R_SYNTAX.id, f"could not convert string to float: {bad!r}", image=image, label=label,
                        line=r.line))
            continue
        if n % 2 == 0 or n == 1:
            r.rejected = True
            add(finding(R_COLUMNS.id, f"polygon row with {n - 1} coordinates: x y pairs are required",
                        image=image, label=label, line=r.line))
            continue
        cls = np.float32(float(r.fields[0]))
        pts = np.array([float(x) for x in r.fields[1:]], dtype=np.float32).reshape(-1, 2)
        xs, ys = pts[:, 0], pts[:, 1]
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max(), ys.max()
        r.values = (float(cls), float((x1 + x2) / 2), float((y1 + y2) / 2), float(x2 - x1), float(y2 - y1))


def _is_float(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def value_problem(v: tuple[float, ...], nc: int | None) -> tuple[str, str] | None:
    """The trainer's assertions for one row (float32 values), in its order: (rule id, message) or None."""
    cls, xc, yc, w, h = v
    bad = [c for c in (xc, yc, w, h) if not c <= 1.01]  # also NaN
    if bad:
        return R_NON_NORMALIZED.id, f"non-normalized or out of bounds coordinates {_fmt(bad)}"
    if cls != cls or w < 0 or h < 0 or min(v) < -0.01:
        neg = [x for x in v if x < 0 or x != x]
        return R_NEGATIVE.id, f"negative label values {_fmt(neg)}"
    if cls % 1 != 0:
        return R_CLASS_NON_INTEGER.id, f"non-integer class labels {_fmt([cls])}"
    if nc is not None and cls >= nc:
        return R_CLASS_RANGE.id, (f"Label class {int(cls)} exceeds dataset class count {nc}. "
                                  f"Possible class labels are 0-{nc - 1}")
    return None


def _fmt(values: list[float]) -> str:
    return "[" + " ".join(f"{x:.6g}" for x in values) + "]"


def _duplicates(rows: list[Row], label: str, image: str, add) -> int:
    """Report rows whose float32 values repeat an earlier row (polygons: the same class and points)."""
    seen: dict[tuple, int] = {}
    dropped = 0
    for r in rows:
        if r.values is None:
            continue
        key = r.values if not r.polygon else _polygon_key(r)
        first = seen.setdefault(key, r.line)
        if first != r.line:
            dropped += 1
            r.duplicate = True
            add(finding(R_DUPLICATE.id, f"duplicate labels removed: line {r.line} repeats line {first}",
                        image=image, label=label, line=r.line))
    return dropped


def _polygon_key(r: Row) -> bytes:
    """The trainer compares polygon rows by their float32 bytes (so -0.0 and 0.0 differ there)."""
    import numpy as np

    with np.errstate(all="ignore"):
        return np.array([float(x) for x in r.fields], dtype=np.float32).tobytes()


@image_check("rows")
def check_rows(ctx: ImageContext) -> list[Finding]:
    facts = ctx.labels
    if ctx.label is None:
        return []  # not a YOLO dataset: no label file to judge
    if facts.state == MISSING:
        if ctx.facts.error is not None:
            return list(facts.findings)
        return [finding(R_MISSING.id, "no label file: the trainer uses this image as a background image "
                                      "(every object in it is taught as 'nothing here')",
                        image=ctx.image, label=ctx.label)]
    if facts.state == EMPTY:
        return [finding(R_EMPTY.id, "empty label file: a background image (no objects)", image=ctx.image,
                        label=ctx.label)]
    return list(facts.findings)
