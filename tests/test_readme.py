"""The README's shortcut table is the one the app shows (Help > Keyboard Shortcuts)."""

from pathlib import Path

from labeltrain.ui.shortcuts import SHORTCUTS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_shortcut_as_the_app_does():
    text = README.read_text(encoding="utf-8")
    for keys, action in SHORTCUTS:
        assert f"| `{keys}` | {action} |" in text, keys
