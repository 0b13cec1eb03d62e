"""TF.js and TFLite exports of a really trained tiny model, really converted in .venv-tfjs (`make tfjs-env`) and
really run: TF.js in headless Chromium with @tensorflow/tfjs, TFLite with LiteRT; compared with PyTorch and ONNX.
The exported web demo page is opened from file:// and its own detections are compared with decode_raw."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from labeltrain.training.export import EXPORTERS, ExportError, ExportOptions, export
from labeltrain.training.export.tfenv import CHROMIUM_VAR, CONVERT_SCRIPT, ENV_VAR, find_env

pytestmark = pytest.mark.slow

CONF = 0.005  # the tiny model's scores are < 0.05


@pytest.fixture(scope="module")
def env():
    env = find_env()
    missing = env.missing_browser()
    assert missing is None, f"{missing} (make test creates it: `make tfjs-env`)"
    return env


@pytest.fixture(scope="module")
def tfjs_export(tiny_weights, env, tmp_path_factory):
    out = tmp_path_factory.mktemp("tfjs-export")
    report = export(tiny_weights, "tfjs", ExportOptions(conf=CONF, out_dir=str(out)))
    onnx = export(tiny_weights, "onnx", ExportOptions(conf=CONF, out_dir=str(out), verify=False))
    return report, Path(onnx.main.path)


def test_tfjs_export_is_verified_in_chromium(tfjs_export):
    report, _onnx = tfjs_export
    print(report.table())
    assert report.verified, report.to_json()
    web_model = Path(report.main.path)
    assert report.main.kind == "tfjs" and (web_model / "model.json").is_file()
    assert list(web_model.glob("group1-shard*.bin"))
    v = report.main.verification
    assert v.runtime.startswith("Chromium ") and "tfjs 4.22.0" in v.runtime
    assert v.max_abs_diff is not None and v.max_abs_diff < 1e-3
    assert v.reference > 0 and v.matched == v.reference and v.min_iou >= 0.99
    assert v.exported_ms > 0 and v.reference_ms > 0
    meta = json.loads((web_model / "model.json").read_text())["userDefinedMetadata"]["labeltrain"]
    assert meta["names"] == {"0": "square", "1": "circle"} and meta["imgsz"] == [96, 96]
    assert any(m.startswith("web demo (file://") for m in report.messages), report.messages
    saved = json.loads(Path(report.report_path).read_text())
    assert saved["verified"] and [a["kind"] for a in saved["artifacts"]] == ["tfjs", "web-demo"]
    assert not [p for p in Path(report.report_path).parent.iterdir() if p.name.startswith(".export-")]


def test_tfjs_detections_in_chromium_equal_onnx(tfjs_export, env, tiny_weights):
    """The raw browser outputs, decoded as labeltrain decodes, give ONNX's detections on the same inputs."""
    from labeltrain.training.export.verify import read_images, sample_images
    from labeltrain.training.export.web import run_in_browser
    from labeltrain.training.onnx_infer import OnnxDetector

    report, onnx_path = tfjs_export
    onnx = OnnxDetector(onnx_path)
    images = read_images(sample_images(tiny_weights, (), 4))
    inputs = [onnx.prepare(img)[0] for _p, img in images]
    run = run_in_browser(find_env(), Path(report.main.path), np.concatenate(inputs).transpose(0, 2, 3, 1))
    total = 0
    for x, out in zip(inputs, run.outputs):
        ref, got = onnx.decode(onnx.run(x)[0], CONF, 0.7), onnx.decode(out[0], CONF, 0.7)
        assert len(ref) == len(got) and np.array_equal(ref[:, 5], got[:, 5])
        assert np.abs(ref[:, :5] - got[:, :5]).max(initial=0) < 1e-3
        total += len(ref)
    assert total > 0


