"""Safe one-click fixes for findings whose intent is clear. Each fix is two steps:

1. `plan_fix(fix_id, report, **params)` reads the files concerned and returns a FixPlan: for every file its
   bytes before and after and one line per change, so a UI can show exactly what will happen (nothing written);
2. `apply_fix(plan)` checks that no file changed since the plan was made, copies every file it will touch to
   `<root>/.labeltrain/backups/<timestamp>/` (with a manifest), then writes each file atomically.
   `undo_fix(backup_dir)` puts the originals back and removes the files the fix created.

Label files keep their encoding details (BOM, line endings) and every untouched line byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from labeltrain.core.atomic import atomic_write_bytes
from labeltrain.core.check.findings import RULES, Finding
from labeltrain.core.check.report import CheckReport
from labeltrain.core.check.rows import R_DUPLICATE, Row, decode_label, parse_label
from labeltrain.core.formats.base import fmt_num

__all__ = ["FileChange", "FixPlan", "FixResult", "Fix", "FIXES", "StalePlanError", "plan_fix", "apply_fix",
           "undo_fix", "fix_for_rule", "BACKUP_DIR"]

BACKUP_DIR = Path(".labeltrain") / "backups"
_BOM = b"\xef\xbb\xbf"


class StalePlanError(RuntimeError):
    """A file changed on disk after the plan was made: make a new plan."""


@dataclass(frozen=True)
class FileChange:
    """One file the fix writes. `before` is None for a file the fix creates; `changes` are human-readable lines.
    `render` (images) produces the new bytes at apply time instead of holding them in memory."""

    path: str
    before: bytes | None
    after: bytes | None
    changes: tuple[str, ...]
    render: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def action(self) -> str:
        return "create" if self.before is None else "modify"

    def new_bytes(self) -> bytes:
        if self.after is not None:
            return self.after
        assert self.render is not None
        return self.render()


@dataclass(frozen=True)
class FixPlan:
    """What a fix will change. `skipped` lists what it leaves alone and why (fix those by hand)."""

    fix: str
    title: str
    root: str
    changes: tuple[FileChange, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    def describe(self) -> str:
        lines = [f"{self.title}: {len(self.changes)} file{'s' * (len(self.changes) != 1)}"]
        for c in self.changes:
            lines.append(f"  {c.action} {c.path}")
            lines.extend(f"    {line}" for line in c.changes)
        if self.skipped:
            lines.append(f"  left alone ({len(self.skipped)}):")
            lines.extend(f"    {s}" for s in self.skipped)
        return "\n".join(lines)


@dataclass(frozen=True)
class FixResult:
    plan: FixPlan
    backup_dir: str | None
    written: tuple[str, ...]


@dataclass(frozen=True)
class Fix:
    id: str
    title: str
    rules: tuple[str, ...]  # the rule ids it addresses
    planner: Callable[..., FixPlan]


FIXES: dict[str, Fix] = {}


def _fix(fix_id: str, title: str, rules: tuple[str, ...]):
    def deco(fn: Callable[..., FixPlan]) -> Callable[..., FixPlan]:
        FIXES[fix_id] = Fix(fix_id, title, rules, fn)
        return fn
    return deco


def fix_for_rule(name: str) -> str | None:
    """The fix id for a rule id (or a fix id itself), None if there is no safe fix."""
    if name in FIXES:
        return name
    rule = RULES.get(name)
    if rule is not None and rule.fix_id in FIXES:
        return rule.fix_id
    for fix in FIXES.values():
        if name in fix.rules:
            return fix.id
    return None


def plan_fix(fix_id: str, report: CheckReport, *, files: Iterable[str] | None = None, **params) -> FixPlan:
    """Plan fix `fix_id` for the findings of `report` (restricted to `files`: image or label paths, if given)."""
    fix = FIXES.get(fix_id) or FIXES.get(fix_for_rule(fix_id) or "")
    if fix is None:
        raise KeyError(f"no safe fix for {fix_id!r}; fixes: {', '.join(FIXES)}")
    wanted = {os.path.abspath(f) for f in files} if files is not None else None
    findings = [f for f in report.findings if f.rule in fix.rules and (
        wanted is None or f.image in wanted or f.label in wanted)]
    return fix.planner(report, findings, **params)


# ---------------------------------------------------------------------------------------------------------
# Label file helpers
# ---------------------------------------------------------------------------------------------------------
def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _nc(report: CheckReport) -> int | None:
    ds = report.dataset
    return len(ds.classes) if ds is not None and len(ds.classes) else None


def _labels_of(findings: list[Finding]) -> dict[str, str]:
    """label path -> image path, in finding order."""
    out: dict[str, str] = {}
    for f in findings:
        if f.label is not None:
            out.setdefault(f.label, f.image or "")
    return out


def _edit_rows(data: bytes, edits: dict[int, str | None]) -> bytes:
    """Apply per-line edits (1-based line -> new text, None = delete the line) keeping BOM and line endings."""
    bom = data.startswith(_BOM)
    lines = decode_label(data).splitlines(keepends=True)
    out = []
    for i, line in enumerate(lines, 1):
        if i not in edits:
            out.append(line)
            continue
        new = edits[i]
        if new is None:
            continue
        body = line.rstrip("\r\n")
        out.append(new + line[len(body):])
    text = "".join(out)
    return (_BOM if bom else b"") + text.encode("utf-8")


def _row_plan(report: CheckReport, labels: dict[str, str], fix_id: str,
              edit: Callable[[Row, list[Finding]], tuple[str | None, str] | str | None]) -> FixPlan:
    """A plan built by calling `edit(row, findings of that row)` for every row of every concerned file:
    it returns (new text or None to delete, description), a reason string to skip, or None to leave it."""
    nc = _nc(report)
    changes, skipped = [], []
    for label, image in labels.items():
        data = _read(label)
        if data is None:
            skipped.append(f"{label}: cannot be read")
            continue
        try:
            facts = parse_label(data, label, image, nc)
        except Exception as exc:  # pragma: no cover - parse_label never raises on content
            skipped.append(f"{label}: {exc}")
            continue
        by_line: dict[int, list[Finding]] = {}
        for f in facts.findings:
            if f.line is not None:
                by_line.setdefault(f.line, []).append(f)
        edits: dict[int, str | None] = {}
        notes = []
        for row in facts.rows:
            result = edit(row, by_line.get(row.line, []))
            if result is None:
                continue
            if isinstance(result, str):
                skipped.append(f"{label}:{row.line}: {result}")
                continue
            new, note = result
            edits[row.line] = new
            notes.append(f"line {row.line}: {note}")
        if edits:
            after = _edit_rows(data, edits)
            if not after.strip() and data.strip():
                notes.append("the file is now empty: the image becomes a background image")
            changes.append(FileChange(label, data, after, tuple(notes)))
    return FixPlan(fix_id, FIXES[fix_id].title, report.root, tuple(changes), tuple(skipped))


# ---------------------------------------------------------------------------------------------------------
# The fixes
# ---------------------------------------------------------------------------------------------------------
@_fix("dedupe_rows", "Remove duplicate rows", ("label.duplicate",))
def _plan_dedupe(report: CheckReport, findings: list[Finding]) -> FixPlan:
    def edit(row: Row, row_findings: list[Finding]):
        dup = next((f for f in row_findings if f.rule == R_DUPLICATE.id), None)
        if dup is None:
            return None
        return None, f"remove '{' '.join(row.fields)}' ({dup.message.split(': ', 1)[-1]})"
    return _row_plan(report, _labels_of(findings), "dedupe_rows", edit)


@_fix("clip_boxes", "Clip boxes to the image", ("box.past_edge", "label.negative", "label.non_normalized"))
def _plan_clip(report: CheckReport, findings: list[Finding]) -> FixPlan:
    def edit(row: Row, _row_findings: list[Finding]):
        if row.polygon or len(row.fields) != 5:
            return None
        try:
            cls_text = row.fields[0]
            xc, yc, w, h = (float(x) for x in row.fields[1:])
        except ValueError:
            return None
        if not all(v == v and abs(v) != float("inf") for v in (xc, yc, w, h)):
            return "not finite: fix by hand"
        x1, y1, x2, y2 = xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2
        if x1 >= 0 and y1 >= 0 and x2 <= 1 and y2 <= 1:
            return None
        if w < 0 or h < 0:
            return "negative width or height: fix by hand"
        cx1, cy1, cx2, cy2 = max(x1, 0.0), max(y1, 0.0), min(x2, 1.0), min(y2, 1.0)
        if cx2 <= cx1 or cy2 <= cy1:
            return "the box lies outside the image (pixel coordinates?): fix by hand"
        new = " ".join([cls_text, fmt_num((cx1 + cx2) / 2), fmt_num((cy1 + cy2) / 2), fmt_num(cx2 - cx1),
                        fmt_num(cy2 - cy1)])
        return new, f"'{' '.join(row.fields)}' -> '{new}'"
    return _row_plan(report, _labels_of(findings), "clip_boxes", edit)


@_fix("drop_zero_area", "Drop zero-area boxes", ("box.zero_area",))
def _plan_zero(report: CheckReport, findings: list[Finding]) -> FixPlan:
    def edit(row: Row, _row_findings: list[Finding]):
        v = row.values
        if v is None or row.rejected or (v[3] != 0 and v[4] != 0):
            return None
        return None, f"remove zero-area box '{' '.join(row.fields)}'"
    return _row_plan(report, _labels_of(findings), "drop_zero_area", edit)


@_fix("remap_class", "Remap class ids", ("label.class_range",))
def _plan_remap(report: CheckReport, findings: list[Finding], mapping: dict[int, int] | None = None,
                all_files: bool = False) -> FixPlan:
    """Change class ids per `mapping` ({old: new}) in the files with class-range findings (or, with
    `all_files`, in every label file of the dataset: merging two classes)."""
    if not mapping:
        raise ValueError("remap_class needs a mapping {old id: new id}")
    nc = _nc(report)
    for old, new in mapping.items():
        if int(new) < 0 or (nc is not None and int(new) >= nc):
            raise ValueError(f"class {new} is not a class of this dataset (0-{(nc or 1) - 1})")
        if int(old) < 0:
            raise ValueError(f"class {old} is not a valid id")
    mapping = {int(k): int(v) for k, v in mapping.items()}
    labels = _labels_of(findings)
    if all_files and report.dataset is not None:
        labels = {it.label: it.image for it in report.dataset.items if it.label}

    def edit(row: Row, _row_findings: list[Finding]):
        if not row.fields:
            return None
        try:
            value = float(row.fields[0])
        except ValueError:
            return None
        if value % 1 != 0 or int(value) not in mapping:
            return None
        new_cls = mapping[int(value)]
        new = " ".join([str(new_cls), *row.fields[1:]])
        return new, f"class {int(value)} -> {new_cls}"
    return _row_plan(report, labels, "remap_class", edit)


@_fix("create_empty_labels", "Create empty label files for background images", ("label.missing",))
def _plan_empty(report: CheckReport, findings: list[Finding]) -> FixPlan:
    changes, skipped = [], []
    seen = set()
    for f in findings:
        if f.label is None or f.label in seen:
            continue
        seen.add(f.label)
        if os.path.exists(f.label):
            skipped.append(f"{f.label}: exists now")
            continue
        changes.append(FileChange(f.label, None, b"", (f"empty label file for {os.path.basename(f.image or '')}: "
                                                        "a deliberate background image",)))
    return FixPlan("create_empty_labels", FIXES["create_empty_labels"].title, report.root, tuple(changes),
                   tuple(skipped))


@_fix("bake_exif", "Bake EXIF rotation into the pixels", ("exif.rotated",))
def _plan_bake(report: CheckReport, findings: list[Finding], quality: int = 95) -> FixPlan:
    from PIL import Image

    changes, skipped = [], []
    for f in findings:
        if f.image is None:
            continue
        data = _read(f.image)
        if data is None:
            skipped.append(f"{f.image}: cannot be read")
            continue
        try:
            with Image.open(io.BytesIO(data)) as im:
                fmt = im.format or "JPEG"
                orientation = im.getexif().get(274, 1)
                stored = im.size
        except Exception as exc:
            skipped.append(f"{f.image}: {exc}")
            continue
        if fmt not in ("JPEG", "PNG", "WEBP", "TIFF"):
            skipped.append(f"{f.image}: {fmt} images are not re-encoded")
            continue
        shown = stored[::-1] if orientation in (5, 6, 7, 8) else stored
        note = (f"rotate the pixels per EXIF orientation {orientation} (stored {stored[0]}x{stored[1]} -> "
                f"{shown[0]}x{shown[1]}) and set orientation 1; labels unchanged (they are already in this frame)"
                + ("; re-encoded as JPEG quality " + str(quality) if fmt == "JPEG" else ""))
        changes.append(FileChange(f.image, data, None, (note,), render=_baker(data, fmt, quality)))
    return FixPlan("bake_exif", FIXES["bake_exif"].title, report.root, tuple(changes), tuple(skipped))


def _baker(data: bytes, fmt: str, quality: int) -> Callable[[], bytes]:
    def render() -> bytes:
        from PIL import Image, ImageOps

        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            icc = im.info.get("icc_profile")
            upright = ImageOps.exif_transpose(im)
        exif[274] = 1
        out = io.BytesIO()
        kwargs: dict = {"exif": exif.tobytes()}
        if icc:
            kwargs["icc_profile"] = icc
        if fmt == "JPEG":
            kwargs.update(quality=quality, subsampling=0)
        upright.save(out, fmt, **kwargs)
        return out.getvalue()
    return render


# ---------------------------------------------------------------------------------------------------------
# Apply and undo
# ---------------------------------------------------------------------------------------------------------
def _backup_dir(root: Path, now: _dt.datetime | None) -> Path:
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = root / BACKUP_DIR
    candidate = base / stamp
    n = 1
    while candidate.exists():
        n += 1
        candidate = base / f"{stamp}-{n}"
    return candidate


def _relative(path: str, root: Path) -> Path:
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(root)
    except ValueError:
        return Path("_outside") / p.relative_to(p.anchor)


def apply_fix(plan: FixPlan, *, now: _dt.datetime | None = None) -> FixResult:
    """Back up and write the plan's files (all or nothing if a file changed since planning)."""
    if plan.empty:
        return FixResult(plan, None, ())
    for c in plan.changes:
        current = _read(c.path)
        if current != c.before:
            raise StalePlanError(f"{c.path} changed since the fix was planned; check again")
    rendered = [(c, c.new_bytes()) for c in plan.changes]
    root = Path(os.path.abspath(plan.root))
    backup = _backup_dir(root, now)
    backup.mkdir(parents=True)
    manifest = {"fix": plan.fix, "title": plan.title, "root": str(root),
                "time": (now or _dt.datetime.now()).isoformat(timespec="seconds"), "modified": [], "created": []}
    for c, _ in rendered:
        if c.before is None:
            manifest["created"].append(c.path)
            continue
        target = backup / _relative(c.path, root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(c.before)
        manifest["modified"].append({"path": c.path, "backup": str(target.relative_to(backup))})
    atomic_write_bytes(backup / "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
    written = []
    for c, data in rendered:
        atomic_write_bytes(c.path, data)
        written.append(c.path)
    return FixResult(plan, str(backup), tuple(written))


def undo_fix(backup_dir: str | os.PathLike[str]) -> list[str]:
    """Restore the files a fix modified and delete the (still empty) files it created. Returns the paths."""
    backup = Path(backup_dir)
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    restored = []
    for entry in manifest["modified"]:
        atomic_write_bytes(entry["path"], (backup / entry["backup"]).read_bytes())
        restored.append(entry["path"])
    for path in manifest["created"]:
        with contextlib.suppress(OSError):
            if os.path.getsize(path) == 0:
                os.unlink(path)
                restored.append(path)
    shutil.move(str(backup), str(backup) + ".undone")
    return restored
