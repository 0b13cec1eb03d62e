"""The keyboard shortcuts, as shown in Help > Keyboard Shortcuts and in the README (a test keeps them equal)."""

SHORTCUTS: list[tuple[str, str]] = [
    ("W", "create a box: drag on the image (Edit > Keep Create Mode keeps it on)"),
    ("A / D", "previous / next image (edits are saved on the way when autosave is on)"),
    ("Ctrl+Shift+A / Ctrl+Shift+D", "previous / next unverified image"),
    ("Space", "toggle verified (Space+drag pans)"),
    ("1 … 9, 0", "class of the selected box, or the current class for the next boxes"),
    ("Ctrl+E", "class list at the cursor: type to search, Enter picks or adds a class"),
    ("Del", "delete the selected box"),
    ("Ctrl+D", "duplicate the selected box"),
    ("Ctrl+V", "copy the previous image's boxes"),
    ("Arrows / Shift+Arrows", "nudge the selected box 1 px / 10 px"),
    ("Esc", "cancel the drag, leave create mode, deselect"),
    ("Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "undo / redo (every edit; a whole drag is one step)"),
    ("Ctrl+S", "save the labels of this image"),
    ("Ctrl+H", "hide / show boxes"),
    ("Ctrl+wheel, Ctrl++ / Ctrl+-", "zoom around the cursor / in / out"),
    ("Ctrl+0 / Ctrl+F", "100 % / fit the window"),
    ("Middle-drag, Space+drag", "pan"),
    ("Double-click a box", "change its class"),
    ("Ctrl+U / Ctrl+O / Ctrl+I", "open a folder / a data.yaml or COCO file / an image"),
    ("F1", "this list"),
]
