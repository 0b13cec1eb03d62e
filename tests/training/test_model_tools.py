"""Evaluation, ONNX export and prediction on a really trained tiny model (the `tiny_weights` fixture):
evaluation numbers equal Ultralytics' own val(), the ONNX export is verified against PyTorch and is
all-or-nothing, the CLI commands answer with the documented exit codes and JSON, predicted labels are written
without replacing anyone's label file."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from labeltrain.cli import main
from labeltrain.training.detectors import TorchDetector, open_detector
from labeltrain.training.evaluate import evaluate
from labeltrain.training.export import ExportError, ExportOptions, export
from labeltrain.training.onnx_infer import OnnxDetector
from labeltrain.training.predict import predict_images, save_labels
from labeltrain.training.ultra import load_yolo, quiet

CONF = 0.005  # the tiny model's scores are low; at this threshold it still finds its squares and circles


def _data_yaml(weights: Path) -> Path:
    return Path(load_yolo(weights).overrides["data"])


def _val_images(weights: Path) -> list[str]:
    return sorted(str(p) for p in (_data_yaml(weights).parent / "images" / "val").glob("*.png"))


def test_evaluation_equals_ultralytics_val(tiny_weights: Path) -> None:
    result = evaluate(tiny_weights, conf=CONF, batch=4)
    with quiet():
        metrics = load_yolo(tiny_weights).val(data=str(_data_yaml(tiny_weights)), split="val", batch=4,
                                              plots=False, verbose=False)
    assert result.map50 == pytest.approx(float(metrics.box.map50), abs=1e-9)
    assert result.map50_95 == pytest.approx(float(metrics.box.map), abs=1e-9)
    assert result.precision == pytest.approx(float(metrics.box.mp), abs=1e-9)
    assert result.recall == pytest.approx(float(metrics.box.mr), abs=1e-9)
    for c in result.classes:
        if c.instances:
            i = list(metrics.ap_class_index).index(c.cls)
            assert c.ap50 == pytest.approx(float(metrics.box.ap50[i]), abs=1e-9)
    # per image: every ground-truth box is a TP or an FN, and the confusion matrix counts every true box once
    assert result.images == 8
    assert sum(len(i.tp) + len(i.fn) for i in result.per_image) == result.instances
    true_counts = np.asarray(result.confusion.matrix).sum(0)[:-1]
    assert int(true_counts.sum()) == result.instances
    back = type(result).from_dict(json.loads(result.to_json()))
    assert back == result


def test_onnx_export_verifies_against_pytorch(tiny_weights: Path, tmp_path: Path) -> None:
    images = tuple(_val_images(tiny_weights))
    report = export(tiny_weights, "onnx", ExportOptions(images=images, conf=CONF, out_dir=str(tmp_path / "out")))
    onnx_file = Path(report.main.path)
    assert onnx_file == tmp_path / "out" / "best.onnx" and onnx_file.is_file()
    v = report.main.verification
    assert v is not None and v.passed and report.verified
    assert v.images == len(images) and v.matched > 0 and v.reference == v.matched + v.borderline
    assert v.max_abs_diff is not None and v.max_abs_diff < 1e-2
    assert v.min_iou >= 0.99
    saved = json.loads(Path(report.report_path).read_text())
    assert saved["verified"] is True and saved["artifacts"][0]["path"] == str(onnx_file)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["best.onnx", "best.onnx.report.json"]
    # the file carries Ultralytics' metadata; onnxruntime detections equal PyTorch on the same input
    det = OnnxDetector(onnx_file)
    assert det.names == {0: "square", 1: "circle"} and det.input_hw == (96, 96)
    torch_det = TorchDetector(tiny_weights, imgsz=96, end2end=False)
    img = cv2.imread(images[0])
    batch, _ = det.prepare(img)
    assert np.allclose(det.run(batch), torch_det.run(batch), atol=1e-2)


def test_onnx_with_nms_inside_is_verified_by_its_detections(tiny_weights: Path, tmp_path: Path) -> None:
    report = export(tiny_weights, "onnx", ExportOptions(images=tuple(_val_images(tiny_weights)), conf=CONF,
                                                        nms=True, out_dir=str(tmp_path)))
    v = report.main.verification
    assert v is not None and v.passed and v.max_abs_diff is None and v.matched > 0
    assert OnnxDetector(report.main.path).final_rows


def test_a_failed_export_leaves_nothing_behind(tiny_weights: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out).mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="multiple of 32"):
        export(tiny_weights, "onnx", ExportOptions(imgsz=100, out_dir=str(out)))
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    with pytest.raises(ExportError, match="unknown export format"):
        export(tiny_weights, "caffe", ExportOptions(out_dir=str(out)))
    with pytest.raises(ExportError, match="no such weights"):
        export(tmp_path / "missing.pt", "onnx")


def test_cli_export_json_and_exit_codes(tiny_weights: Path, tmp_path: Path, capsys) -> None:
    images = _val_images(tiny_weights)[:3]
    code = main(["export", str(tiny_weights), "--format", "onnx", "--verify", "--json", "--conf", str(CONF),
                 "--out", str(tmp_path), "--images", *images])
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)  # exactly one JSON object on stdout
    assert report["verified"] is True and report["format"] == "onnx"
    assert report["artifacts"][0]["verification"]["images"] == 3
    assert main(["export", str(tmp_path / "nope.pt"), "--format", "onnx"]) == 1


def test_predict_writes_labels_but_never_over_existing_ones(tiny_weights: Path, tmp_path: Path, capsys) -> None:
    images = _val_images(tiny_weights)[:4]
    labels = tmp_path / "labels"
    labels.mkdir()
    mine = labels / f"{Path(images[0]).stem}.txt"
    mine.write_text("1 0.5 0.5 0.2 0.2\n")
    assert main(["predict", str(tiny_weights), *images, "--conf", str(CONF), "--save-labels", str(labels)]) == 0
    assert mine.read_text() == "1 0.5 0.5 0.2 0.2\n"
    assert "1 existing label files kept" in capsys.readouterr().err
    detector = open_detector(tiny_weights)
    for image in images[1:]:
        img = cv2.imread(image)
        h, w = img.shape[:2]
        want = detector.detect(img, conf=CONF)
        text = (labels / f"{Path(image).stem}.txt").read_text()
        rows = [[float(v) for v in line.split()] for line in text.splitlines()]
        assert len(rows) == len(want)
        for (cls, xc, yc, bw, bh), d in zip(rows, want):
            assert cls == d[5]
            assert abs(xc * w - (d[0] + d[2]) / 2) < 0.01 and abs(yc * h - (d[1] + d[3]) / 2) < 0.01
            assert abs(bw * w - (d[2] - d[0])) < 0.01 and abs(bh * h - (d[3] - d[1])) < 0.01
    [pred] = list(predict_images(detector, [images[0]], conf=CONF))
    assert save_labels(pred, labels) is None and save_labels(pred, labels, overwrite=True) == mine
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    [bad] = list(predict_images(detector, [broken]))
    assert bad.error and bad.rows == ()
