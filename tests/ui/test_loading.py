"""Opening and browsing speed machinery, on real files: the progressive listing of a big folder, unreadable images
in the list, prefetching of neighbours, and the file list's per-image state (icons, tooltips, font)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from labeltrain.core.dataset import ImageItem, discover
from labeltrain.ui.app import configure_app
from labeltrain.ui.dataset_loader import ListingBatch
from labeltrain.ui.file_list_model import STATE_ROLE, FileListModel, FileState, state_icon
from labeltrain.ui.image_loader import fitted_size
from labeltrain.ui.main_window import MainWindow

FOLDERS = 12
PER_FOLDER = 150


def _jpeg(path: Path, width: int, height: int, seed: int = 0, orientation: int | None = None) -> None:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 40), max(2, width // 40), 3), dtype=np.uint8)
    pixels = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    if orientation is None:
        assert cv2.imwrite(str(path), pixels)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(pixels[:, :, ::-1]).save(path, quality=90, exif=exif.tobytes())


@pytest.fixture
def window(qtbot, qapp):
    configure_app(qapp)
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 720)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


@pytest.fixture
def big_folder(tmp_path: Path) -> Path:
    """FOLDERS subfolders of PER_FOLDER images (hard links to one small real JPEG each) with YOLO labels."""
    root = tmp_path / "big"
    sources = tmp_path / "sources"
    sources.mkdir()
    for f in range(FOLDERS):
        sub = root / f"part{f:02d}"
        sub.mkdir(parents=True)
        image, label = sources / f"{f}.jpg", sources / f"{f}.txt"
        _jpeg(image, 64, 48, f)
        label.write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
        for i in range(PER_FOLDER):
            os.link(image, sub / f"img{i:04d}.jpg")
            os.link(label, sub / f"img{i:04d}.txt")
    (root / "classes.txt").write_text("thing\n", encoding="utf-8")
    return root


def _wait_pixels(qtbot, win: MainWindow, path: str) -> None:
    qtbot.waitUntil(lambda: win.view.loaded_image() is not None and win.view.loaded_image().path == path,
                    timeout=10_000)


# --- progressive listing ----------------------------------------------------------------------------------------
def test_listed_items_are_the_final_items(big_folder: Path) -> None:
    """discover(listed=...) hands out each folder as it is listed; the final items are those very objects."""
    batches: list[list[ImageItem]] = []
    dataset = discover(big_folder, listed=batches.append)
    assert len(batches) == FOLDERS and all(len(b) == PER_FOLDER for b in batches)
    flat = [item for batch in batches for item in batch]
    assert len(dataset.items) == len(flat) == FOLDERS * PER_FOLDER
    assert all(a is b for a, b in zip(flat, dataset.items))
    assert dataset.labelled_count() == FOLDERS * PER_FOLDER
    assert [it.image for it in discover(big_folder).items] == [it.image for it in dataset.items]


def test_big_folder_fills_in_progressively_and_keeps_the_current_row(qtbot, window: MainWindow,
                                                                     big_folder: Path) -> None:
    total = FOLDERS * PER_FOLDER
    rows_seen: list[int] = []
    resets: list[str] = []
    moved: dict[str, str] = {}

    def on_progress(report) -> None:  # runs after the window's own handler (connected later)
        if isinstance(report, ListingBatch):
            rows_seen.append(window.file_model.rowCount())
            if not moved:  # the user moves on while the listing goes on
                window.go_to(7)
                moved["image"] = window.file_model.item(7).image

    window.dataset_loader.progress.connect(on_progress)
    window.file_model.modelReset.connect(lambda: resets.append("reset"))
    window.file_model.rowsRemoved.connect(lambda *_: resets.append("removed"))
    with qtbot.waitSignal(window.datasetLoaded, timeout=20_000):
        window.open_path(big_folder)

    assert rows_seen and rows_seen[0] == PER_FOLDER < total  # the first folder showed before the rest was listed
    assert rows_seen == sorted(rows_seen)
    assert window.file_model.rowCount() == total
    assert resets == []  # completed in place: no reset, nothing removed
    assert window.current_row() == 7
    assert window.file_model.item(7).image == moved["image"]
    assert window.file_list.selectionModel().currentIndex().row() == 7
    assert window.files_dock.windowTitle() == f"Files ({total:,})"
    _wait_pixels(qtbot, window, moved["image"])
    # the final rows carry the label files the listing found
    assert window.file_model.data(window.file_model.index(7, 0), STATE_ROLE) == FileState.LABELLED


def test_first_image_shows_before_the_listing_ends(qtbot, window: MainWindow, big_folder: Path) -> None:
    """The first batch selects row 0 and asks for its pixels at once (before the Dataset arrives)."""
    requested: list[tuple[int, bool]] = []

    def on_progress(report) -> None:
        if isinstance(report, ListingBatch) and not requested:
            requested.append((window.current_row(), window.dataset() is None))

    window.dataset_loader.progress.connect(on_progress)
    with qtbot.waitSignal(window.datasetLoaded, timeout=20_000):
        window.open_path(big_folder)
    assert requested == [(0, True)]
    _wait_pixels(qtbot, window, window.file_model.item(0).image)
    assert Path(window.view.loaded_image().path).name == "img0000.jpg"


def test_reordered_final_listing_keeps_the_image_on_screen(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Ultralytics layout with an extra folder listed first but sorted last: the rows move, the image stays."""
    root = tmp_path / "yolo"
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(3):
            _jpeg(root / "images" / split / f"{split}{i}.jpg", 64, 48, i)
            (root / "labels" / split / f"{split}{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    (root / "aaa" / "images").mkdir(parents=True)
    _jpeg(root / "aaa" / "images" / "extra.jpg", 64, 48, 9)
    seen: list[str] = []

    def on_progress(report) -> None:
        if isinstance(report, ListingBatch):
            seen.extend(Path(it.image).name for it in report.items)
            if window.current_row() >= 0 and not seen[1:]:
                window.go_to(0)

    window.dataset_loader.progress.connect(on_progress)
    with qtbot.waitSignal(window.datasetLoaded, timeout=20_000):
        window.open_path(root)
    assert seen[0] == "extra.jpg"  # listed first ...
    names = [Path(window.file_model.item(r).image).name for r in range(window.file_model.rowCount())]
    assert names[-1] == "extra.jpg" and names[0] == "train0.jpg"  # ... sorted last in the final order
    assert Path(window.file_model.item(window.current_row()).image).name == "extra.jpg"
    assert window.file_list.selectionModel().currentIndex().row() == len(names) - 1


# --- unreadable images ------------------------------------------------------------------------------------------
def test_unreadable_images_are_marked_in_the_list_and_shown_as_placeholder(qtbot, window: MainWindow,
                                                                          tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    root.mkdir()
    for i, name in enumerate(["a.jpg", "b.jpg", "d.jpg"]):
        _jpeg(root / name, 80, 60, i)
    (root / "c.jpg").write_bytes(b"not a jpeg at all" * 10)
    (root / "e.png").write_bytes(b"")

    with qtbot.waitSignal(window.datasetLoaded, timeout=20_000):
        window.open_path(root)
    model = window.file_model
    names = [Path(model.item(r).image).name for r in range(model.rowCount())]
    assert names == ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.png"]

    # b is shown; c, its neighbour, is prefetched, fails, and is marked without being visited
    window.go_to(1)
    _wait_pixels(qtbot, window, model.item(1).image)
    c_index = model.index(2, 0)
    qtbot.waitUntil(lambda: model.data(c_index, STATE_ROLE) == FileState.UNREADABLE, timeout=10_000)
    assert window.current_row() == 1 and window.view.loaded_image().path == model.item(1).image
    assert "cannot be read" in model.data(c_index, Qt.ItemDataRole.ToolTipRole)
    assert model.unreadable_reason(model.item(2).image)

    # visiting it shows a placeholder (no crash) and the window keeps working
    window.go_to(2)
    qtbot.waitUntil(lambda: bool(window.view.placeholder_text()), timeout=10_000)
    assert "Cannot read this image" in window.view.placeholder_text()
    window.go_to(4)  # an empty file
    qtbot.waitUntil(lambda: model.data(model.index(4, 0), STATE_ROLE) == FileState.UNREADABLE, timeout=10_000)
    qtbot.waitUntil(lambda: "e.png" in (window.view.placeholder_text() or ""), timeout=10_000)
    window.grab()
    window.go_to(3)
    _wait_pixels(qtbot, window, model.item(3).image)
    assert model.data(model.index(0, 0), STATE_ROLE) == FileState.NO_LABEL


# --- prefetch -----------------------------------------------------------------------------------------------------
def test_prefetch_decodes_neighbours_reduced_with_exif_applied(qtbot, window: MainWindow, tmp_path: Path) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(6):
        _jpeg(root / f"p{i}.jpg", 2400, 1800, i, orientation=6 if i == 3 else None)
    with qtbot.waitSignal(window.datasetLoaded, timeout=20_000):
        window.open_path(root)
    model, loader = window.file_model, window.image_loader
    window.go_to(2)
    _wait_pixels(qtbot, window, model.item(2).image)
    neighbours = [model.item(r).image for r in (3, 4, 1)]
    qtbot.waitUntil(lambda: all(loader.cached(p) is not None for p in neighbours), timeout=20_000)

    rotated = loader.cached(model.item(3).image)
    assert rotated.full_size == (1800, 2400)  # EXIF orientation 6: stored 2400x1800, shown upright
    assert rotated.image.width() < rotated.image.height()
    assert rotated.reduce > 1  # decoded only as large as a fitted view needs
    viewport = window.view.viewport()
    box = (viewport.width() - 16, viewport.height() - 16)
    need = fitted_size(rotated.full_size, box)
    assert rotated.image.width() >= need[0] - 1 and rotated.image.height() >= need[1] - 1

    # the next image is on screen as soon as `d` is handled: no decode in between
    qtbot.keyClick(window.view, Qt.Key.Key_D)
    assert window.current_row() == 3
    assert window.view.loaded_image() is rotated


# --- per-image state ------------------------------------------------------------------------------------------------
def _items(n: int, labelled_every: int = 2) -> list[ImageItem]:
    return [ImageItem(f"/data/set/img{i:06d}.jpg", f"/data/set/img{i:06d}.txt" if i % labelled_every == 0 else None)
            for i in range(n)]


def test_state_icons_api(qtbot, qapp) -> None:
    model = FileListModel()
    items = _items(10)
    model.set_items(items, "/data")
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles: changed.append((a.row(), b.row())))

    def state(row: int) -> FileState:
        return model.data(model.index(row, 0), STATE_ROLE)

    assert [state(r) for r in range(3)] == [FileState.LABELLED, FileState.NO_LABEL, FileState.LABELLED]
    assert model.data(model.index(0, 0), Qt.ItemDataRole.DisplayRole) == "img000000.jpg"

    model.set_verified_paths({items[2].image, items[3].image})
    assert state(2) == state(3) == FileState.VERIFIED and changed[-1] == (0, 9)
    model.set_verified(items[3].image, False)
    assert state(3) == FileState.NO_LABEL and changed[-1] == (3, 3)
    model.set_verified(items[4].image, True)
    model.set_unsaved(items[4].image, True)
    assert state(4) == FileState.UNSAVED and changed[-1] == (4, 4)
    font = model.data(model.index(4, 0), Qt.ItemDataRole.FontRole)
    assert font is not None and font.italic()
    assert model.data(model.index(5, 0), Qt.ItemDataRole.FontRole) is None
    tip = model.data(model.index(4, 0), Qt.ItemDataRole.ToolTipRole)
    assert "unsaved changes" in tip and "verified" in tip and items[4].image in tip
    model.set_unsaved(items[4].image, False)
    assert state(4) == FileState.VERIFIED

    model.set_labelled(items[1].image, True)  # a label file was written for an image that had none
    assert state(1) == FileState.LABELLED
    assert "labels: saved" in model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
    model.set_labelled(items[0].image, False)
    assert state(0) == FileState.NO_LABEL

    model.set_unreadable(items[6].image, "cannot identify image")
    assert state(6) == FileState.UNREADABLE
    assert "cannot identify image" in model.data(model.index(6, 0), Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(6, 0), Qt.ItemDataRole.DecorationRole).cacheKey() == \
        state_icon(FileState.UNREADABLE).cacheKey()
    model.set_unreadable(items[6].image, "")
    assert state(6) == FileState.LABELLED

    count = len(changed)
    model.set_verified("/not/in/the/list.jpg", True)  # unknown paths are remembered, nothing to repaint
    model.set_unsaved(items[2].image, False)  # no change: no signal
    assert len(changed) == count

    # the final listing of the same rows keeps the states and the rows
    model.replace_items(list(items) + _items(12)[10:], "/data")
    assert model.rowCount() == 12 and state(2) == FileState.VERIFIED and state(11) == FileState.NO_LABEL
    # a new dataset forgets them
    model.set_items(items, "/data")
    assert state(2) == FileState.LABELLED


def test_state_api_on_100k_rows(qtbot, qapp) -> None:
    """Dicts and sets keyed by path: marking rows of a 100k list touches one row, no per-row objects."""
    model = FileListModel()
    items = _items(100_000)
    model.set_items(items[:40_000], "/data")
    model.append_items(items[40_000:])
    assert model.rowCount() == 100_000
    model.set_verified_paths({it.image for it in items[::3]})
    rows: list[int] = []
    model.dataChanged.connect(lambda a, b, roles: rows.append(a.row()))
    model.set_unsaved(items[99_999].image, True)
    model.set_unreadable(items[50_000].image, "truncated")
    assert rows == [99_999, 50_000]
    assert model.row_of(items[77_777].image) == 77_777
    assert model.data(model.index(99_999, 0), STATE_ROLE) == FileState.UNSAVED
    assert model.data(model.index(99_998, 0), STATE_ROLE) == FileState.LABELLED
    assert model.data(model.index(3, 0), STATE_ROLE) == FileState.VERIFIED
