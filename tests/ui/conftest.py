"""UI test set-up: offscreen Qt, QSettings isolated per test, Qt warnings fail the test."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, QtMsgType, qInstallMessageHandler  # noqa: E402

# Messages the offscreen platform prints for things it simply does not do; they say nothing about our code.
HARMLESS_QT_MESSAGES = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
    "This plugin does not support setting window opacity",
)
_FAILING = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """Every test gets its own empty QSettings store (never the user's real configuration)."""
    folder = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, folder)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    yield folder


@pytest.fixture(autouse=True)
def fail_on_qt_warnings():
    """Collect Qt warnings/criticals during the test (including widget teardown) and fail if any."""
    collected: list[str] = []

    def handler(mode, context, message):
        if mode in _FAILING and not any(h in message for h in HARMLESS_QT_MESSAGES):
            where = f" ({context.file}:{context.line})" if context is not None and context.file else ""
            collected.append(f"{mode.name}: {message}{where}")
        if previous is not None:
            previous(mode, context, message)

    previous = qInstallMessageHandler(handler)
    yield collected
    qInstallMessageHandler(previous)
    if collected:
        pytest.fail("Qt printed warnings:\n" + "\n".join(collected), pytrace=False)


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """labeltrain's data home and thumbnail cache in this test's folder (never the user's): modules that open
    the QA views, run models or write per-user files use it with `pytestmark = pytest.mark.usefixtures(...)`."""
    monkeypatch.setenv("LABELTRAIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LABELTRAIN_DATA_DIR", str(tmp_path / "data-home"))


@pytest.fixture
def window(qtbot, qapp):
    """The real main window, styled, 1280x820, shown, with scripted prompts (tests.ui.support); shut down after
    the test. Test modules that need another window define their own `window` fixture."""
    from labeltrain.ui.app import configure_app
    from labeltrain.ui.main_window import MainWindow
    from tests.ui.support import install_prompts

    configure_app(qapp)
    win = MainWindow()
    qtbot.addWidget(win)
    install_prompts(win)
    win.resize(1280, 820)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
