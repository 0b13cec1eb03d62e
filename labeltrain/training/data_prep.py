"""The data.yaml a run trains on: the user's own, or a split of a dataset folder written into the run folder
(the user's folder is left untouched)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DATA_SUBDIR = "data"  # <run dir>/data/{data.yaml,train.txt,val.txt} for folder datasets


@dataclass(frozen=True)
class PreparedData:
    yaml_path: Path
    notes: list[str] = field(default_factory=list)  # what was split / excluded, for the log


def prepared_yaml(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / DATA_SUBDIR / "data.yaml"


def prepare_data(data: str | os.PathLike[str], run_dir: str | os.PathLike[str], val: float = 0.2,
                 seed: int = 0) -> PreparedData:
    """A data.yaml path for `data`: a .yaml as it is, a folder's own data.yaml, or a seeded stratified split of
    a folder (discovered like the GUI does) written to <run dir>/data."""
    path = Path(data).expanduser().absolute()
    if path.is_file():
        return PreparedData(path)
    if not path.is_dir():
        raise FileNotFoundError(f"data not found: {data}")
    for name in ("data.yaml", "data.yml"):
        if (path / name).is_file():
            return PreparedData(path / name)
    from labeltrain.core.dataset import discover
    from labeltrain.core.split import make_split, write_split

    dataset = discover(path)
    if not dataset.items:
        raise FileNotFoundError(f"no images found in {path}")
    splits = make_split(dataset, val=val, seed=seed)
    out = prepared_yaml(run_dir).parent
    yaml_path = write_split(dataset, splits, out)
    counts = ", ".join(f"{len(v)} {k}" for k, v in splits.items() if v)
    notes = [f"split {len(dataset.items)} images of {path} into {counts} (seed {seed}): {yaml_path}"]
    notes += [str(p) for p in dataset.problems[:20]]
    return PreparedData(yaml_path, notes)
