"""Crash-safe file writes: temp file in the same folder, flush + fsync, atomic rename.

A crash at any moment leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class EmptyOverwriteError(RuntimeError):
    """Refused to replace a non-empty file with an empty one (the user did not ask to clear it)."""


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, refuse_empty_over_content: bool = False) -> None:
    """Write `data` to `path` atomically, creating parent folders.

    With `refuse_empty_over_content`, writing empty (or whitespace-only) data over a file that has content
    raises EmptyOverwriteError instead: a guard against silently destroying labels.
    """
    path = Path(path)
    if refuse_empty_over_content and not data.strip() and path.exists():
        try:
            if path.read_bytes().strip():
                raise EmptyOverwriteError(f"{path}: refusing to replace a non-empty file with an empty one")
        except OSError:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = None
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, refuse_empty_over_content: bool = False) -> None:
    """Text variant of atomic_write_bytes (UTF-8, '\\n' line endings)."""
    atomic_write_bytes(path, text.encode("utf-8"), refuse_empty_over_content=refuse_empty_over_content)

