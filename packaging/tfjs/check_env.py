"""Smoke check of .venv-tfjs after `make tfjs-env`: every converter package imports (run with its python)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import ai_edge_litert.interpreter  # noqa: E402,F401
import onnx  # noqa: E402
import onnx2tf  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflowjs  # noqa: E402

print(f"tensorflow {tf.__version__}, tensorflowjs {tensorflowjs.__version__}, onnx2tf {onnx2tf.__version__}, "
      f"onnx {onnx.__version__}")
