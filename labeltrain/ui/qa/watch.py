"""Which label files changed on disk, whoever changed them (the editor, another tool, git), reported in debounced
batches.

A QFileSystemWatcher watches the label folders (files created, deleted or renamed into place: atomic saves, git
checkouts) and the label files themselves (in-place writes, which folder watches do not
report). A file replaced by a rename drops out of the watcher and is added again. Files beyond the limit (a
quarter of the user's inotify watches), or that the watcher refuses, are polled in slices. A folder event is resolved by comparing the (mtime, size) of the label
files of that folder that are not watched one by one (missing, polled) with what was last seen; watched files
report their own changes, including their replacement by a rename.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

DEBOUNCE_MS = 30  # wait this long after the first event of a burst (not after the last: a stream still refreshes)
FILE_WATCH_MAX = 50_000  # inotify watches are cheap (~1 KiB of kernel memory each) but limited per user
POLL_MS = 250
POLL_SLICE = 1500  # polled files per tick (a stat each: ~2 ms)


def file_watch_limit() -> int:
    """How many label files to watch one by one: at most a quarter of the user's inotify watches (other programs
    need theirs), at most FILE_WATCH_MAX."""
    try:
        with open("/proc/sys/fs/inotify/max_user_watches") as f:
            system = int(f.read())
    except (OSError, ValueError):
        system = 8192
    return max(0, min(FILE_WATCH_MAX, system // 4))


def _sig(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class LabelWatcher(QObject):
    """`changed(set[str])`: label files whose content (mtime/size) or existence changed since last seen."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._file_event)
        self._watcher.directoryChanged.connect(self._dir_event)
        self._seen: dict[str, tuple[int, int] | None] = {}
        self._by_dir: dict[str, list[str]] = defaultdict(list)
        self._watched_files: set[str] = set()
        self._polled: list[str] = []
        self._polled_set: set[str] = set()
        self._poll_at = 0
        self._limit = 0
        self._dirty_files: set[str] = set()
        self._dirty_dirs: set[str] = set()
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._flush)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._poll_tick)

    # --- set-up ------------------------------------------------------------------------------------------
    def watch(self, labels: Iterable[str], signatures: dict[str, tuple[int, int] | None] | None = None) -> None:
        """Watch these label files (existing or not) and their folders; forget the previous set."""
        self.stop()
        known = signatures or {}
        self._seen = {p: known[p] if p in known else _sig(p) for p in labels}
        for p in self._seen:
            self._by_dir[os.path.dirname(p)].append(p)
        dirs = [d for d in self._by_dir if os.path.isdir(d)]
        if dirs:
            self._watcher.addPaths(dirs)
        existing = [p for p, s in self._seen.items() if s is not None]
        self._limit = file_watch_limit()
        to_watch = existing[:self._limit]
        failed = set(self._watcher.addPaths(to_watch)) if to_watch else set()
        self._watched_files = set(to_watch) - failed
        self._polled = [p for p in self._seen if p not in self._watched_files]
        self._polled_set = set(self._polled)
        if self._polled:
            self._poll.start()

    def stop(self) -> None:
        self._poll.stop()
        self._debounce.stop()
        paths = self._watcher.files() + self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)
        self._seen.clear()
        self._by_dir.clear()
        self._watched_files.clear()
        self._polled = []
        self._polled_set.clear()
        self._dirty_files.clear()
        self._dirty_dirs.clear()

    def mark_seen(self, path: str, signature: tuple[int, int] | None) -> None:
        """The caller has read `path` in this state (no event needed for it)."""
        if path in self._seen:
            self._seen[path] = signature

    def watched_count(self) -> tuple[int, int, int]:
        """(folders, files watched, files polled)."""
        return len(self._watcher.directories()), len(self._watched_files), len(self._polled)

    # --- events ------------------------------------------------------------------------------------------
    def _file_event(self, path: str) -> None:
        self._dirty_files.add(path)
        self._kick()

    def _dir_event(self, path: str) -> None:
        self._dirty_dirs.add(path)
        self._kick()

    def _kick(self) -> None:
        if not self._debounce.isActive():
            self._debounce.start()

    def _flush(self) -> None:
        candidates = set(self._dirty_files)
        watched = self._watched_files
        for d in self._dirty_dirs:  # files watched one by one report themselves (also when replaced)
            candidates.update(p for p in self._by_dir.get(d, ()) if p not in watched)
        self._dirty_files.clear()
        self._dirty_dirs.clear()
        self._report(candidates)

    def _report(self, candidates: Iterable[str]) -> None:
        changed = set()
        for p in candidates:
            old = self._seen.get(p, False)
            if old is False:
                continue
            sig = _sig(p)
            if sig != old:
                self._seen[p] = sig
                changed.add(p)
        if not changed:
            return
        watched_now = set(self._watcher.files())
        for p in changed:  # a file replaced by a rename lost its watch (the old inode's); a new file has none
            if self._seen[p] is None or p in watched_now or p in self._polled_set:
                continue
            if (p in self._watched_files or len(self._watched_files) < self._limit) and self._watcher.addPath(p):
                self._watched_files.add(p)
            else:
                self._watched_files.discard(p)
                self._polled.append(p)
                self._polled_set.add(p)
                self._poll.start()
        self.changed.emit(changed)

    def _poll_tick(self) -> None:
        if not self._polled:
            self._poll.stop()
            return
        start = self._poll_at % len(self._polled)
        chunk = self._polled[start:start + POLL_SLICE]
        self._poll_at = start + len(chunk)
        self._report(chunk)
