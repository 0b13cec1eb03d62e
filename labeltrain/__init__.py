"""labeltrain: from a folder of images to a deployed object detector."""

__version__ = "0.1.0"
