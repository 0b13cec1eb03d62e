"""The contract every label format implements, and the small helpers they share.

Two kinds of format:
- per-image formats (YOLO txt, Pascal VOC XML, labelme JSON, LabelImg's CreateML JSON) keep one label file
  beside/for each image: `label_path`, `read_file`, `write_file`;
- collection formats (COCO JSON, CreateML JSON with many images) keep one file for many images:
  `read_collection`, and `write_dataset` writes that single file.
Every format implements `write_dataset` (used by `labeltrain convert`) and `detect`.

Readers are tolerant: they return every box they could read plus a list of Problems (file + line or
JSON/XML path). They never raise on bad content; they only raise for programming errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from labeltrain.core.images import ImageReadError, image_size
from labeltrain.core.model import Annotation, ClassNames
from labeltrain.core.problems import ProblemList

SizeFn = Callable[[Path], "tuple[int, int] | None"]


def header_size(path: Path) -> tuple[int, int] | None:
    """Default SizeFn: oriented image size from the header, None if the image cannot be read."""
    try:
        return image_size(path)
    except (ImageReadError, OSError):
        return None


@dataclass
class ReadResult:
    """What a reader found: annotations (pixel coordinates), the classes it knows, and problems."""

    annotations: list[Annotation] = field(default_factory=list)
    classes: ClassNames = field(default_factory=ClassNames)
    problems: ProblemList = field(default_factory=ProblemList)

    def extend(self, other: ReadResult) -> None:
        self.annotations.extend(other.annotations)
        self.problems.extend(other.problems)


@dataclass(frozen=True)
class WriteOptions:
    """How `write_dataset` lays out its output.

    `image_root`: images' paths are written relative to it (COCO file_name, CreateML image, VOC path);
    `label_dir`: for per-image formats, where label files go (mirroring the images' paths below image_root).
    """

    image_root: Path
    label_dir: Path


class LabelFormat:
    """Base class of a registered format. Subclasses set the class attributes and override methods."""

    name: str = ""
    title: str = ""
    suffix: str = ""
    per_image: bool = True
    can_write_per_image: bool = True
    dataset_file: str | None = None  # set when write_dataset writes one file for all images (COCO, CreateML)

    # --- per-image API (editor) -------------------------------------------------------------------------
    def label_path(self, image: Path, label_dir: Path | None = None) -> Path:
        """Where the label file of `image` lives: beside it, or in `label_dir` with the same stem."""
        folder = label_dir if label_dir is not None else image.parent
        return folder / (image.stem + self.suffix)

    def read_file(self, label_path: Path, image: Path, classes: ClassNames,
                  size_fn: SizeFn = header_size) -> ReadResult:
        """Read the labels of one image. A missing label file is an empty annotation, not a problem."""
        raise NotImplementedError(f"{self.name} has no per-image reader")

    def write_file(self, label_path: Path, annotation: Annotation, classes: ClassNames,
                   *, allow_clear: bool = False) -> None:
        """Atomically write the labels of one image. Refuses (EmptyOverwriteError) to replace a file that
        has boxes with one that has none unless `allow_clear` (the user deleted the boxes)."""
        raise NotImplementedError(f"{self.name} has no per-image writer")

    # --- collection API -----------------------------------------------------------------------------------
    def read_collection(self, path: Path, image_root: Path | None, classes: ClassNames,
                        size_fn: SizeFn = header_size) -> ReadResult:
        """Read a file that holds labels of many images (COCO, CreateML)."""
        raise NotImplementedError(f"{self.name} is not a collection format")

    def detect(self, path: Path) -> bool:
        """True if `path` (a label file) looks like this format. Cheap: peek, don't parse everything."""
        return path.suffix.lower() == self.suffix

    # --- conversion ----------------------------------------------------------------------------------------
    def write_dataset(self, annotations: Sequence[Annotation], classes: ClassNames,
                      options: WriteOptions) -> list[Path]:
        """Write all annotations; return the files written. Per-image formats write one file per image
        (images without boxes get an empty file so they stay negatives) plus the class list they need."""
        written: list[Path] = []
        for ann in annotations:
            target = self.label_path_in(options, ann.image_path)
            self.write_file(target, ann, classes, allow_clear=True)
            written.append(target)
        return written

    def label_path_in(self, options: WriteOptions, image: Path) -> Path:
        """Label path for `image` under `options.label_dir`, mirroring its path below image_root."""
        try:
            rel = image.resolve().relative_to(options.image_root.resolve())
        except ValueError:
            rel = Path(image.name)
        return options.label_dir / rel.parent / (image.stem + self.suffix)


def finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def fmt_num(value: float, decimals: int = 10) -> str:
    """Shortest decimal text of `value` rounded to `decimals` places: 0.5 -> '0.5', 3.0 -> '3'.

    Reading a file written with at most `decimals` places and writing it again gives the same text.
    """
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text
