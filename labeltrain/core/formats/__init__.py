"""Label formats behind one registry: `get("yolo")`, `all_formats()`, `detect_file(path)`.

Each format lives in its own module and registers itself with `@register`. Add a format by writing a
module with a `LabelFormat` subclass and adding its name to `_MODULES`; no if-chains elsewhere.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from labeltrain.core.formats.base import LabelFormat, ReadResult, WriteOptions, header_size

__all__ = ["LabelFormat", "ReadResult", "WriteOptions", "header_size", "register", "get", "names",
           "all_formats", "detect_file", "UnknownFormatError"]

_MODULES = ("yolo", "voc", "coco", "createml", "labelme")
_REGISTRY: dict[str, LabelFormat] = {}
_loaded = False


class UnknownFormatError(KeyError):
    pass


def register(cls: type[LabelFormat]) -> type[LabelFormat]:
    """Class decorator: add one instance of the format to the registry under `cls.name`."""
    _REGISTRY[cls.name] = cls()
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in _MODULES:
            importlib.import_module(f"{__name__}.{mod}")


def get(name: str) -> LabelFormat:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownFormatError(f"unknown label format {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    _load()
    return list(_REGISTRY)


def all_formats() -> list[LabelFormat]:
    _load()
    return list(_REGISTRY.values())


def detect_file(path: Path) -> LabelFormat | None:
    """The format a label file is in (by suffix, then by a cheap peek), or None."""
    for fmt in all_formats():
        if fmt.detect(path):
            return fmt
    return None
