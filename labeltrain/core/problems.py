"""Problems found in user input: where (file, line or JSON/XML path) and what, never an exception."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"      # the trainer will drop, alter or reject this
    WARNING = "warning"  # suspicious, worth a look
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about an input file. `line` is 1-based; `where` is a JSON/XML path like `$.images[3]`;
    `fix` is a suggested fix in a sentence, when there is one."""

    file: Path | None
    message: str
    line: int | None = None
    where: str | None = None
    severity: Severity = Severity.ERROR
    rule: str = "syntax"
    fix: str | None = None

    def location(self) -> str:
        loc = str(self.file) if self.file is not None else "<input>"
        if self.line is not None:
            loc += f":{self.line}"
        if self.where:
            loc += f" ({self.where})"
        return loc

    def __str__(self) -> str:
        return f"{self.location()}: {self.severity}: {self.message}"


class ProblemList(list[Problem]):
    """A list of problems with a helper to add one in a line."""

    def add(self, file: Path | None, message: str, *, line: int | None = None, where: str | None = None,
            severity: Severity = Severity.ERROR, rule: str = "syntax", fix: str | None = None) -> None:
        self.append(Problem(file, message, line, where, severity, rule, fix))

    def errors(self) -> list[Problem]:
        return [p for p in self if p.severity == Severity.ERROR]


def format_problems(problems: Iterable[Problem]) -> str:
    return "\n".join(str(p) for p in problems)
