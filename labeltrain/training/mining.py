"""Label-error mining: rank a dataset's images by how much a trained detector disputes their labels (issue #6).

Two ways to get the predictions, both scored by labeltrain.core.disputes (formulas in its docstring):

- k-fold (out-of-sample, the honest one): the images are dealt into k folds (seeded, stratified by each
  image's rarest class); k models are trained with labeltrain's engine (TrainingRun, a child process each),
  model f on every fold but f, and each image is predicted by the one model that never saw it. The held-out
  fold is that model's validation set, so its labels choose nothing either: predictions use weights/last.pt,
  not best.pt, and per-epoch validation is off (`val=False`; Ultralytics still validates once at the end, which
  gives each fold's mAP50). Costs k trainings on (k-1)/k of the images.
- in-sample: one given model (.pt or .onnx) predicts every image. If it was trained on these images it has
  learnt their mistakes (a swapped class it memorised, an object it was taught is background), so it
  under-reports exactly the errors one looks for; the result says "in-sample" and carries that note.

    result = mine("dataset/", folds=3, config=defaults_for_sample(), progress=..., cancelled=...)
    result = mine("dataset/", weights="runs/train/weights/best.pt")
    for image in result.disputed(): image.image, image.score, image.disputes[0].box_index, .message

`progress(done, total, text)` counts training epochs (k-fold) plus predicted images; `cancelled()` is polled
about ten times a second and stops the running training (MiningCancelled is raised).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labeltrain.core.dataset import Dataset, ImageItem, discover, load_annotation, natural_sorted
from labeltrain.core.disputes import (
    DEFAULT_THRESHOLDS,
    RESULT_FILE,
    Calibration,
    ImageDisputes,
    MiningResult,
    Thresholds,
    calibrate,
    image_score,
    rank_images,
    score_image,
)
from labeltrain.core.images import ImageReadError, read_image
from labeltrain.core.split import image_classes, trainer_label_problems, write_split
from labeltrain.training.config import TrainConfig
from labeltrain.training.events import EpochEnd, Failed, FinalEval, Finished
from labeltrain.training.runner import TrainingRun
from labeltrain.training.runs import new_run_dir

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]
IN_SAMPLE_NOTE = ("in-sample: the model predicted images it has probably trained on; it has learnt their "
                  "mistakes (a swapped class it memorised, an unlabelled object it was taught is background) and "
                  "under-reports them. Use k-fold (--folds K) for an out-of-sample queue.")
NMS_IOU = 0.7  # the detector's own NMS (one-to-many heads); Ultralytics' predict default


class MiningCancelled(Exception):
    """`cancelled()` returned True; the running training was stopped."""


class MiningError(RuntimeError):
    """Mining could not be done (no images, a fold training failed...); the message says why."""


@dataclass(frozen=True)
class _Labelled:
    item: ImageItem
    labels: np.ndarray  # (N, 5) cls, x1, y1, x2, y2 in the editor's box order
    error: str | None


def load_labels(dataset: Dataset) -> list[_Labelled]:
    """Every image once (display order) with its boxes as the editor lists them."""
    out: list[_Labelled] = []
    seen: set[str] = set()
    for item in dataset.items:
        if item.image in seen:
            continue
        seen.add(item.image)
        result = load_annotation(dataset, item)
        boxes = result.annotations[0].boxes if result.annotations else ()
        rows = np.array([(b.cls, b.x1, b.y1, b.x2, b.y2) for b in boxes], dtype=np.float64).reshape(-1, 5)
        error = None if result.annotations else "; ".join(str(p) for p in result.problems) or "unreadable"
        out.append(_Labelled(item, rows, error))
    return out


def _key(seed: int, rel: str) -> bytes:
    return hashlib.blake2b(f"mine\0{seed}\0{rel}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


def assign_folds(dataset: Dataset, k: int, seed: int = 0) -> list[list[str]]:
    """k lists of image paths (natural order inside each). Images are grouped by their rarest class (images
    without boxes form a group), shuffled by a keyed hash of their path below the root and the seed, and dealt
    round robin across all groups in turn, so every fold gets its share of each class and sizes differ by <= 1.
    Same seed and images -> same folds, whatever order they are listed in."""
    if k < 2:
        raise ValueError("k-fold mining needs at least 2 folds")
    images = sorted({item.image for item in dataset.items})
    if len(images) < k:
        raise ValueError(f"{len(images)} images cannot be dealt into {k} folds")
    items = {item.image: item for item in dataset.items}
    classes = {img: image_classes(dataset, items[img]) for img in images}
    freq: dict[int, int] = {}
    for cs in classes.values():
        for c in cs:
            freq[c] = freq.get(c, 0) + 1
    groups: dict[int, list[str]] = {}
    for img in images:
        cs = classes[img]
        groups.setdefault(min(cs, key=lambda c: (freq[c], c)) if cs else -1, []).append(img)
    root = str(dataset.root)
    folds: list[list[str]] = [[] for _ in range(k)]
    turn = 0
    for group in sorted(groups):
        for img in sorted(groups[group], key=lambda p: _key(seed, os.path.relpath(p, root).replace(os.sep, "/"))):
            folds[turn % k].append(img)
            turn += 1
    return [natural_sorted(f) for f in folds]


def _report(progress: Progress | None, done: int, total: int, text: str) -> None:
    if progress is not None:
        progress(done, total, text)


def train_model(config: TrainConfig, dataset: Dataset, train: Sequence[str], val: Sequence[str], project: Path,
                name: str, *, progress: Callable[[int, str], None] | None = None,
                cancelled: Cancelled | None = None) -> tuple[Path, float, float]:
    """Train one model on `train` (validating on `val`) with labeltrain's engine, in project/name.
    Returns (weights/last.pt, final mAP50 or NaN, seconds). `progress(epoch, text)` after every epoch."""
    data_yaml = write_split(dataset, {"train": list(train), "val": list(val)}, project / "data" / name)
    run = TrainingRun()
    start = time.monotonic()
    run_dir = run.start(config.with_changes(data=str(data_yaml), project=str(project), name=name))
    map50 = math.nan
    while run.is_running:
        for event in run.poll():
            if isinstance(event, EpochEnd) and progress is not None:
                progress(event.epoch, f"{name}: epoch {event.epoch}/{event.epochs}")
            elif isinstance(event, FinalEval):
                map50 = event.map50
        if cancelled is not None and cancelled():
            run.stop(force_after=10)
            run.wait(timeout=60)
            run.kill()
            raise MiningCancelled(f"cancelled while training {name}")
        time.sleep(0.1)
    result = run.result
    if isinstance(result, Failed):
        raise MiningError(f"training {name} failed ({result.kind}): {result.message} (log: {run.log_path})")
    last = run_dir / "weights" / "last.pt"
    if not isinstance(result, Finished) or not last.is_file():
        raise MiningError(f"training {name} did not finish (log: {run.log_path})")
    if math.isnan(map50):
        map50 = result.map50
    return last, map50, time.monotonic() - start


def predict(weights: str | os.PathLike[str], images: Sequence[str], conf_low: float, *,
            progress: Callable[[int, str], None] | None = None, cancelled: Cancelled | None = None) -> dict[str, np.ndarray | str]:
    """Image path -> (K, 6) detections (x1, y1, x2, y2, score, class) at `conf_low`, or an error message.
    Images are read as the trainer reads them (EXIF orientation applied), so boxes are in the labels' pixels."""
    from labeltrain.training.detectors import open_detector

    detector = open_detector(weights)
    out: dict[str, np.ndarray | str] = {}
    for i, image in enumerate(images):
        if cancelled is not None and cancelled():
            raise MiningCancelled("cancelled while predicting")
        try:
            out[image] = np.asarray(detector.detect(read_image(image), conf=conf_low, iou=NMS_IOU), np.float64)
        except ImageReadError as exc:
            out[image] = f"cannot read the image: {exc}"
        if progress is not None:
            progress(i + 1, Path(image).name)
    return out


