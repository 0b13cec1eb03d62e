"""The wheel carries the package and the bundled resources (icons, sample project) as labeltrain/resources."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pytest.importorskip("build")
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                           str(REPO)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob("labeltrain-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as zf:
        return set(zf.namelist())


def test_wheel_has_package_modules(wheel_names: set[str]) -> None:
    for module in ("labeltrain/__init__.py", "labeltrain/__main__.py", "labeltrain/cli.py",
                   "labeltrain/core/model.py", "labeltrain/core/formats/yolo.py", "labeltrain/core/resources.py"):
        assert module in wheel_names, module
    # every module of the source tree is in the wheel
    for path in (REPO / "labeltrain").rglob("*.py"):
        assert path.relative_to(REPO).as_posix() in wheel_names, path


def test_wheel_has_resources(wheel_names: set[str]) -> None:
    assert "labeltrain/resources/sample/classes.txt" in wheel_names
    assert "labeltrain/resources/sample/mistakes.json" in wheel_names
    assert "labeltrain/resources/icons/labeltrain.svg" in wheel_names
    assert "labeltrain/resources/icons/labeltrain-256.png" in wheel_names
    images = [n for n in wheel_names if n.startswith("labeltrain/resources/sample/images/") and n.endswith(".jpg")]
    labels = [n for n in wheel_names if n.startswith("labeltrain/resources/sample/labels/") and n.endswith(".txt")]
    assert "labeltrain/resources/sample/images/sample_0001.jpg" in images
    assert "labeltrain/resources/sample/labels/sample_0001.txt" in labels
    assert len(images) == len(list((REPO / "resources/sample/images").glob("*.jpg")))
    assert len(labels) == len(list((REPO / "resources/sample/labels").glob("*.txt")))


def test_wheel_has_entry_points(wheel_names: set[str]) -> None:
    assert any(n.endswith(".dist-info/entry_points.txt") for n in wheel_names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in wheel_names)
