"""The command line: version, usage errors, convert between every pair of formats losslessly, split."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labeltrain import __version__
from labeltrain.cli import main
from labeltrain.core.dataset import discover, load_annotation

FORMATS = ["yolo", "voc", "coco", "createml", "labelme"]


@pytest.fixture
def yolo_dataset(tmp_path):
    """A LabelImg-style folder: 4 images of different sizes (one EXIF-rotated, one in a subfolder)."""
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    specs = [("img1.jpg", 320, 240, 1), ("img2.png", 200, 300, 1), ("sub/img10.jpg", 256, 128, 1),
             ("rot.jpg", 300, 200, 6)]
    rows = {
        "img1": "0 0.5 0.5 0.25 0.5\n1 0.1 0.2 0.05 0.1\n",
        "img2": "2 0.3333333333 0.6666666667 0.2 0.1\n",
        "sub/img10": "",  # a negative
        "rot": "1 0.25 0.75 0.1234567 0.2\n",
    }
    for name, w, h, orientation in specs:
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(np.full((h, w, 3), 99, np.uint8)).save(root / name, exif=exif.tobytes())
        stem = name.rsplit(".", 1)[0]
        (root / f"{stem}.txt").write_text(rows[stem])
    (root / "classes.txt").write_text("cat\ndog\nbird\n")
    return root


def _normalised_boxes(path, **kw):
    ds = discover(path, **kw)
    out = {}
    for item in ds.items:
        result = load_annotation(ds, item)
        for ann in result.annotations:
            key = Path(ann.image_path).name
            out[key] = sorted((ds.classes.name(b.cls), *np.round(b.xywh_norm(ann.width, ann.height), 9))
                              for b in ann.boxes)
    return out


def test_version_from_the_installed_entry_point():
    exe = Path(sys.executable).parent / "labeltrain"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == f"labeltrain {__version__}"


def test_usage_errors_exit_2(capsys):
    assert main(["convert"]) == 2
    assert main(["convert", "a", "b", "--to", "nonsense"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_failures_exit_1_with_one_line_reason(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "missing"), str(tmp_path / "out"), "--to", "voc"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    assert main(["split", str(tmp_path / "missing")]) == 1


@pytest.mark.parametrize("target", FORMATS)
def test_convert_to_every_format_and_back_is_lossless(yolo_dataset, tmp_path, target, capsys):
    expected = _normalised_boxes(yolo_dataset)
    assert len(expected) == 4 and sum(len(v) for v in expected.values()) == 4
    out = tmp_path / f"as_{target}"
    assert main(["convert", str(yolo_dataset), str(out), "--to", target, "--copy-images"]) == 0
    assert "converted 4 images, 4 boxes" in capsys.readouterr().out
    source = out / ("annotations.json" if target == "coco" else "createml.json" if target == "createml" else "")
    back = tmp_path / f"back_from_{target}"
    assert main(["convert", str(source), str(back), "--to", "yolo", "--copy-images"]) == 0
    for path in (out if target not in ("coco", "createml") else source, back):
        got = _normalised_boxes(path)
        assert got.keys() == expected.keys()
        for key in expected:
            np.testing.assert_allclose([r[1:] for r in got[key]], [r[1:] for r in expected[key]], atol=1e-6)
            assert [r[0] for r in got[key]] == [r[0] for r in expected[key]]


def test_convert_without_copy_references_images(yolo_dataset, tmp_path):
    out = tmp_path / "voc"
    assert main(["convert", str(yolo_dataset), str(out), "--to", "voc"]) == 0
    assert (out / "labels" / "sub" / "img10.xml").exists()
    assert not (out / "images").exists()
    got = _normalised_boxes(yolo_dataset, label_dir=out / "labels")
    assert got == _normalised_boxes(yolo_dataset)


def test_split_writes_lists_and_data_yaml(yolo_dataset, capsys):
    assert main(["split", str(yolo_dataset), "--val", "0.25", "--seed", "3"]) == 0
    assert "split 4 images" in capsys.readouterr().out
    assert (yolo_dataset / "data.yaml").exists()
    assert main(["split", str(yolo_dataset), "--val", "0.9", "--test", "0.2"]) == 1