def score_dataset(labelled: Sequence[_Labelled], predictions: dict[str, np.ndarray | str],
                  names: Sequence[str], thresholds: Thresholds,
                  fold_of: dict[str, int] | None = None) -> tuple[tuple[ImageDisputes, ...], Calibration]:
    """The ranked queue and the calibration (computed over every image that has predictions)."""
    pairs = [(lab.labels, predictions[lab.item.image]) for lab in labelled
             if lab.error is None and not isinstance(predictions.get(lab.item.image, ""), str)]
    calibration = calibrate(pairs, thresholds)
    images: list[ImageDisputes] = []
    for lab in labelled:
        image = lab.item.image
        pred = predictions.get(image, "not predicted")
        fold = fold_of.get(image) if fold_of else None
        error = lab.error or (pred if isinstance(pred, str) else None)
        if error is not None or isinstance(pred, str):
            images.append(ImageDisputes(image, lab.item.label, 0.0, (), len(lab.labels), 0, fold, error))
            continue
        disputes = score_image(lab.labels, pred, names, thresholds, calibration)
        kept = int((pred[:, 4] >= thresholds.conf_low).sum()) if len(pred) else 0
        images.append(ImageDisputes(image, lab.item.label, image_score(disputes), disputes, len(lab.labels), kept,
                                    fold))
    return rank_images(images), calibration


