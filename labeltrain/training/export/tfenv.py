"""Where the TF.js / TFLite converter environment is (`.venv-tfjs`, made by `make tfjs-env`) and how to run
its parts: the TensorFlow side as a subprocess (it cannot live in this venv: it downgrades numpy, onnx and
protobuf), Node.js with the npm packages, and the system Chromium used to verify TF.js models.

Overrides (tests, other layouts): LABELTRAIN_TFJS_ENV (the env folder), LABELTRAIN_CHROMIUM (the browser).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labeltrain.training.export.base import ExportError

ENV_VAR = "LABELTRAIN_TFJS_ENV"
CHROMIUM_VAR = "LABELTRAIN_CHROMIUM"
HOW_TO = "create it with `make tfjs-env` in the labeltrain source folder (one command, ~2 min, ~3.5 GB)"
CONVERT_SCRIPT = Path(__file__).with_name("tf_convert.py")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class TfEnv:
    """The converter environment's folder and the paths inside it (nothing is checked at construction)."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def stamp(self) -> Path:
        return self.root / ".installed-stamp"

    @property
    def node_modules(self) -> Path:
        return self.root / "node" / "node_modules"

    @property
    def tf_min_js(self) -> Path:
        return self.node_modules / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"

    @property
    def tfjs_version(self) -> str:
        try:
            meta = json.loads((self.node_modules / "@tensorflow" / "tfjs" / "package.json").read_text())
            return str(meta.get("version", "?"))
        except (OSError, ValueError):
            return "?"

    @property
    def node(self) -> str | None:
        return shutil.which("node")

    @property
    def chromium(self) -> str | None:
        given = os.environ.get(CHROMIUM_VAR)
        if given:
            return given if Path(given).is_file() else None
        for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
            if Path(candidate).is_file():
                return candidate
        return shutil.which("chromium")

    def missing_python(self) -> str | None:
        """What is missing to convert and run TFLite (None when the env is complete)."""
        if not self.python.is_file():
            return f"the converter environment {self.root} does not exist; {HOW_TO}"
        if not self.stamp.is_file():
            return f"the converter environment {self.root} is incomplete (an install did not finish); {HOW_TO}"
        return None

    def missing_browser(self) -> str | None:
        """What is missing to build and verify a TF.js model in Chromium (None when all is there)."""
        missing = self.missing_python()
        if missing:
            return missing
        if not self.tf_min_js.is_file() or not (self.node_modules / "playwright-core").is_dir():
            return f"the npm packages (@tensorflow/tfjs, playwright-core) are missing in {self.node_modules}; {HOW_TO}"
        if not self.node:
            return "Node.js (`node`) is not installed: apt-get install nodejs npm, then `make tfjs-env`"
        if not self.chromium:
            return f"Chromium is not installed (/usr/bin/chromium); {HOW_TO} (it installs Debian's chromium)"
        return None

    def run_python(self, args: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
        """Run tf_convert.py with the env's python (-I: no labeltrain or user paths leak into it)."""
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONNOUSERSITE": "1", "CUDA_VISIBLE_DEVICES": ""}
        return _run([str(self.python), "-I", str(CONVERT_SCRIPT), *args], env, timeout, what)

    def run_node(self, script: Path, args: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
        """Run a Node.js script that finds the npm packages through NODE_PATH and the browser through env."""
        env = {**os.environ, "NODE_PATH": str(self.node_modules), "LABELTRAIN_CHROMIUM": str(self.chromium),
               "LABELTRAIN_CHROMIUM_FLAGS": " ".join(CHROMIUM_FLAGS)}
        return _run([str(self.node), str(script), *args], env, timeout, what)


def _run(cmd: list[str], env: dict[str, str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise ExportError(f"{what} took longer than {timeout:.0f} s and was stopped") from exc
    except OSError as exc:
        raise ExportError(f"{what} could not start: {exc}", HOW_TO) from exc
    if proc.returncode != 0:
        raise ExportError(f"{what} failed (exit {proc.returncode}):\n{tail(proc.stderr or proc.stdout)}")
    return proc


def tail(text: str, lines: int = 25) -> str:
    """The last lines of a tool's log without TensorFlow's start-up noise."""
    noise = ("W0000 ", "I0000 ", "E0000 ", "WARNING: All log messages", "🌲")
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith(noise)]
    return "\n".join(kept[-lines:])


def find_env(root: str | os.PathLike[str] | None = None) -> TfEnv:
    """The converter environment: `root`, else $LABELTRAIN_TFJS_ENV, else `.venv-tfjs` in the source checkout
    (beside the labeltrain package), else `.venv-tfjs` in the current folder."""
    if root is not None:
        return TfEnv(Path(root).expanduser().absolute())
    given = os.environ.get(ENV_VAR)
    if given:
        return TfEnv(Path(given).expanduser().absolute())
    for candidate in (repo_root() / ".venv-tfjs", Path.cwd() / ".venv-tfjs"):
        if candidate.is_dir():
            return TfEnv(candidate)
    return TfEnv(repo_root() / ".venv-tfjs")

