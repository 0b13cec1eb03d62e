"""Training tests: an isolated labeltrain data home (Ultralytics settings and fonts) and a tiny dataset."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.training.synthetic import make_dataset


@pytest.fixture(scope="session", autouse=True)
def _isolated_data_home(tmp_path_factory: pytest.TempPathFactory):
    """Children inherit this: their YOLO_CONFIG_DIR goes to a temporary folder, never the user's."""
    old = os.environ.get("LABELTRAIN_DATA_DIR")
    os.environ["LABELTRAIN_DATA_DIR"] = str(tmp_path_factory.mktemp("labeltrain-home"))
    yield
    if old is None:
        os.environ.pop("LABELTRAIN_DATA_DIR", None)
    else:
        os.environ["LABELTRAIN_DATA_DIR"] = old


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 generated images (12 train, 4 val) of two classes; returns the data.yaml path."""
    return make_dataset(tmp_path_factory.mktemp("tiny-dataset"))