def _notes(calibration: Calibration, first: str) -> tuple[str, ...]:
    notes = [first, f"calibration: the model overlaps {calibration.recall:.0%} of the labelled boxes; its typical "
                    f"confidence on the ones it finds is {calibration.typical:.2f}; confident means >= "
                    f"{calibration.conf:.3g}"]
    if calibration.recall < 0.5 or calibration.typical < 0.05:
        notes.append("the model finds few labelled objects or only with very low confidence: its disputes are weak "
                     "evidence (train longer or on more images)")
    return tuple(notes)


def _dataset(data: str | os.PathLike[str]) -> Dataset:
    dataset = discover(Path(data))
    if not dataset.items:
        raise MiningError(f"no images found in {data}")
    return dataset


def mine_with_model(data: str | os.PathLike[str], weights: str | os.PathLike[str], *,
                    thresholds: Thresholds = DEFAULT_THRESHOLDS,
                    progress: Progress | None = None, cancelled: Cancelled | None = None) -> MiningResult:
    """In-sample mining: `weights` (.pt or .onnx) predicts every image of `data` (see IN_SAMPLE_NOTE)."""
    start = time.monotonic()
    dataset = _dataset(data)
    labelled = load_labels(dataset)
    images = [lab.item.image for lab in labelled]
    preds = predict(weights, images, thresholds.conf_low, cancelled=cancelled,
                    progress=lambda i, text: _report(progress, i, len(images), f"predicting {text}"))
    names = tuple(dataset.classes.names)
    queue, calibration = score_dataset(labelled, preds, names, thresholds)
    return MiningResult(str(Path(data).absolute()), "in-sample", 1, 0, (str(Path(weights).absolute()),), thresholds,
                        names, calibration, queue, _notes(calibration, IN_SAMPLE_NOTE), 0.0,
                        time.monotonic() - start, time.time())


