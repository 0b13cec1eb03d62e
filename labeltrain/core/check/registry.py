"""Where rule families plug in: per-image checks and dataset-level checks, each a function registered with a
decorator, and the options and contexts they receive. The runner calls whatever is registered."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported for type hints only (no cycles at run time)
    from labeltrain.core.check.findings import Finding
    from labeltrain.core.check.images import ImageFacts
    from labeltrain.core.check.rows import LabelFacts
    from labeltrain.core.dataset import Dataset

__all__ = ["CheckOptions", "ImageContext", "DatasetContext", "image_check", "dataset_check", "IMAGE_CHECKS",
           "DATASET_CHECKS"]


@dataclass(frozen=True)
class CheckOptions:
    """Knobs of a check run.

    min_instances: classes with fewer instances are reported (info; the seeds advise 500-2000 per class).
    near_duplicate_iou: same-class boxes overlapping more than this are near-duplicates.
    imgsz: training image size, for the 'too small to train on' rule (boxes under 2 px at this size).
    workers: parallel workers (None: one per core); executor: 'process', 'thread', 'serial' or 'auto'
    (processes when the platform forks cheaply and there are enough images, else serial).
    disabled: rule ids (or family prefixes such as 'box.') not to report.
    leakage: compare image contents across splits (reads the whole file only for same-size candidates).
    """

    min_instances: int = 500
    near_duplicate_iou: float = 0.9
    imgsz: int = 640
    workers: int | None = None
    executor: str = "auto"
    disabled: frozenset[str] = frozenset()
    leakage: bool = True
    chunk_size: int = 256

    def enabled(self, rule_id: str) -> bool:
        if not self.disabled:
            return True
        return rule_id not in self.disabled and not any(
            d.endswith(".") and rule_id.startswith(d) for d in self.disabled)


@dataclass(slots=True)
class ImageContext:
    """What the per-image checks see: the image's header facts and its label file parsed as the trainer does."""

    image: str
    label: str | None          # the label file path (whether or not it exists)
    split: str | None
    facts: ImageFacts
    labels: LabelFacts
    nc: int | None             # number of classes, None when unknown
    options: CheckOptions


@dataclass(slots=True)
class DatasetContext:
    """What the dataset-level checks see: the discovered dataset and what the per-image pass collected."""

    dataset: Dataset
    options: CheckOptions
    nc: int | None
    # per image (in dataset order): (image, label path, split, label state, rejected)
    images: list[tuple[str, str | None, str | None, str, bool]] = field(default_factory=list)
    # instances per (split, class id) over rows the trainer reads
    class_counts: dict[tuple[str | None, int], int] = field(default_factory=dict)
    # (file size, crc of the first 4 KiB) per image index, for the leakage check
    signatures: dict[int, tuple[int, int]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


ImageCheck = Callable[["ImageContext"], "Iterable[Finding]"]
DatasetCheck = Callable[["DatasetContext"], "Iterable[Finding]"]
IMAGE_CHECKS: dict[str, ImageCheck] = {}
DATASET_CHECKS: dict[str, DatasetCheck] = {}


def image_check(family: str) -> Callable[[ImageCheck], ImageCheck]:
    """Register a per-image check of a rule family (runs in worker processes: keep it pure)."""
    def deco(fn: ImageCheck) -> ImageCheck:
        IMAGE_CHECKS[family] = fn
        return fn
    return deco


def dataset_check(family: str) -> Callable[[DatasetCheck], DatasetCheck]:
    """Register a dataset-level check (runs once, in the calling process, after the per-image pass)."""
    def deco(fn: DatasetCheck) -> DatasetCheck:
        DATASET_CHECKS[family] = fn
        return fn
    return deco
