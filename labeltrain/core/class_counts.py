"""Boxes per class over a whole dataset, for the class list (no image is opened for YOLO files).

YOLO: the first field of every row of every label file (that is all a count needs). Other per-image formats go
through their reader; collection formats through `load_annotation` (read once, cached on the dataset).
Unreadable files and malformed rows are skipped: the checker reports them, the counter only counts.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from labeltrain.core import formats
from labeltrain.core.dataset import Dataset, load_annotation

Cancelled = Callable[[], bool] | None


def _unknown_size(_path: Path) -> tuple[int, int]:
    return (1, 1)  # counts do not need the image size; never open images


def count_yolo_file(path: str) -> Counter[int]:
    counts: Counter[int] = Counter()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return counts
    for line in data.splitlines():
        head = line.split(None, 1)[:1]
        if head:
            try:
                counts[int(float(head[0]))] += 1
            except ValueError:
                continue
    return counts


def count_instances(dataset: Dataset, cancelled: Cancelled = None) -> tuple[Counter[int], int]:
    """(boxes per class id, images with at least one box). Returns what it has counted when cancelled."""
    total: Counter[int] = Counter()
    images_with_boxes = 0
    fmt = formats.get(dataset.label_format)
    collection = dataset.resolved_label_mode == "collection" or not fmt.per_image
    for i, item in enumerate(dataset.items):
        if cancelled is not None and i % 512 == 0 and cancelled():
            break
        if collection:
            result = load_annotation(dataset, item, _unknown_size)
            ids = [b.cls for a in result.annotations for b in a.boxes]
            counts = Counter(ids)
        else:
            label = item.label or os.fspath(dataset.label_path(item.image))
            if fmt.name == "yolo":
                counts = count_yolo_file(label)
            elif os.path.exists(label):
                result = fmt.read_file(Path(label), Path(item.image), dataset.classes, _unknown_size)
                counts = Counter(b.cls for a in result.annotations for b in a.boxes)
            else:
                continue
        if counts:
            images_with_boxes += 1
            total.update(counts)
    return total, images_with_boxes
