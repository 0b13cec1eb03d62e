"""Shared helpers for GUI tests: generated datasets on disk and driving the real window with mouse and keys."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from labeltrain.ui.editor.session import Prompts
from labeltrain.ui.main_window import MainWindow


def write_image(path: Path, width: int, height: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 40 + 30 * (x / width) + 20 * (y / height)
    img = np.dstack([base, base * 0.9, base * 0.8]).astype(np.uint8)
    for _ in range(4):
        c = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(img, c, int(rng.integers(10, 60)), tuple(int(v) for v in rng.integers(50, 110, 3)), -1)
    assert cv2.imwrite(str(path), img)


def make_dataset(root: Path, images: dict[str, tuple[int, int, list[str] | None]],
                 classes: list[str]) -> Path:
    """Images (name -> width, height, YOLO rows or None for no label file) plus classes.txt."""
    root.mkdir(parents=True, exist_ok=True)
    for seed, (name, (w, h, rows)) in enumerate(images.items()):
        write_image(root / name, w, h, seed)
        if rows is not None:
            (root / name).with_suffix(".txt").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    (root / "classes.txt").write_text("".join(c + "\n" for c in classes), encoding="utf-8")
    return root


class ScriptedPrompts(Prompts):
    """Answers the session's questions from lists and records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, object]] = []
        self.conflict_answer = "cancel"
        self.unsaved_answer = "cancel"
        self.restore_answer: bool | None = None
        self.confirm_answer = True

    def conflict(self, path):
        self.asked.append(("conflict", path))
        return self.conflict_answer

    def unsaved(self, image):
        self.asked.append(("unsaved", image))
        return self.unsaved_answer

    def restore(self, entries):
        self.asked.append(("restore", entries))
        return self.restore_answer

    def confirm(self, title, text, info=""):
        self.asked.append(("confirm", text))
        return self.confirm_answer

    def error(self, title, message):
        self.asked.append(("error", message))


def install_prompts(win: MainWindow) -> ScriptedPrompts:
    prompts = ScriptedPrompts()
    win.prompts = prompts
    win.session.prompts = prompts
    return prompts


def open_and_wait(qtbot, win: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(win.datasetLoaded, timeout=20_000):
        win.open_path(path)
    wait_image(qtbot, win)


def wait_image(qtbot, win: MainWindow) -> None:
    """Until the current image's pixels (or its placeholder) and its boxes are on screen."""
    def shown() -> bool:
        item = win.file_model.item(win.current_row())
        loaded = win.view.loaded_image()
        if item is None:
            return False
        return (loaded is not None and loaded.path == item.image and win.document.key == item.image) \
            or bool(win.view.placeholder_text())

    qtbot.waitUntil(shown, timeout=20_000)


def go_to_name(qtbot, win: MainWindow, name: str) -> None:
    row = next(r for r in range(win.file_model.rowCount()) if Path(win.file_model.item(r).image).name == name)
    win.go_to(row)
    wait_image(qtbot, win)


def view_point(win: MainWindow, x: float, y: float) -> QPoint:
    """Viewport position of image pixel (x, y)."""
    p = win.view.viewportTransform().map(QPointF(x, y))
    return QPoint(round(p.x()), round(p.y()))


def drag(win: MainWindow, start: tuple[float, float], end: tuple[float, float], steps: int = 5,
         button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    """Press at image pixel `start`, move in steps, release at `end` (real mouse events on the viewport)."""
    vp = win.view.viewport()
    a, b = view_point(win, *start), view_point(win, *end)
    QTest.mousePress(vp, button, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        p = QPoint(round(a.x() + (b.x() - a.x()) * i / steps), round(a.y() + (b.y() - a.y()) * i / steps))
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, button, Qt.KeyboardModifier.NoModifier, b)


def click(win: MainWindow, x: float, y: float) -> None:
    QTest.mouseClick(win.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view_point(win, x, y))


def key(win_or_widget, k: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(win_or_widget, k, modifiers)


def yolo_rows(path: Path) -> list[list[float]]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [[float(v) for v in line.split()] for line in text.splitlines() if line.strip()]
