"""The result of a check run: findings in dataset order, a summary, text and JSON renderings."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labeltrain.core.check.findings import Effect, Finding
from labeltrain.core.problems import Severity

if TYPE_CHECKING:
    from labeltrain.core.dataset import Dataset

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass
class CheckReport:
    """Findings (per image in dataset order, then dataset-level ones) and counts. `dataset` is the discovered
    dataset the check ran on (not serialised)."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    dataset: Dataset | None = field(default=None, repr=False)
    cancelled: bool = False

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def ok(self) -> bool:
        """True when nothing the trainer would drop, alter or reject was found."""
        return not any(f.severity == Severity.ERROR for f in self.findings)

    def rejected_images(self) -> set[str]:
        """Images the trainer ignores ('ignoring corrupt image/label')."""
        return {f.image for f in self.findings if f.effect == Effect.REJECT and f.image is not None}

    def by_image(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            if f.image is not None:
                out.setdefault(f.image, []).append(f)
        return out

    def by_rule(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.rule, []).append(f)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "findings": [f.to_dict() for f in self.findings]}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)

    def format_text(self, *, max_per_rule: int | None = None, show_info: bool = True) -> str:
        """Human-readable report: findings grouped by severity and rule, then the summary."""
        lines: list[str] = []
        groups: dict[tuple[Severity, str], list[Finding]] = {}
        for f in self.findings:
            if f.severity == Severity.INFO and not show_info:
                continue
            groups.setdefault((f.severity, f.rule), []).append(f)
        for (severity, rule), items in sorted(groups.items(), key=lambda kv: (_SEVERITY_ORDER[kv[0][0]], kv[0][1])):
            lines.append(f"{severity.upper()} {rule} ({len(items)}): {items[0].fix or ''}".rstrip(": "))
            shown = items if max_per_rule is None else items[:max_per_rule]
            for f in shown:
                lines.append(f"  {f.location()}: {f.message}")
            if len(shown) < len(items):
                lines.append(f"  ... and {len(items) - len(shown)} more")
        s = self.summary
        lines.append("")
        lines.append(f"{s.get('images', 0)} images ({s.get('labels_found', 0)} label files, "
                     f"{s.get('labels_missing', 0)} without, {s.get('labels_empty', 0)} empty), "
                     f"{s.get('boxes', 0)} boxes; the trainer would ignore {s.get('images_rejected', 0)} images "
                     f"and alter {s.get('images_altered', 0)}.")
        lines.append(f"{s.get('errors', 0)} errors, {s.get('warnings', 0)} warnings, {s.get('infos', 0)} notes"
                     + (" (cancelled: incomplete)" if self.cancelled else "")
                     + (f" in {s['seconds']:.2f} s" if "seconds" in s else "") + ".")
        return "\n".join(lines)


def count_severities(findings: list[Finding]) -> dict[str, int]:
    c = Counter(f.severity for f in findings)
    return {"errors": c[Severity.ERROR], "warnings": c[Severity.WARNING], "infos": c[Severity.INFO]}
