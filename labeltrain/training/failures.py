"""Why a training failed, in words a user can act on. Classification looks at exception types, errno and the
texts Ultralytics and torch use; it never imports torch, so it also runs on a log tail in the parent."""

from __future__ import annotations

import errno
import re
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass


class StopRequested(BaseException):  # noqa: N818 - a control-flow signal, like KeyboardInterrupt
    """Raised inside the worker to stop training; BaseException so no `except Exception` swallows it."""


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class Failure:
    kind: str  # data, oom, nan, disk, config, crashed, error
    message: str
    hint: str = ""


_DISK_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_OOM_TEXTS = ("out of memory", "cublas_status_alloc_failed", "cudnn_status_internal_error",
              "defaultcpuallocator: can't allocate memory", "cannot allocate memory", "unable to find an engine")
_DISK_TEXTS = ("no space left on device", "disk quota exceeded", "file write failed")
_DATA_TEXTS = ("dataset '", "no images found", "no labels found", "no valid images", "images not found",
               "image not found", "error loading data", "no training images found", "data.yaml",
               "does not exist")
_CONFIG_TEXTS = ("is not a valid yolo argument", "is an invalid value", "is of invalid type", "is invalid.", "invalid cuda", "invalid mps", "'device=", "backend is not available",
                 "resume checkpoint not found", "nothing to resume", "is not a resumable")
_NAN_TEXTS = ("nan/inf", "nan persisted", "non-finite loss")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _clean(text: str) -> str:
    return _ANSI.sub("", text)


def _summary(exc: BaseException) -> str:
    """First line of the message, plus the first specific problem Ultralytics listed below it."""
    lines = [ln.strip() for ln in _clean(str(exc)).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0]
    detail = next((ln for ln in lines[1:] if ":" in ln and "docs.ultralytics.com" not in ln), None)
    return f"{first} (first problem: {detail})" if detail else first


def _chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _raised_in_data_code(exc: BaseException) -> bool:
    """True when the innermost Ultralytics frame is its dataset code (ultralytics/data/...)."""
    frames = [f.filename.replace("\\", "/") for f in traceback.extract_tb(exc.__traceback__)]
    ours = [f for f in frames if "/ultralytics/" in f]
    return bool(ours) and "/ultralytics/data/" in ours[-1]


def oom_hint(batch: object = None, imgsz: object = None) -> str:
    now_b = f" (now {batch})" if batch not in (None, -1) else ""
    now_s = f" (now {imgsz})" if imgsz is not None else ""
    return f"Try a smaller batch{now_b} or a smaller image size{now_s}, or close other programs using the memory."


def _oom(message: str, batch: object, imgsz: object) -> Failure:
    return Failure("oom", f"Out of memory: {message}", oom_hint(batch, imgsz))


def classify_text(text: str, batch: object = None, imgsz: object = None, summary: str | None = None) -> Failure:
    """Classify an error message or a log tail; `summary` (default: its last line) goes into the message."""
    text = _clean(text)
    low = text.lower()
    line = summary or (text.strip().splitlines()[-1] if text.strip() else "unknown error")
    if any(t in low for t in _DISK_TEXTS):
        return Failure("disk", f"The disk is full: {line}",
                       "Free some space on the disk holding the run folder (or choose another runs folder), "
                       "then resume the run.")
    if any(t in low for t in _OOM_TEXTS):
        return _oom(line, batch, imgsz)
    if any(t in low for t in _NAN_TEXTS):
        return Failure("nan", f"The training loss became NaN (not a number): {line}",
                       "Lower the learning rate (lr0), check the labels for broken boxes, or train with amp "
                       "disabled (extra setting amp: false).")
    if any(t in low for t in _CONFIG_TEXTS):
        return Failure("config", f"Invalid training setting: {line}", "Change the setting and start again.")
    if any(t in low for t in _DATA_TEXTS):
        return Failure("data", f"The dataset cannot be used: {line}",
                       "Check the data.yaml paths and class names, and run the label checker.")
    return Failure("error", f"Training failed: {line}", "See train.log in the run folder for details.")


def classify(exc: BaseException, batch: object = None, imgsz: object = None) -> Failure:
    """Classify an exception raised by the training (including its causes)."""
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, OSError) and e.errno in _DISK_ERRNOS:
            return classify_text(f"No space left on device: {e}")
    for e in chain:
        if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError":
            return _oom(str(e) or type(e).__name__, batch, imgsz)
        if isinstance(e, NonFiniteLoss):
            return classify_text(f"non-finite loss: {e}", summary=str(e))
    text = "\n".join(f"{type(e).__name__}: {e}" for e in reversed(chain))
    failure = classify_text(text, batch, imgsz, summary=_summary(exc))
    if failure.kind == "error" and any(_raised_in_data_code(e) for e in chain):
        return Failure("data", f"The dataset cannot be used: {_summary(exc)}",
                       "Check the data.yaml paths and class names, and run the label checker.")
    if failure.kind != "error":
        return failure
    return Failure("error", f"Training failed: {type(exc).__name__}: {_summary(exc)}", failure.hint)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def crash_failure(returncode: int | None, log_tail: str = "", describe: Callable[[int], str] = _signal_name) -> Failure:
    """The child ended without saying why: a signal (negative return code) or an exit code, plus its log."""
    if log_tail:
        from_log = classify_text(log_tail)
        if from_log.kind in ("oom", "disk"):
            return from_log
    if returncode is not None and returncode < 0:
        name = describe(-returncode)
        hint = ("The system may have run out of memory (the kernel's OOM killer sends SIGKILL): "
                + oom_hint()) if -returncode == 9 else "Start the run again or resume it from its last checkpoint."
        return Failure("crashed", f"The training process died ({name}).", hint)
    return Failure("crashed", f"The training process ended unexpectedly (exit code {returncode}).",
                   "See train.log in the run folder; resume the run from its last checkpoint.")
