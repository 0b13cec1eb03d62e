"""Dataset health: the numbers behind the health views (Roboflow Health Check, Ultralytics labels.jpg): images,
boxes and backgrounds per split, instances per class per split, images per class, boxes per image, box sizes and
centres, image sizes, and plain-language warnings (rare classes, classes missing from val, unbalanced splits).

Counts follow the trainer: boxes are the label rows it trains on (core.check row parsing); images it rejects
contribute no boxes and are counted apart. Pure numpy; `compute_health` takes per-image records (the previewer
already has them), `health_from_dataset` reads them from disk.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from labeltrain.core.problems import Severity

__all__ = ["ImageStats", "HealthWarning", "HealthStats", "compute_health", "health_from_dataset",
           "MIN_INSTANCES", "SPLIT_ORDER"]

MIN_INSTANCES = 500  # the seeds advise at least 500-2000 instances per class
SPLIT_ORDER = ("train", "val", "test", "all")
VAL_SHARE = (0.05, 0.5)  # a val split outside this share of train+val images is flagged
SHARE_RATIO = 3.0  # a class whose share of val differs from its share of train by more than this is flagged
BACKGROUND_SHARE = 0.10  # Ultralytics suggests 0-10 % background images
IMBALANCE = 10.0  # most / least frequent class

Values = tuple[float, float, float, float, float]  # class, x centre, y centre, width, height (normalised)


@dataclass(frozen=True, slots=True)
class ImageStats:
    """One image as the trainer sees it: split (None: no splits), oriented size, the boxes it trains on."""

    split: str | None
    width: int
    height: int
    boxes: tuple[Values, ...] = ()
    rejected: bool = False


@dataclass(frozen=True, slots=True)
class HealthWarning:
    kind: str  # 'rare_class' | 'unused_class' | 'missing_in_split' | 'split_balance' | 'class_share' | ...
    message: str
    severity: Severity = Severity.WARNING
    cls: int | None = None


@dataclass(frozen=True)
class HealthStats:
    """Everything the health views plot. Per-split dicts are keyed by split name ('all' when there are none);
    arrays indexed by class id have one entry per class name."""

    names: tuple[str, ...]
    splits: tuple[str, ...]
    images: dict[str, int]
    backgrounds: dict[str, int]
    rejected: dict[str, int]
    instances: dict[str, np.ndarray]
    images_per_class: np.ndarray
    boxes_per_image: np.ndarray      # [k] = images with k boxes
    box_wh: np.ndarray               # (n, 2) normalised width, height
    box_centres: np.ndarray          # (n, 2) normalised x, y
    box_classes: np.ndarray          # (n,) class of each row of box_wh / box_centres
    centre_heatmap: np.ndarray       # (bins, bins) [y, x] counts of box centres
    image_sizes: np.ndarray          # (m, 2) width, height of readable images
    warnings: list[HealthWarning] = field(default_factory=list)

    @property
    def total_images(self) -> int:
        return sum(self.images.values())

    @property
    def total_boxes(self) -> int:
        return int(sum(v.sum() for v in self.instances.values()))

    @property
    def total_backgrounds(self) -> int:
        return sum(self.backgrounds.values())

    @property
    def aspect_ratios(self) -> np.ndarray:
        sizes = self.image_sizes
        return sizes[:, 0] / np.maximum(sizes[:, 1], 1) if len(sizes) else np.zeros(0)

    def class_totals(self) -> np.ndarray:
        return sum(self.instances.values(), np.zeros(len(self.names), dtype=np.int64))


def _split_key(split: str | None) -> str:
    return split or "all"


def compute_health(records: Iterable[ImageStats], names: Iterable[str] = (), *, min_instances: int = MIN_INSTANCES,
                   bins: int = 32) -> HealthStats:
    """Statistics and warnings for the images in `records` (class names give the class count)."""
    names = tuple(names)
    images: dict[str, int] = {}
    backgrounds: dict[str, int] = {}
    rejected: dict[str, int] = {}
    per_split: dict[str, list[int]] = {}
    present: list[set[int]] = []
    box_rows: list[Values] = []
    per_image: list[int] = []
    sizes: list[tuple[int, int]] = []
    for r in records:
        key = _split_key(r.split)
        images[key] = images.get(key, 0) + 1
        per_split.setdefault(key, [])
        backgrounds.setdefault(key, 0)
        rejected.setdefault(key, 0)
        if r.width > 0 and r.height > 0:
            sizes.append((r.width, r.height))
        if r.rejected:
            rejected[key] += 1
            continue
        boxes = r.boxes
        per_image.append(len(boxes))
        if not boxes:
            backgrounds[key] += 1
            continue
        ids = [int(b[0]) for b in boxes]
        per_split[key].extend(ids)
        present.append(set(ids))
        box_rows.extend(boxes)
    nc = max([len(names)] + [max(ids) + 1 for ids in per_split.values() if ids])
    names = names + tuple(f"class{i}" for i in range(len(names), nc))
    instances = {k: np.bincount(np.asarray(v, dtype=np.int64), minlength=nc) if v else np.zeros(nc, np.int64)
                 for k, v in per_split.items()}
    splits = tuple(sorted(images, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else 9, s)))
    per_class_images = np.zeros(nc, dtype=np.int64)
    for ids in present:
        per_class_images[list(ids)] += 1
    arr = np.asarray(box_rows, dtype=np.float64).reshape(-1, 5)
    heat, _, _ = np.histogram2d(np.clip(arr[:, 2], 0, 1), np.clip(arr[:, 1], 0, 1), bins=bins, range=[[0, 1], [0, 1]])
    stats = HealthStats(
        names=names, splits=splits, images=images, backgrounds=backgrounds, rejected=rejected,
        instances={s: instances[s] for s in splits},
        images_per_class=per_class_images,
        boxes_per_image=np.bincount(np.asarray(per_image, dtype=np.int64)) if per_image else np.zeros(1, np.int64),
        box_wh=arr[:, 3:5].copy(), box_centres=arr[:, 1:3].copy(), box_classes=arr[:, 0].astype(np.int64),
        centre_heatmap=heat.astype(np.int64),
        image_sizes=np.asarray(sizes, dtype=np.int64).reshape(-1, 2),
    )
    stats.warnings.extend(health_warnings(stats, min_instances))
    return stats


def health_warnings(stats: HealthStats, min_instances: int = MIN_INSTANCES) -> list[HealthWarning]:
    """Rare or unused classes, classes missing from a split, unbalanced splits, class imbalance, backgrounds."""
    out: list[HealthWarning] = []
    train_key = "train" if "train" in stats.instances else "all"
    train = stats.instances.get(train_key)
    if train is None:
        return out
    where = "training split" if train_key == "train" else "dataset"
    for cls, n in enumerate(train.tolist()):
        name = stats.names[cls]
        if n == 0:
            out.append(HealthWarning("unused_class", f"class '{name}' has no instances in the {where}",
                                     Severity.WARNING, cls))
        elif n < min_instances:
            out.append(HealthWarning("rare_class", f"class '{name}' has only {n} instances in the {where} "
                                     f"(the seeds advise at least {min_instances}-2000)", Severity.WARNING, cls))
    val = stats.instances.get("val")
    if val is not None and train_key == "train":
        for cls in np.flatnonzero((train > 0) & (val == 0)).tolist():
            out.append(HealthWarning("missing_in_split", f"class '{stats.names[cls]}' has no instances in val: "
                                     "its mAP cannot be measured", Severity.WARNING, cls))
        n_train, n_val = stats.images.get("train", 0), stats.images.get("val", 0)
        share = n_val / max(1, n_train + n_val)
        if not VAL_SHARE[0] <= share <= VAL_SHARE[1]:
            out.append(HealthWarning("split_balance", f"val holds {share:.0%} of the train+val images "
                                     f"({n_val} of {n_train + n_val}); 10-25 % is usual", Severity.WARNING))
        t_sum, v_sum = max(1, int(train.sum())), max(1, int(val.sum()))
        for cls in range(len(train)):
            if train[cls] < 20 or val[cls] == 0:
                continue
            ratio = (val[cls] / v_sum) / (train[cls] / t_sum)
            if ratio > SHARE_RATIO or ratio < 1 / SHARE_RATIO:
                out.append(HealthWarning(
                    "class_share", f"class '{stats.names[cls]}' is {val[cls] / v_sum:.0%} of val boxes but "
                    f"{train[cls] / t_sum:.0%} of train boxes: the splits are unbalanced", Severity.WARNING, cls))
    elif "val" not in stats.instances and train_key == "train":
        out.append(HealthWarning("split_balance", "no val split: validation needs its own images",
                                 Severity.WARNING))
    used = train[train > 0]
    if len(used) > 1 and used.max() / used.min() > IMBALANCE:
        most, least = int(np.argmax(train)), int(np.flatnonzero(train == used.min())[0])
        out.append(HealthWarning("imbalance", f"classes are unbalanced: '{stats.names[most]}' has "
                                 f"{int(train[most])} instances, '{stats.names[least]}' {int(train[least])}",
                                 Severity.INFO))
    total = stats.total_images
    if total and stats.total_backgrounds / total > BACKGROUND_SHARE:
        out.append(HealthWarning("backgrounds", f"{stats.total_backgrounds} of {total} images "
                                 f"({stats.total_backgrounds / total:.0%}) are backgrounds (no boxes); "
                                 "Ultralytics suggests 0-10 %", Severity.INFO))
    return out


def health_from_dataset(target, *, min_instances: int = MIN_INSTANCES, progress: Callable[[int, int], None] | None = None,
                        cancelled: Callable[[], bool] | None = None) -> HealthStats:
    """Read every image header and YOLO label file of a dataset (a path or a discovered Dataset) the way the
    trainer does, then `compute_health`."""
    from labeltrain.core.check.images import read_image_facts
    from labeltrain.core.check.rows import read_label
    from labeltrain.core.dataset import Dataset, discover

    dataset = target if isinstance(target, Dataset) else discover(os.fspath(target))
    nc = len(dataset.classes) if len(dataset.classes) or dataset.data_yaml is not None else None
    records = []
    total = len(dataset.items)
    for i, item in enumerate(dataset.items):
        if cancelled is not None and i % 256 == 0 and cancelled():
            break
        facts = read_image_facts(item.image)
        label = item.label or str(dataset.label_path(item.image))
        labels = read_label(label, item.image, nc)
        bad = facts.error is not None or labels.rejected
        records.append(ImageStats(item.split, facts.width, facts.height,
                                  tuple(labels.kept_values()) if not bad else (), bad))
        if progress is not None and (i % 256 == 255 or i == total - 1):
            progress(i + 1, total)
    return compute_health(records, dataset.classes, min_instances=min_instances)