def mine_kfold(data: str | os.PathLike[str], folds: int = 3, config: TrainConfig | None = None, *,
               thresholds: Thresholds = DEFAULT_THRESHOLDS, seed: int = 0,
               work_dir: str | os.PathLike[str] | None = None, progress: Progress | None = None,
               cancelled: Cancelled | None = None) -> MiningResult:
    """Out-of-sample mining with `folds` models trained with `config` (its data, project and name are set
    here; default TrainConfig()). The folds train in `work_dir` (default <dataset>/runs/mine, mine2, ...),
    where the result is saved as mining.json too."""
    start = time.monotonic()
    dataset = _dataset(data)
    config = config or TrainConfig()
    extra = {"val": False, "plots": False, **config.extra}  # validate once at the end; no plots to draw
    config = config.with_changes(extra=extra)
    problems = config.with_changes(data=str(Path(data).absolute())).validate(check_files=False)
    if problems:
        raise MiningError("; ".join(problems))
    unusable = [p.message for p in trainer_label_problems(dataset)
                if p.rule in ("split.label_format", "split.label_location")]
    if unusable:
        raise MiningError(f"k-fold mining trains on these labels, but {unusable[0]}")
    parts = assign_folds(dataset, folds, seed)
    labelled = load_labels(dataset)
    project = Path(work_dir) if work_dir else new_run_dir(TrainConfig(data=str(data)).default_project(), "mine")
    project = project.absolute()
    total = folds * config.epochs + len(labelled)
    done = 0
    preds: dict[str, np.ndarray | str] = {}
    fold_of: dict[str, int] = {}
    models: list[str] = []
    fold_map50: list[float] = []
    train_seconds = 0.0
    for f, held_out in enumerate(parts):
        train = [img for g, part in enumerate(parts) if g != f for img in part]
        base = done

        def on_epoch(epoch: int, text: str, base: int = base) -> None:
            _report(progress, base + epoch, total, text)

        _report(progress, done, total, f"fold {f + 1}/{folds}: training on {len(train)} images")
        weights, map50, seconds = train_model(config, dataset, train, held_out, project, f"fold{f + 1}",
                                              progress=on_epoch, cancelled=cancelled)
        done = base + config.epochs
        train_seconds += seconds
        models.append(str(weights))
        fold_map50.append(map50)
        base = done
        preds.update(predict(weights, held_out, thresholds.conf_low, cancelled=cancelled,
                             progress=lambda i, text, base=base, f=f: _report(
                                 progress, base + i, total, f"fold {f + 1}/{folds}: predicting {text}")))
        done = base + len(held_out)
        fold_of.update(dict.fromkeys(held_out, f + 1))
    names = tuple(dataset.classes.names)
    queue, calibration = score_dataset(labelled, preds, names, thresholds, fold_of)
    note = (f"k-fold: {folds} models ({Path(config.model).name}, {config.epochs} epochs at {config.imgsz} px), "
            f"each trained on {folds - 1}/{folds} of the images; every image was predicted by the model that "
            f"did not train on it (weights/last.pt, seed {seed})")
    result = MiningResult(str(Path(data).absolute()), "k-fold", folds, seed, tuple(models), thresholds, names,
                          calibration, queue, _notes(calibration, note), round(train_seconds, 1),
                          time.monotonic() - start, time.time(),
                          tuple(fold_map50), str(project))
    result.save(project / RESULT_FILE)
    return result


def result_path(weights: str | os.PathLike[str]) -> Path:
    """Where a given model's mining result goes: <run dir>/mining.json for <run dir>/weights/x.pt, else
    beside the model file (<model>.mining.json)."""
    weights = Path(weights).absolute()
    if weights.parent.name == "weights":
        return weights.parent.parent / RESULT_FILE
    return weights.with_name(weights.name + "." + RESULT_FILE)


def mine(data: str | os.PathLike[str], *, weights: str | os.PathLike[str] | None = None, folds: int | None = None,
         config: TrainConfig | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS, seed: int = 0,
         work_dir: str | os.PathLike[str] | None = None, out: str | os.PathLike[str] | None = None,
         progress: Progress | None = None, cancelled: Cancelled | None = None) -> MiningResult:
    """Mine `data` with a given model (in-sample) or with `folds` models trained here (k-fold, default 3), and
    save the result to `out` when given (k-fold also saves it in its work folder; result_path(weights) is the
    place next to a given model's run). Raises MiningError (with a reason), MiningCancelled, or ValueError."""
    if weights is not None and folds is not None:
        raise ValueError("give either weights (in-sample) or folds (k-fold), not both")
    problems = thresholds.problems()
    if problems:
        raise ValueError("; ".join(problems))
    if weights is not None:
        result = mine_with_model(data, weights, thresholds=thresholds, progress=progress, cancelled=cancelled)
    else:
        result = mine_kfold(data, folds or 3, config, thresholds=thresholds, seed=seed, work_dir=work_dir,
                            progress=progress, cancelled=cancelled)
    if out is not None:
        result.save(out)
    return result
