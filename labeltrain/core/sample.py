"""The bundled sample project, copied to a writable place on first use so edits never touch the install."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from labeltrain.core.resources import resource_path


def data_home() -> Path:
    """labeltrain's per-user data folder ($LABELTRAIN_DATA_DIR, else $XDG_DATA_HOME/labeltrain)."""
    override = os.environ.get("LABELTRAIN_DATA_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "labeltrain"


def ensure_sample_project(dest: Path | None = None) -> Path:
    """Copy resources/sample to `dest` (default: <data home>/sample-project) unless it is already there."""
    source = resource_path("sample")
    if not source.is_dir():
        raise FileNotFoundError(f"the bundled sample project is missing: {source}")
    dest = dest or data_home() / "sample-project"
    if not (dest / "classes.txt").exists():
        tmp = dest.with_name(dest.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    return dest
