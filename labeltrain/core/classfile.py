"""classes.txt: one class name per line, class id = line number - 1 (LabelImg / Darknet convention)."""

from __future__ import annotations

from pathlib import Path

from labeltrain.core.atomic import atomic_write_text
from labeltrain.core.model import ClassNames
from labeltrain.core.problems import ProblemList, Severity

CLASSES_FILE = "classes.txt"


def read_classes_txt(path: Path) -> tuple[ClassNames, ProblemList]:
    """Read classes.txt tolerantly (BOM, CRLF, trailing blank lines). Blank lines inside the list keep their
    id as `class<i>` so later ids do not shift; duplicates are reported."""
    problems = ProblemList()
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        problems.add(path, f"cannot read class list: {exc}")
        return ClassNames(), problems
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(lines):
        name = raw.strip()
        if not name:
            name = f"class{i}"
            problems.add(path, f"blank class name for id {i}; using {name!r}", line=i + 1,
                         severity=Severity.WARNING)
        if name in seen:
            problems.add(path, f"class {name!r} is listed twice (ids {seen[name]} and {i})", line=i + 1,
                         severity=Severity.WARNING)
        seen.setdefault(name, i)
        names.append(name)
    return ClassNames.of(names), problems


def write_classes_txt(path: Path, classes: ClassNames) -> None:
    atomic_write_text(path, "".join(f"{n}\n" for n in classes))
