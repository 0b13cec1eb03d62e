"""TrainConfig: validation messages, YAML round trip, Ultralytics keyword arguments, presets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labeltrain.training.config import TrainConfig, defaults_for_sample, ultralytics_defaults
from labeltrain.training.presets import AUGMENTATION_PRESETS
from labeltrain.training.validation import architectures, device_problem, model_problem


def _problems(tiny_data: Path, **changes) -> list[str]:
    return TrainConfig(data=str(tiny_data), **changes).validate()


def test_valid_config_has_no_problems(tiny_data: Path) -> None:
    assert _problems(tiny_data, epochs=2, imgsz=64, batch=8, device="cpu") == []


@pytest.mark.parametrize("imgsz", [100, 31, 0, 650])
def test_imgsz_must_be_multiple_of_32(tiny_data: Path, imgsz: int) -> None:
    (problem,) = _problems(tiny_data, imgsz=imgsz)
    assert "multiple of 32" in problem


@pytest.mark.parametrize("device", ["cpu", "", "cuda:0", "0", "0,1", "cuda:0,1", "mps", "CPU", " 0, 1 "])
def test_good_devices(device: str) -> None:
    assert device_problem(device) is None


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "0;1", "1.5", "tpu"])
def test_bad_device_strings(tiny_data: Path, device: str) -> None:
    (problem,) = _problems(tiny_data, device=device)
    assert f"device '{device}'" in problem and "cuda:0" in problem


def test_missing_and_bad_data(tmp_path: Path) -> None:
    assert TrainConfig().validate()[0].startswith("choose the data")
    assert "data not found" in TrainConfig(data=str(tmp_path / "nope.yaml")).validate()[0]
    bad = tmp_path / "data.yaml"
    bad.write_text("train: images/train\nnames: [a]\n")
    problems = TrainConfig(data=str(bad)).validate()
    assert any("'val:' key missing" in p for p in problems)
    assert any("images not found" in p for p in problems)


def test_dataset_folder_is_accepted(tmp_path: Path) -> None:
    assert TrainConfig(data=str(tmp_path)).validate() == []


def test_models() -> None:
    for name in architectures():
        assert model_problem(name) is None, name
    assert "yolo26n.yaml" in architectures() and "yolo11n.yaml" in architectures()
    assert "offline" in model_problem("yolo26n.pt") and "local .pt" in model_problem("yolo26n.pt")
    assert "not a detection model" in model_problem("yolo26n-seg.yaml")
    assert "unknown model" in model_problem("resnet50.yaml")
    assert "not found" in model_problem("/nowhere/best.pt")


def test_local_model_files(tmp_path: Path, tiny_data: Path) -> None:
    pt = tmp_path / "yolo26n.pt"  # a local file with an official name is fine
    pt.write_bytes(b"x")
    assert model_problem(str(pt)) is None
    problems = _problems(tiny_data, weights=str(tmp_path / "missing.pt"))
    assert problems == [f"weights file not found: {tmp_path / 'missing.pt'} (weights must be a local .pt file)"]


def test_numbers_and_choices(tiny_data: Path) -> None:
    problems = _problems(tiny_data, epochs=0, batch=0, workers=-1, patience=-2, lr0=0.0, optimizer="Lion",
                         augment="wild", project="relative/runs", name="a/b")
    text = "\n".join(problems)
    for fragment in ("epochs", "batch", "workers", "patience", "lr0", "optimizer", "augmentation preset",
                     "absolute path", "plain folder name"):
        assert fragment in text
    assert _problems(tiny_data, batch=-1) == []


def test_extra_arguments(tiny_data: Path) -> None:
    problems = _problems(tiny_data, extra={"mosaic": "lots", "foo": 1, "plots": 1, "data": "x", "nbs": 8,
                                           "close_mosaic": 2, "amp": False, "fliplr": 1.5, "nbs2": 1,
                                           "warmup_epochs": 1, "box": 7, "seed": 1.5})
    assert problems == ["extra setting 'mosaic' must be a number from 0 to 1, not 'lots'",
                        "'foo' is not an Ultralytics training argument",
                        "extra setting 'plots' must be true or false, not 1",
                        "'data' cannot be set as an extra setting: labeltrain manages it",
                        "extra setting 'fliplr' must be a number from 0 to 1, not 1.5",
                        "'nbs2' is not an Ultralytics training argument",
                        "extra setting 'seed' must be a whole number, not 1.5"]
    assert "at most 1" in _problems(tiny_data, lr0=2.0)[0]


def test_yaml_round_trip(tmp_path: Path) -> None:
    cfg = TrainConfig(data="/d/data.yaml", model="yolo11n.yaml", epochs=3, batch=-1, device="0,1",
                      extra={"mosaic": 0.5}, augment="light", project="/runs", name="exp")
    path = cfg.save(tmp_path / "cfg.yaml")
    assert TrainConfig.load(path) == cfg
    assert yaml.safe_load(path.read_text())["extra"] == {"mosaic": 0.5}


def test_load_accepts_ultralytics_args_and_rejects_unknown(tmp_path: Path) -> None:
    path = tmp_path / "args.yaml"
    path.write_text("data: /d/data.yaml\nepochs: 5\nmosaic: 0.25\nmode: train\nfliplr: 0.5\ndevice: 0\n")
    cfg = TrainConfig.load(path)
    assert cfg.epochs == 5 and cfg.device == "0"
    assert cfg.extra == {"mosaic": 0.25}  # defaults and reserved keys are dropped
    path.write_text("epochs: 5\nlearning_speed: 3\n")
    with pytest.raises(ValueError, match="learning_speed"):
        TrainConfig.load(path)
    path.write_text("- a list\n")
    with pytest.raises(ValueError, match="mapping"):
        TrainConfig.load(path)


def test_train_kwargs(tmp_path: Path) -> None:
    cfg = TrainConfig(data="x", epochs=2, imgsz=64, augment="none", extra={"fliplr": 0.25, "plots": False})
    kwargs = cfg.train_kwargs(tmp_path / "runs" / "exp", "/d/data.yaml")
    assert kwargs["project"] == str(tmp_path / "runs") and kwargs["name"] == "exp" and kwargs["exist_ok"]
    assert kwargs["data"] == "/d/data.yaml" and kwargs["epochs"] == 2 and kwargs["imgsz"] == 64
    assert kwargs["mosaic"] == 0.0 and kwargs["fliplr"] == 0.25  # extra wins over the preset
    assert kwargs["device"] is None  # '' = automatic
    defaults = ultralytics_defaults()
    for preset in AUGMENTATION_PRESETS.values():
        assert set(preset.overrides) <= set(defaults), preset.name


def test_default_project_is_next_to_the_data(tmp_path: Path) -> None:
    assert TrainConfig(data=str(tmp_path / "d" / "data.yaml")).default_project() == tmp_path / "d" / "runs"
    assert TrainConfig(data=str(tmp_path)).default_project() == tmp_path / "runs"


def test_sample_defaults() -> None:
    cfg = defaults_for_sample("/s")
    assert (cfg.model, cfg.epochs, cfg.imgsz, cfg.batch, cfg.optimizer, cfg.lr0) == (
        "yolo26n.yaml", 20, 256, 8, "AdamW", 0.002)
    assert cfg.extra == {"nbs": 8, "warmup_epochs": 1}
    assert cfg.validate(check_files=False) == []
