"""The GUI entry point: QApplication set-up (names, icon, style) and the main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from labeltrain import __version__
from labeltrain.core.resources import resource_path

APP_NAME = "labeltrain"
ORGANIZATION = "labeltrain"

# A restrained light palette: neutral greys, one blue accent.
_PALETTE: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#f3f4f6",
    QPalette.ColorRole.WindowText: "#1f2328",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f6f8fa",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1f2328",
    QPalette.ColorRole.PlaceholderText: "#8c959f",
    QPalette.ColorRole.Text: "#1f2328",
    QPalette.ColorRole.Button: "#f6f7f9",
    QPalette.ColorRole.ButtonText: "#1f2328",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Light: "#ffffff",
    QPalette.ColorRole.Midlight: "#eaeef2",
    QPalette.ColorRole.Mid: "#d0d7de",
    QPalette.ColorRole.Dark: "#afb8c1",
    QPalette.ColorRole.Shadow: "#8c959f",
    QPalette.ColorRole.Highlight: "#2f6fde",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#2f6fde",
}
_DISABLED = {QPalette.ColorRole.WindowText: "#8c959f", QPalette.ColorRole.Text: "#8c959f",
             QPalette.ColorRole.ButtonText: "#8c959f"}

_STYLE_SHEET = """
QMainWindow::separator { background: #dfe3e8; width: 1px; height: 1px; }
QDockWidget { font-weight: 600; }
QDockWidget::title { padding: 6px 8px; background: #eceef1; border-bottom: 1px solid #dfe3e8; }
QToolBar { border: none; border-bottom: 1px solid #dfe3e8; spacing: 2px; padding: 3px 6px; }
QToolButton { padding: 4px 6px; border-radius: 4px; }
QToolButton:hover { background: #e4e8ee; }
QToolButton:checked { background: #dbe6fb; }
QStatusBar { border-top: 1px solid #dfe3e8; }
QStatusBar::item { border: none; }
QListView, QTreeView, QTableView { border: none; }
QListView::item, QTreeView::item { padding: 2px 2px; }
"""


def app_icon() -> QIcon:
    """The window icon from the bundled resources (SVG preferred, PNG fallback); empty if not installed."""
    icon = QIcon()
    for name in ("labeltrain.svg", "labeltrain-256.png"):
        path = resource_path("icons", name)
        if path.is_file():
            icon.addFile(str(path))
    return icon


def apply_style(app: QApplication) -> None:
    """Fusion with a restrained light palette and a readable font size."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    palette = QPalette()
    for role, color in _PALETTE.items():
        palette.setColor(role, QColor(color))
    for role, color in _DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(color))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    app.setStyleSheet(_STYLE_SHEET)


def configure_app(app: QApplication) -> None:
    """Names (QSettings location), icon and style. Separate from run_gui so tests can apply it too."""
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName("labeltrain")
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    apply_style(app)


def run_gui(path: str | None, argv: list[str]) -> int:
    """Create the application, open the main window on `path` (folder, data.yaml, COCO JSON or image) and
    run the event loop. Returns the exit code."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv or sys.argv[:1])
    assert isinstance(app, QApplication)
    configure_app(app)

    from labeltrain.ui.main_window import MainWindow  # after QApplication: widgets need it

    window = MainWindow()
    window.show()
    if path:
        window.open_path(path)
    code = app.exec()
    window.shutdown()
    return int(code)
