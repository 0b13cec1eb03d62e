"""The training tab: settings form, run controller (child-process training driven from a QThread), live
curves, progress, log and run history. `TrainingPanel` (monitor.py) is the widget the main window embeds."""

from labeltrain.ui.training.monitor import TrainingPanel

__all__ = ["TrainingPanel"]
