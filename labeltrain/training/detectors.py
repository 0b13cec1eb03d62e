"""Detectors behind one interface, chosen by file type (a registry): a PyTorch `.pt` through Ultralytics, an
exported `.onnx` through onnxruntime. Prediction, pre-labelling, export verification and error mining all ask
`open_detector(path)` for `detect(image_bgr, conf, iou) -> (K, 6)` rows x1, y1, x2, y2, score, class in the
image's pixels, plus `names`.

    det = open_detector("runs/train/weights/best.pt")
    rows = det.detect(cv2.imread("a.jpg"), conf=0.25)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from labeltrain.training.onnx_infer import (
    LetterboxInfo,
    OnnxDetector,
    decode_final,
    decode_raw,
    letterbox,
    to_input,
)


class Detector(Protocol):
    path: Path
    names: dict[int, str]
    input_hw: tuple[int, int]

    def detect(self, img: np.ndarray, conf: float = 0.25, iou: float = 0.7, max_det: int = 300) -> np.ndarray: ...

    def prepare(self, img: np.ndarray) -> tuple[np.ndarray, LetterboxInfo]: ...

    def run(self, batch: np.ndarray) -> np.ndarray: ...

    def decode(self, out: np.ndarray, conf: float, iou: float, max_det: int = 300) -> np.ndarray: ...


class TorchDetector:
    """A `.pt` detector run by Ultralytics on the CPU (or `device`). `detect` is `YOLO.predict` (Ultralytics 8.4
    predicts with the one-to-many head and NMS unless told nms=False); `run` is the raw, fused network on a
    prepared batch and `decode` its post-processing, the reference an export is compared with."""

    def __init__(self, path: str | os.PathLike[str], imgsz: int | None = None, device: str = "cpu",
                 end2end: bool | None = None):
        """`end2end`: which head `run` uses for a model that has two (YOLO26: NMS-free one-to-one, or one-to-many +
        NMS); None keeps the trained default. An export is compared with the head it was exported with."""
        from labeltrain.training.ultra import load_yolo, model_imgsz

        self.path = Path(path)
        self.yolo = load_yolo(self.path)
        if end2end is not None and hasattr(self.yolo.model, "end2end"):
            self.yolo.model.end2end = end2end
        self.device = device
        size = int(imgsz or model_imgsz(self.yolo))
        self.input_hw = (size, size)
        self.names = {int(k): str(v) for k, v in self.yolo.names.items()}
        self._net: Any = None

    def detect(self, img: np.ndarray, conf: float = 0.25, iou: float = 0.7, max_det: int = 300) -> np.ndarray:
        from labeltrain.training.ultra import quiet

        with quiet():
            result = self.yolo.predict(img, imgsz=self.input_hw[0], conf=conf, iou=iou, max_det=max_det,
                                       device=self.device, verbose=False)[0]
        boxes = result.boxes
        if boxes is None or not len(boxes):
            return np.zeros((0, 6), np.float32)
        return np.concatenate((boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy()[:, None],
                               boxes.cls.cpu().numpy()[:, None]), 1).astype(np.float32)

    def prepare(self, img: np.ndarray) -> tuple[np.ndarray, LetterboxInfo]:
        boxed, info = letterbox(img, self.input_hw)
        return to_input([boxed]), info

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The network's first output for a float32 NCHW batch, as the exported graph computes it."""
        import torch

        if self._net is None:  # fused (Conv + BatchNorm), as Ultralytics' own inference and every export run it
            import copy

            net = copy.deepcopy(self.yolo.model).float().eval()
            net = net.fuse() if hasattr(net, "fuse") else net
            for p in net.parameters():
                p.requires_grad_(False)
            self._net = net
        with torch.inference_mode():
            out = self._net(torch.from_numpy(np.ascontiguousarray(batch)))
        first = out[0] if isinstance(out, list | tuple) else out
        if isinstance(first, dict):  # an end-to-end head returns several outputs in a dict
            first = next(iter(first.values()))
        return first.cpu().numpy()

    def decode(self, out: np.ndarray, conf: float, iou: float, max_det: int = 300) -> np.ndarray:
        """One image's raw output -> detections (K, 6) in input pixels, as an export of the same head does."""
        if getattr(self.yolo.model, "end2end", False):
            return decode_final(out, conf, max_det)
        return decode_raw(out.astype(np.float32), conf, iou, max_det)


DETECTORS: dict[str, Callable[..., Detector]] = {
    ".pt": TorchDetector,
    ".onnx": OnnxDetector,
}


def open_detector(path: str | os.PathLike[str], **kwargs: Any) -> Detector:
    """The detector for a model file, by its suffix (see DETECTORS)."""
    path = Path(path)
    factory = DETECTORS.get(path.suffix.lower())
    if factory is None:
        raise ValueError(f"{path}: not a model labeltrain can run (use one of: {', '.join(DETECTORS)})")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    return factory(path, **kwargs)
