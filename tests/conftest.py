"""Suite-wide test settings: hypothesis profiles (CI runs >= 1,000 examples per property)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# Never let a test touch the network or the user's real Ultralytics settings.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")


# A really trained tiny detector, shared by the evaluation, export, prediction and assisted-labelling tests.
import pytest  # noqa: E402

TINY_EPOCHS = 15


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory):
    """best.pt of a real 15-epoch training (~20 s on 2 cores) of yolo26n on 48 generated 96 px images of two
    classes, through labeltrain's engine. Its scores are low (mostly < 0.05): tests pick low thresholds."""
    from pathlib import Path

    from labeltrain.training.config import TrainConfig
    from labeltrain.training.events import Finished
    from labeltrain.training.runner import TrainingRun
    from tests.training.synthetic import make_dataset

    root = tmp_path_factory.mktemp("tiny-model")
    os.environ.setdefault("LABELTRAIN_DATA_DIR", str(root / "home"))
    data = make_dataset(root / "data", n_train=48, n_val=8, size=96, seed=3)
    config = TrainConfig(data=str(data), model="yolo26n.yaml", epochs=TINY_EPOCHS, imgsz=96, batch=8, device="cpu",
                         workers=0, optimizer="AdamW", lr0=0.002, project=str(root / "runs"),
                         extra={"nbs": 8, "warmup_epochs": 1, "plots": False})
    run = TrainingRun()
    run.start(config)
    result = run.wait(timeout=600)
    assert isinstance(result, Finished), result
    return Path(result.weights)
