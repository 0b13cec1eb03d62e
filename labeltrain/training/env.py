"""Offline-safe environment for Ultralytics: must be applied BEFORE `import ultralytics`.

Ultralytics reads its switches from the environment at import time: YOLO_OFFLINE skips the online probe,
YOLO_AUTOINSTALL=false forbids run-time pip installs, YOLO_CONFIG_DIR moves settings.json and fonts to a folder
labeltrain owns. Its plot code wants Arial.ttf (and Arial.Unicode.ttf for non-ASCII class names) and downloads
them when missing, so a local TTF (matplotlib's DejaVuSans) is copied there under those names.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from labeltrain.core.sample import data_home

FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")


def ultralytics_config_dir() -> Path:
    """The app-owned YOLO_CONFIG_DIR: <labeltrain data home>/ultralytics ($LABELTRAIN_DATA_DIR honoured)."""
    return data_home() / "ultralytics"


def environment(online: bool = False, config_dir: Path | None = None) -> dict[str, str]:
    """The variables labeltrain sets for Ultralytics (to merge into os.environ or a child's env)."""
    return {
        "YOLO_OFFLINE": "0" if online else "1",
        "YOLO_AUTOINSTALL": "false",
        "YOLO_CONFIG_DIR": str(config_dir or ultralytics_config_dir()),
    }


def _local_font() -> Path | None:
    """DejaVuSans.ttf shipped with matplotlib (an Ultralytics dependency), found without importing pyplot."""
    try:
        import matplotlib
    except ImportError:
        return None
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return font if font.is_file() else None


def install_fonts(config_dir: Path) -> None:
    """Copy a local TTF to <config_dir>/Ultralytics/Arial*.ttf so plotting never tries to download a font."""
    target = config_dir / "Ultralytics"
    missing = [name for name in FONT_NAMES if not (target / name).is_file()]
    if not missing:
        return
    source = _local_font()
    if source is None:
        return  # plots then fall back to PIL's default font once the download fails offline
    target.mkdir(parents=True, exist_ok=True)
    for name in missing:
        tmp = target / f".{name}.partial"
        shutil.copyfile(source, tmp)
        os.replace(tmp, target / name)


def prepare_environment(online: bool = False, config_dir: Path | None = None) -> dict[str, str]:
    """Set the Ultralytics variables in os.environ and install the plot fonts; returns the variables set.
    Call before the first `import ultralytics` in the process (later calls cannot change what it read)."""
    env = environment(online, config_dir)
    os.environ.update(env)
    cfg = Path(env["YOLO_CONFIG_DIR"])
    cfg.mkdir(parents=True, exist_ok=True)
    install_fonts(cfg)
    return env


def disable_settings_sync() -> None:
    """Turn off Ultralytics' analytics sync (persisted in its settings.json); imports ultralytics."""
    from ultralytics import settings

    if settings.get("sync", True):
        settings.update({"sync": False})
