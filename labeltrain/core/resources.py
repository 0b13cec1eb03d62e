"""Where the bundled resources (icons, sample project) are: `<repo>/resources` in a source checkout,
`labeltrain/resources` inside an installed wheel, `sys._MEIPASS/resources` in a PyInstaller bundle."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    here = Path(__file__).resolve().parent.parent  # the labeltrain package
    candidates = [here / "resources", here.parent / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "resources")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource, e.g. resource_path("icons", "labeltrain.svg")."""
    return resources_dir().joinpath(*parts)
