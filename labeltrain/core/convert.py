"""Format conversion (`labeltrain convert`): read any dataset through the registry, write another format.

Output layout under DST:
- per-image formats (yolo, voc, labelme): `DST/labels/<image path below the source root>.<ext>`;
  YOLO also writes `DST/labels/classes.txt` and `DST/data.yaml`;
- collection formats (coco, createml): one JSON file in DST.
Images are referenced where they are; with `copy_images` they are copied to `DST/images/...` so that the
result is a self-contained dataset in the trainer's images/ -> labels/ layout.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from labeltrain.core import formats
from labeltrain.core.dataset import Dataset, discover, load_annotation
from labeltrain.core.datayaml import write_data_yaml
from labeltrain.core.model import Annotation, ClassNames
from labeltrain.core.problems import ProblemList, Severity


@dataclass
class ConvertReport:
    source: Dataset
    target_format: str
    images: int = 0
    boxes: int = 0
    written: list[Path] = field(default_factory=list)
    problems: ProblemList = field(default_factory=ProblemList)


def read_all(dataset: Dataset, progress: Callable[[int, int], None] | None = None
             ) -> tuple[list[Annotation], ClassNames, ProblemList]:
    """Every annotation of the dataset (unreadable images are skipped and reported)."""
    annotations: list[Annotation] = []
    problems = ProblemList(dataset.problems)
    classes = dataset.classes
    total = len(dataset.items)
    for i, item in enumerate(dataset.items):
        result = load_annotation(dataset, item)
        problems.extend(result.problems)
        if len(result.classes) > len(classes):
            classes = result.classes
        annotations.extend(result.annotations)
        if progress is not None:
            progress(i + 1, total)
    max_id = max((b.cls for a in annotations for b in a.boxes), default=-1)
    if max_id >= len(classes):
        classes = classes.extended_to(max_id + 1)
        problems.add(None, f"class ids up to {max_id} are used but only {len(dataset.classes)} class names are "
                           f"known; missing names were written as class<N>", severity=Severity.WARNING,
                     rule="convert.classes")
    return annotations, classes, problems


def convert(src: str | Path, dst: str | Path, to: str, *, source_format: str | None = None,
            classes_file: Path | None = None, images_dir: Path | None = None, copy_images: bool = False,
            progress: Callable[[int, int], None] | None = None) -> ConvertReport:
    """Convert the dataset at `src` (folder, data.yaml or COCO JSON) to format `to` under `dst`."""
    target = formats.get(to)
    if source_format is not None:
        formats.get(source_format)  # validates the name early
    dataset = discover(Path(src), classes_file=classes_file, label_format=source_format, images_dir=images_dir)
    if not dataset.items:
        reasons = "; ".join(p.message for p in dataset.problems.errors()) or "no images found"
        raise ValueError(f"{src}: {reasons}")
    annotations, classes, problems = read_all(dataset, progress)
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    image_root = common_image_root(annotations, dataset.root)
    report = ConvertReport(dataset, to, problems=problems)
    if copy_images:
        annotations = _copy_images(annotations, image_root, dst / "images", report)
        image_root = dst / "images"
    label_dir = dst if target.dataset_file else dst / "labels"
    options = formats.WriteOptions(image_root=image_root, label_dir=label_dir)
    report.written = target.write_dataset(annotations, classes, options)
    report.images = len(annotations)
    report.boxes = sum(len(a.boxes) for a in annotations)
    if to == "yolo":
        yaml_path = dst / "data.yaml"
        write_data_yaml(yaml_path, image_root, {"train": str(image_root), "val": str(image_root)}, classes)
        report.written.append(yaml_path)
        if not copy_images:
            report.problems.add(None, "labels were written under DST/labels while the images stay where they are; "
                                      "the trainer looks for labels in the images' own labels/ folder — use "
                                      "--copy-images for a trainable dataset", severity=Severity.INFO,
                                rule="convert.layout")
    return report


def common_image_root(annotations: list[Annotation], default: Path) -> Path:
    """The deepest folder holding every image: output mirrors the images' paths below it, so
    `root/images/train/a.jpg` becomes `DST/images/train/a.jpg` with its label in `DST/labels/train/a.txt`."""
    folders = {os.path.dirname(os.path.abspath(a.image_path)) for a in annotations}
    if not folders:
        return default
    return Path(os.path.commonpath(sorted(folders)))


def _copy_images(annotations: list[Annotation], root: Path, dest: Path, report: ConvertReport) -> list[Annotation]:
    copied = []
    root = root.resolve()
    for ann in annotations:
        src = ann.image_path.resolve()
        try:
            rel = src.relative_to(root)
        except ValueError:
            rel = Path(src.name)
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(src, target)
        except OSError as exc:
            report.problems.add(src, f"cannot copy image: {exc}", rule="convert.copy")
            continue
        copied.append(replace(ann, image_path=target))
    return copied
