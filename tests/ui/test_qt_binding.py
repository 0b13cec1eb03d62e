"""Guard against a Qt binding that corrupts the interpreter: PySide6 6.12.0 on Python 3.11 drops one
reference to None on every call of a method returning void, so a long annotation session aborts with
"deallocating None". pyproject.toml excludes that release; this test fails if such a binding comes back."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
before = sys.getrefcount(None)
for _ in range(2000):
    w.update()
print(sys.getrefcount(None) - before)
"""


def test_void_qt_calls_keep_none_alive():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert abs(int(out.stdout.strip().splitlines()[-1])) < 100, "the Qt binding leaks references to None"
