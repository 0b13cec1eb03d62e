"""Findings and the rule registry: every rule the checker knows, with its severity, what the trainer does about
it (its effect) and the suggested fix. Rule families register their rules here when they are imported."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from labeltrain.core.problems import Problem, Severity

__all__ = ["Effect", "Rule", "Finding", "RULES", "define", "finding", "rules_of_family"]


class Effect(StrEnum):
    """What the trainer (Ultralytics) does when it meets the problem."""

    REJECT = "reject"  # ignores the image and all its labels ("ignoring corrupt image/label")
    ALTER = "alter"    # trains on it but changes it: drops a row, rewrites the file
    NONE = "none"      # trains on it as it is


@dataclass(frozen=True, slots=True)
class Rule:
    """One check. `fix_id` names the safe one-click fix in `labeltrain.core.check.fixes` (if any);
    `source` says whose rule it is: 'ultralytics', 'darknet' or 'labeltrain'."""

    id: str
    family: str
    severity: Severity
    effect: Effect
    title: str
    fix: str
    fix_id: str | None = None
    source: str = "labeltrain"


RULES: dict[str, Rule] = {}


def define(rule_id: str, family: str, severity: Severity, title: str, fix: str, *,
           effect: Effect = Effect.NONE, fix_id: str | None = None, source: str = "labeltrain") -> Rule:
    """Register a rule (idempotent for the same id)."""
    rule = Rule(rule_id, family, severity, effect, title, fix, fix_id, source)
    RULES[rule_id] = rule
    return rule


def rules_of_family(family: str) -> list[Rule]:
    return [r for r in RULES.values() if r.family == family]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by the checker. Paths are absolute strings; `line` is 1-based in the label file.
    `effect` is what the trainer does about it; `fix` a suggested fix in a sentence."""

    rule: str
    severity: Severity
    message: str
    image: str | None = None
    label: str | None = None
    line: int | None = None
    fix: str | None = None
    effect: Effect = Effect.NONE

    @property
    def rejects(self) -> bool:
        """True if the trainer ignores the whole image because of this."""
        return self.effect == Effect.REJECT

    @property
    def fix_id(self) -> str | None:
        rule = RULES.get(self.rule)
        return rule.fix_id if rule is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.image, "label": self.label, "line": self.line, "rule": self.rule,
                "severity": str(self.severity), "message": self.message, "effect": str(self.effect),
                "fix": self.fix}

    def to_problem(self) -> Problem:
        file = self.label if self.label is not None and self.line is not None else (self.image or self.label)
        return Problem(Path(file) if file else None, self.message, self.line, None, self.severity, self.rule,
                       self.fix)

    def location(self) -> str:
        if self.label is not None and (self.line is not None or self.image is None):
            loc = self.label + (f":{self.line}" if self.line is not None else "")
        else:
            loc = self.image or self.label or "<dataset>"
        return loc

    def __str__(self) -> str:
        return f"{self.location()}: {self.severity} [{self.rule}] {self.message}"


def finding(rule_id: str, message: str, *, image: str | None = None, label: str | None = None,
            line: int | None = None, severity: Severity | None = None, fix: str | None = None,
            effect: Effect | None = None) -> Finding:
    """A Finding with severity, effect and fix taken from the registered rule unless given."""
    rule = RULES.get(rule_id)
    if rule is None:  # a problem passed through from discovery or the data.yaml reader
        return Finding(rule_id, severity or Severity.WARNING, message, image, label, line, fix,
                       effect or Effect.NONE)
    return Finding(rule_id, severity or rule.severity, message, image, label, line,
                   fix if fix is not None else rule.fix, effect or rule.effect)
