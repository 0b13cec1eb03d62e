"""Run an exported YOLO detector with onnxruntime alone: Ultralytics' letterbox, box decoding and NMS in numpy.

No torch and no ultralytics here, so pre-labelling with an .onnx file stays light. Every step mirrors
Ultralytics 8.4 (`LetterBox(auto=False)`, `non_max_suppression(multi_label=False)`, `scale_boxes`), and the
tests check that the detections equal those of `YOLO(model.onnx).predict()` on the same images.

Output layouts handled: raw `[B, 4+nc, anchors]` (cx, cy, w, h in input pixels + class scores; NMS here) and
final `[B, K, 6]` rows (x1, y1, x2, y2, score, class) from an end-to-end head or an export with NMS inside.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

PAD_VALUE = 114  # Ultralytics' letterbox grey
MAX_WH = 7680  # class offset for class-aware NMS (Ultralytics' max_wh)
MAX_NMS = 30000  # boxes kept before NMS, highest scores first


@dataclass(frozen=True)
class LetterboxInfo:
    """How an image was fitted into the network input: per-axis gain and the left/top padding in pixels."""

    orig_hw: tuple[int, int]
    input_hw: tuple[int, int]
    gain_xy: tuple[float, float]
    pad_xy: tuple[int, int]


def letterbox(img: np.ndarray, input_hw: tuple[int, int]) -> tuple[np.ndarray, LetterboxInfo]:
    """Resize keeping the aspect ratio and pad (centred, grey 114) to `input_hw`, as Ultralytics' LetterBox."""
    h, w = img.shape[:2]
    new_h, new_w = input_hw
    r = min(new_h / h, new_w / w)
    unpad_w, unpad_h = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = (new_w - unpad_w) / 2, (new_h - unpad_h) / 2
    if (w, h) != (unpad_w, unpad_h):
        img = cv2.resize(img, (unpad_w, unpad_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    return img, LetterboxInfo((h, w), (new_h, new_w), (unpad_w / w, unpad_h / h), (left, top))


def to_input(images: list[np.ndarray]) -> np.ndarray:
    """Letterboxed BGR uint8 images -> float32 NCHW RGB in 0..1 (Ultralytics' predictor preprocessing)."""
    batch = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch).astype(np.float32) / 255


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thres: float) -> np.ndarray:
    """Greedy NMS as torchvision.ops.nms: highest score first, drop boxes whose IoU with a kept one is > iou_thres."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[~(iou > iou_thres)]
    return np.asarray(keep, dtype=np.int64)


def decode_raw(raw: np.ndarray, conf: float, iou: float, max_det: int = 300, agnostic: bool = False) -> np.ndarray:
    """One image's raw output [4+nc, anchors] -> detections (K, 6) x1, y1, x2, y2, score, class (input pixels)."""
    x = raw.T  # anchors, 4+nc
    scores_all = x[:, 4:]
    if not scores_all.shape[1]:
        return np.zeros((0, 6), np.float32)
    best = scores_all.max(1)
    x = x[best > conf]
    cls = x[:, 4:].argmax(1)
    score = x[np.arange(len(x)), 4 + cls]
    keep = score > conf
    xywh, score, cls = x[keep, :4], score[keep], cls[keep]
    if not len(score):
        return np.zeros((0, 6), np.float32)
    half = xywh[:, 2:] / 2
    boxes = np.concatenate((xywh[:, :2] - half, xywh[:, :2] + half), 1)
    if len(score) > MAX_NMS:
        top = np.argsort(-score, kind="stable")[:MAX_NMS]
        boxes, score, cls = boxes[top], score[top], cls[top]
    offset = (cls[:, None] * (0 if agnostic else MAX_WH)).astype(boxes.dtype)
    keep = nms(boxes + offset, score, iou)[:max_det]
    return np.concatenate((boxes[keep], score[keep, None], cls[keep, None].astype(boxes.dtype)), 1)


def decode_final(rows: np.ndarray, conf: float, max_det: int = 300) -> np.ndarray:
    """One image's final rows [K, 6] (end-to-end head or NMS inside) -> rows whose score is > conf."""
    return rows[rows[:, 4] > conf][:max_det].astype(np.float32)


def scale_to_original(dets: np.ndarray, info: LetterboxInfo) -> np.ndarray:
    """Detections in input pixels -> original image pixels, clipped to the image (Ultralytics' scale_boxes)."""
    out = dets.copy()
    (gx, gy), (px, py) = info.gain_xy, info.pad_xy
    out[:, [0, 2]] = (out[:, [0, 2]] - px) / gx
    out[:, [1, 3]] = (out[:, [1, 3]] - py) / gy
    h, w = info.orig_hw
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
    return out


def _literal(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def read_metadata(session: Any) -> dict[str, Any]:
    """The Ultralytics custom metadata of an ONNX session (names, imgsz, stride, args...), parsed; {} if none."""
    raw = session.get_modelmeta().custom_metadata_map or {}
    return {key: _literal(value) for key, value in raw.items()}


class OnnxDetector:
    """An exported detector run by onnxruntime on the CPU. `detect(img)` takes a BGR uint8 image and returns
    (K, 6) float32 rows x1, y1, x2, y2, score, class in the image's pixels."""

    def __init__(self, path: str | os.PathLike[str], threads: int | None = None):
        import onnxruntime as ort

        self.path = Path(path)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.metadata = read_metadata(self.session)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        out_shape = self.session.get_outputs()[0].shape
        self.dynamic = any(not isinstance(d, int) for d in inp.shape)
        imgsz = self.metadata.get("imgsz")
        if isinstance(imgsz, int):
            imgsz = [imgsz, imgsz]
        if not self.dynamic:
            self.input_hw = (int(inp.shape[2]), int(inp.shape[3]))
        elif isinstance(imgsz, list | tuple) and len(imgsz) == 2:
            self.input_hw = (int(imgsz[0]), int(imgsz[1]))
        else:
            self.input_hw = (640, 640)
        names = self.metadata.get("names")
        self.names: dict[int, str] = {int(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
        args = self.metadata.get("args") if isinstance(self.metadata.get("args"), dict) else {}
        end2end = self.metadata.get("end2end")
        if "end2end" in self.metadata or "nms" in args:
            self.final_rows = bool(end2end is True or end2end == "True" or args.get("nms"))
        else:  # a file without Ultralytics metadata: [B, K, 6] means final rows
            self.final_rows = len(out_shape) == 3 and out_shape[-1] == 6
        self.baked_conf = float(args["conf"]) if self.final_rows and args.get("conf") is not None else None
        if not self.names:
            nc = out_shape[1] - 4 if not self.final_rows and isinstance(out_shape[1], int) else 0
            self.names = {i: f"class{i}" for i in range(max(nc, 0))}

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The model's first output for a float32 NCHW batch (no post-processing)."""
        return self.session.run(None, {self.input_name: batch})[0]

    def prepare(self, img: np.ndarray) -> tuple[np.ndarray, LetterboxInfo]:
        boxed, info = letterbox(img, self.input_hw)
        return to_input([boxed]), info

    def decode(self, out: np.ndarray, conf: float, iou: float, max_det: int = 300) -> np.ndarray:
        """One image's output -> detections (K, 6) in input pixels."""
        if self.final_rows:
            return decode_final(out, conf, max_det)
        return decode_raw(out.astype(np.float32), conf, iou, max_det)

    def detect(self, img: np.ndarray, conf: float = 0.25, iou: float = 0.7, max_det: int = 300) -> np.ndarray:
        batch, info = self.prepare(img)
        return scale_to_original(self.decode(self.run(batch)[0], conf, iou, max_det), info)
