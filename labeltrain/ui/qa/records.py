"""What the QA views know about one image: its boxes as the trainer parses them from the label file on disk, the
checker's findings, the verdict. Pure Python (no Qt): built on worker threads, shown on the UI thread.

YOLO labels go through the checker (`core.check.check_image_file`: the trainer's row parsing and every per-image
rule); other formats (VOC, CreateML, ...) are read through the format registry and drawn as they are, since the
trainer reads only YOLO txt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from labeltrain.core.check import CheckOptions, Finding, check_image_file
from labeltrain.core.check.images import read_image_facts
from labeltrain.core.check.rows import LabelFacts
from labeltrain.core.dataset import Dataset, ImageItem, load_annotation
from labeltrain.core.formats.yolo import parse_yolo
from labeltrain.core.problems import Severity

# What the trainer does with a row: trains on it; refuses it (and so ignores its image); ignores it because
# another row of the image was refused; drops it as a duplicate.
KEPT, REJECTED, IGNORED, DROPPED = "kept", "rejected", "ignored", "dropped"
SEVERITY_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


@dataclass(frozen=True, slots=True)
class TileBox:
    """One parsed label row: class, normalised centre and size, its 1-based line, and what the trainer does
    with it (KEPT, REJECTED, IGNORED, DROPPED)."""

    cls: int
    xc: float
    yc: float
    w: float
    h: float
    line: int | None
    state: str = KEPT


@dataclass(frozen=True, slots=True)
class TileRecord:
    index: int
    image: str
    label: str | None
    split: str | None
    width: int
    height: int
    boxes: tuple[TileBox, ...]
    findings: tuple[Finding, ...]
    rejected: bool
    label_state: str
    signature: tuple[int, int] | None  # label file (mtime_ns, size) when it was read
    yolo: bool = True

    @property
    def name(self) -> str:
        return os.path.basename(self.image)

    @property
    def classes(self) -> frozenset[int]:
        return frozenset(b.cls for b in self.boxes)

    @property
    def rules(self) -> frozenset[str]:
        return frozenset(f.rule for f in self.findings)

    @property
    def severity(self) -> Severity | None:
        """The worst severity among the findings (None when there are none)."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__)

    def kept_values(self) -> tuple[tuple[float, float, float, float, float], ...]:
        if self.rejected:
            return ()
        return tuple((b.cls, b.xc, b.yc, b.w, b.h) for b in self.boxes if b.state == KEPT)


def label_signature(label: str | None) -> tuple[int, int] | None:
    if label is None:
        return None
    try:
        st = os.stat(label)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def dataset_nc(dataset: Dataset) -> int | None:
    """The class count the trainer checks ids against (None when the dataset names no classes), as run_check."""
    return len(dataset.classes) if len(dataset.classes) or dataset.data_yaml is not None else None


def is_yolo(dataset: Dataset) -> bool:
    return dataset.label_format == "yolo" and dataset.resolved_label_mode != "collection"


def label_file(dataset: Dataset, item: ImageItem) -> str | None:
    """Where the trainer (YOLO) or the format reader looks for this image's labels."""
    if dataset.resolved_label_mode == "collection":
        return str(dataset.collection_file) if dataset.collection_file else None
    return item.label or str(dataset.label_path(item.image))


def tile_boxes(labels: LabelFacts) -> tuple[TileBox, ...]:
    """Every row the trainer could read a box from, in file order, with what it does with it."""
    if labels.state != "found":
        return ()
    out = []
    for r in labels.rows:
        if r.values is None:
            continue
        v = r.values
        cls = int(v[0]) if v[0] == v[0] and abs(v[0]) < 1e9 else -1
        state = REJECTED if r.rejected else IGNORED if labels.rejected else DROPPED if r.duplicate else KEPT
        out.append(TileBox(cls, v[1], v[2], v[3], v[4], r.line, state))
    return tuple(out)


def build_record(index: int, dataset: Dataset, item: ImageItem, nc: int | None,
                 options: CheckOptions | None = None) -> TileRecord:
    """Read and check one image and its label file. Never raises."""
    label = label_file(dataset, item)
    if is_yolo(dataset):
        signature = label_signature(label)
        result = check_image_file(item.image, label, nc=nc, split=item.split, options=options)
        return TileRecord(index, item.image, label, item.split, result.facts.width, result.facts.height,
                          tile_boxes(result.labels), tuple(result.findings), result.rejected, result.labels.state,
                          signature)
    return _foreign_record(index, dataset, item, label)


def _foreign_record(index: int, dataset: Dataset, item: ImageItem, label: str | None) -> TileRecord:
    facts = read_image_facts(item.image)
    signature = label_signature(label) if dataset.resolved_label_mode != "collection" else None
    try:
        result = load_annotation(dataset, item)
        ann = result.annotations[0] if result.annotations else None
    except Exception:  # a reader bug must not stop the previewer
        ann = None
    boxes = []
    if ann is not None and ann.width > 0 and ann.height > 0:
        for b in ann.boxes:
            boxes.append(TileBox(b.cls, (b.x1 + b.x2) / 2 / ann.width, (b.y1 + b.y2) / 2 / ann.height,
                                 (b.x2 - b.x1) / ann.width, (b.y2 - b.y1) / ann.height, None))
    state = "found" if ann is not None and label is not None and os.path.exists(label) else "missing"
    return TileRecord(index, item.image, label, item.split, facts.width or (ann.width if ann else 0),
                      facts.height or (ann.height if ann else 0), tuple(boxes), (), facts.error is not None, state,
                      signature, yolo=False)


def editor_box_index(record: TileRecord, box: TileBox) -> int | None:
    """The index of `box` among the boxes the editor loads from the same file (the editor keeps some rows the
    trainer rejects, e.g. class ids out of range, and skips rows it cannot read)."""
    if not record.yolo:
        return record.boxes.index(box) if box in record.boxes else None
    return editor_index_of_line(record.label, box.line)


def editor_index_of_line(label: str | None, line: int | None) -> int | None:
    """Index of the box the editor reads from 1-based `line` of a YOLO label file; None if it reads none there."""
    if label is None or line is None:
        return None
    try:
        with open(label, encoding="utf-8-sig", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    before, _ = parse_yolo("\n".join(lines[:line - 1]), 1, 1)
    upto, _ = parse_yolo("\n".join(lines[:line]), 1, 1)
    return len(before) if len(upto) > len(before) else None


def worst(severities) -> Severity | None:
    found = [s for s in severities if s is not None]
    return max(found, key=SEVERITY_RANK.__getitem__) if found else None
