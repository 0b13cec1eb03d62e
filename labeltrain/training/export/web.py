"""Running a TF.js model in real headless Chromium (tfjs from npm, the Debian browser, offline): the driver
(resources/web/driver.cjs) serves the model and the verification page on 127.0.0.1, the page runs the model on
input tensors prepared here and hands back the raw outputs (exact float32 bytes) and its timings."""

from __future__ import annotations

import base64
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labeltrain.core.resources import resource_path
from labeltrain.training.export.base import ExportError
from labeltrain.training.export.tfenv import TfEnv

BROWSER_TIMEOUT = 300.0  # seconds for one browser session (start, model load, every image)


def driver_script() -> Path:
    return resource_path("web", "driver.cjs")


def run_driver(env: TfEnv, command: str, job: dict[str, Any], work: Path, what: str,
               timeout: float = BROWSER_TIMEOUT) -> dict[str, Any]:
    """Run one driver command with `job` (JSON) and return its JSON result."""
    job_path, out_path = work / f"{command}-job.json", work / f"{command}-result.json"
    job_path.write_text(json.dumps(job))
    env.run_node(driver_script(), [command, str(job_path), str(out_path)], timeout, what)
    try:
        return json.loads(out_path.read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f"{what} gave no result ({exc})") from exc


@dataclass(frozen=True)
class BrowserRun:
    """Raw outputs of a TF.js model in Chromium, one per input, with the median time per run (ms)."""

    outputs: list[np.ndarray]
    ms: list[float]
    backend: str
    tfjs: str
    browser: str

    @property
    def runtime(self) -> str:
        return f"Chromium {self.browser} + tfjs {self.tfjs} ({self.backend})"


def decode_floats(data: str, shape: list[int]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data), dtype="<f4").reshape(shape).copy()


def run_in_browser(env: TfEnv, model_dir: Path, inputs_nhwc: np.ndarray, repeats: int = 5,
                   backend: str | None = None) -> BrowserRun:
    """Load `model_dir/model.json` in Chromium and run it on each NHWC float32 input (N, H, W, 3)."""
    inputs_nhwc = np.ascontiguousarray(inputs_nhwc, dtype="<f4")
    with tempfile.TemporaryDirectory(prefix="labeltrain-tfjs-") as tmp:
        work = Path(tmp)
        (work / "inputs.bin").write_bytes(inputs_nhwc.tobytes())
        job = {"page_dir": str(resource_path("web", "verify")), "model_dir": str(model_dir),
               "tf_dir": str(env.tf_min_js.parent), "job_dir": str(work), "inputs": "inputs.bin",
               "shape": list(inputs_nhwc.shape), "repeats": repeats, "backend": backend}
        result = run_driver(env, "verify", job, work, "running the TF.js model in Chromium")
    outs = result.get("outputs") or []
    if len(outs) != len(inputs_nhwc):
        raise ExportError(f"Chromium returned {len(outs)} outputs for {len(inputs_nhwc)} inputs")
    return BrowserRun(outputs=[decode_floats(o["data"], o["shape"]) for o in outs], ms=[float(o["ms"]) for o in outs],
                      backend=str(result.get("backend")), tfjs=str(result.get("tfjs")),
                      browser=str(result.get("browser") or "?"))


def to_onnx_layout(out: np.ndarray, channels: int) -> np.ndarray:
    """A TF model's output in the ONNX layout [1, 4+nc, anchors]: onnx2tf keeps it for this head, but a
    converter that moves channels last gives [1, anchors, 4+nc], which is transposed back here."""
    if out.ndim == 3 and out.shape[1] != channels and out.shape[2] == channels:
        return np.ascontiguousarray(out.transpose(0, 2, 1))
    return out


class Replay:
    """`run_exported` for verify(): the outputs computed elsewhere (browser, LiteRT), looked up by the exact
    bytes of the input tensor verify() passes (it prepares each image as they were prepared for the run)."""

    def __init__(self, inputs_nchw: list[np.ndarray], outputs: list[np.ndarray]):
        self._table = {self._key(x): y for x, y in zip(inputs_nchw, outputs)}

    @staticmethod
    def _key(batch: np.ndarray) -> bytes:
        return np.ascontiguousarray(batch, dtype=np.float32).tobytes()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        try:
            return self._table[self._key(batch)]
        except KeyError:
            raise ExportError("verification asked for an input the exported model was not run on") from None
