"""Backups of label files taken before a bulk rewrite (class changes), and putting them back.

`<root>/.labeltrain/backups/<YYYYmmdd-HHMMSS>/` holds the files at their paths relative to the dataset root
(files outside it below `_outside/`) and a `manifest.json`: {"root", "change", "status", "files": [[original,
relative], ...]}. Status 'started' means the rewrite may have stopped half-way (`interrupted_rewrites` finds those
to offer `restore_backup`); 'done' and 'cancelled' (everything restored) are final.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from labeltrain.core.atomic import atomic_write_bytes
from labeltrain.core.classfile import CLASSES_FILE
from labeltrain.core.project_state import sidecar_dir

__all__ = ["new_backup", "back_up", "set_status", "restore_backup", "interrupted_rewrites",
           "class_files_to_back_up"]

MANIFEST = "manifest.json"


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return Path("_outside", *path.parts[1:])


def new_backup(root: Path, kind: str, files: Sequence[Path]) -> Path:
    """Create a backup folder for `files` (status 'started'); copy them in with `back_up`."""
    base = sidecar_dir(root) / "backups" / time.strftime("%Y%m%d-%H%M%S")
    folder, n = base, 2
    while folder.exists():
        folder, n = base.with_name(f"{base.name}-{n}"), n + 1
    folder.mkdir(parents=True)
    doc = {"root": str(root), "change": kind, "status": "started",
           "files": [[str(p), _relative(p, root).as_posix()] for p in files]}
    _write_manifest(folder, doc)
    return folder


def _write_manifest(folder: Path, doc: dict) -> None:
    atomic_write_bytes(folder / MANIFEST, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))


def back_up(folder: Path, root: Path, path: Path) -> None:
    """Copy one file (content and times) into the backup folder."""
    dest = folder / _relative(path, root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, dest)


def set_status(folder: Path, status: str) -> None:
    """'done' or 'cancelled' once the rewrite has finished or been rolled back."""
    doc = json.loads((folder / MANIFEST).read_bytes())
    _write_manifest(folder, {**doc, "status": status})


def class_files_to_back_up(target: Path, data_yaml: Path | None) -> list[Path]:
    """Existing files `write_class_names(target, ...)` may rewrite."""
    txt = target / CLASSES_FILE if target.is_dir() else target
    folder = txt.parent
    candidates = [txt, folder / CLASSES_FILE, folder / "data.yaml", folder / "data.yml"]
    if data_yaml is not None:
        candidates.append(Path(data_yaml))
    out: dict[str, Path] = {}
    for p in candidates:
        if p.is_file():
            out.setdefault(os.path.abspath(p), p)
    return list(out.values())


def restore_backup(folder: str | os.PathLike[str], only: Sequence[Path] | None = None) -> list[Path]:
    """Put the files of a backup folder back where they were (all, or those in `only`); return them."""
    doc = json.loads((Path(folder) / MANIFEST).read_bytes())
    wanted = {os.path.abspath(p) for p in only} if only is not None else None
    restored = []
    for original, rel in doc["files"]:
        if wanted is not None and os.path.abspath(original) not in wanted:
            continue
        atomic_write_bytes(original, (Path(folder) / rel).read_bytes())
        restored.append(Path(original))
    return restored


def interrupted_rewrites(root: str | os.PathLike[str]) -> list[Path]:
    """Backup folders of class changes that never finished (the dataset may hold a mix of old and new ids)."""
    out = []
    for manifest in sorted((sidecar_dir(root) / "backups").glob(f"*/{MANIFEST}")):
        try:
            if json.loads(manifest.read_bytes()).get("status") == "started":
                out.append(manifest.parent)
        except (OSError, ValueError):
            continue
    return out