def test_web_demo_page_detects_from_file_url(tfjs_export, env, tiny_weights, tmp_path):
    from labeltrain.training.export.verify import sample_images
    from labeltrain.training.export.web_demo import check_demo

    report, onnx_path = tfjs_export
    demo = Path(next(a.path for a in report.artifacts if a.kind == "web-demo"))
    assert {p.name for p in demo.iterdir()} == {"index.html", "app.js", "model.js", "tf.min.js", "README.txt"}
    assert "file://" in (demo / "README.txt").read_text()
    shot = tmp_path / "demo.png"
    check = check_demo(env, demo, sample_images(tiny_weights, (), 2), onnx_path, CONF, screenshot=shot)
    print(check.summary())
    assert check.passed, check
    assert check.images == 2 and check.detections > 0 and check.matched == check.reference == check.detections
    assert check.max_box_diff < 1e-2 and check.max_raw_diff < 1e-3
    assert check.letterbox_equal and check.max_input_diff == 0.0  # 96 px images: no resize, same pixels
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_tflite_float32_float16_verified_with_litert(tiny_weights, env, tmp_path):
    report = export(tiny_weights, "tflite", ExportOptions(conf=CONF, int8=True, out_dir=str(tmp_path)))
    print(report.table())
    print("\n".join(report.messages))
    kinds = {a.kind: a for a in report.artifacts}
    assert list(kinds)[:2] == ["tflite-float32", "tflite-float16"]
    for kind, tolerance in (("tflite-float32", 1e-3), ("tflite-float16", 5e-2)):
        a = kinds[kind]
        assert Path(a.path).is_file() and a.size_bytes == Path(a.path).stat().st_size
        v = a.verification
        assert v.passed and v.runtime.startswith("LiteRT "), v
        assert v.max_abs_diff is not None and v.max_abs_diff < tolerance
        assert v.reference > 0 and v.matched == v.reference and v.min_iou >= 0.99
    assert kinds["tflite-float16"].size_bytes < 0.6 * kinds["tflite-float32"].size_bytes
    # INT8 is calibrated on the sample images offline; whether it matches is reported, not assumed
    int8 = kinds["tflite-int8"]
    assert Path(int8.path).is_file() and int8.verification is not None
    assert int8.verification.passed or int8.verification.notes
    table = report.table()
    assert "tflite-float32" in table and "MB" in table and " ms " in table


def test_missing_converter_env_says_how_to_create_it(tiny_weights, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-env"))
    for fmt in ("tfjs", "tflite"):
        text = EXPORTERS[fmt].missing()
        assert text and "make tfjs-env" in text and "no-such-env" in text, text
        out = tmp_path / f"out-{fmt}"
        with pytest.raises(ExportError, match="make tfjs-env"):
            export(tiny_weights, fmt, ExportOptions(out_dir=str(out)))
        assert not out.exists()


def test_missing_browser_is_reported(tmp_path, monkeypatch, env):
    monkeypatch.setenv(CHROMIUM_VAR, str(tmp_path / "no-chromium"))
    assert "Chromium" in EXPORTERS["tfjs"].missing()
    assert EXPORTERS["tflite"].missing() is None


def test_failed_conversion_leaves_nothing(tiny_weights, tmp_path, monkeypatch):
    """A converter env whose python has no TensorFlow: the ONNX is made, then the conversion fails."""
    import sys

    fake = tmp_path / "broken-env"
    (fake / "bin").mkdir(parents=True)
    (fake / "bin" / "python").symlink_to(sys.executable)
    (fake / ".installed-stamp").touch()
    monkeypatch.setenv(ENV_VAR, str(fake))
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="TensorFlow conversion") as info:
        export(tiny_weights, "tflite", ExportOptions(out_dir=str(out)))
    assert "tensorflow" in str(info.value).lower()
    assert out.is_dir() and list(out.iterdir()) == []


def test_failure_after_conversion_leaves_nothing(tiny_weights, env, tmp_path, monkeypatch):
    """The browser fails after the TF.js model and the demo were written: none of it is published."""
    monkeypatch.setenv(CHROMIUM_VAR, "/bin/false")
    out = tmp_path / "out"
    with pytest.raises(ExportError, match="Chromium"):
        export(tiny_weights, "tfjs", ExportOptions(conf=CONF, out_dir=str(out)))
    assert out.is_dir() and list(out.iterdir()) == []


def test_converter_script_imports_no_labeltrain():
    tree = ast.parse(CONVERT_SCRIPT.read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] in {"labeltrain", "torch", "ultralytics", "cv2"}], names
