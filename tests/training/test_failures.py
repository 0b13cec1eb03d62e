"""Failure classification on the texts and exceptions Ultralytics, torch and the OS produce."""

from __future__ import annotations

import errno

import pytest

from labeltrain.training.failures import NonFiniteLoss, classify, classify_text, crash_failure

CUDA_OOM = ("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity; 5.12 GiB already "
            "allocated; 1.02 GiB free; 5.50 GiB reserved in total by PyTorch)")
CPU_OOM = "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried to " \
          "allocate 8589934592 bytes. Error code 12 (Cannot allocate memory)"


@pytest.mark.parametrize("text", [CUDA_OOM, CPU_OOM, "CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate"])
def test_out_of_memory_suggests_smaller_batch_or_imgsz(text: str) -> None:
    failure = classify(RuntimeError(text), batch=32, imgsz=1280)
    assert failure.kind == "oom"
    assert "Out of memory" in failure.message
    assert "smaller batch (now 32)" in failure.hint and "image size (now 1280)" in failure.hint


def test_memory_error_and_torch_oom_type() -> None:
    class OutOfMemoryError(RuntimeError):
        pass

    assert classify(MemoryError()).kind == "oom"
    assert classify(OutOfMemoryError("boom")).kind == "oom"


def test_disk_full() -> None:
    exc = OSError(errno.ENOSPC, "No space left on device", "/runs/train/weights/last.pt")
    failure = classify(exc)
    assert failure.kind == "disk" and "disk is full" in failure.message and "Free some space" in failure.hint
    wrapped = RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")
    assert classify(wrapped).kind == "disk"


def test_bad_dataset_messages() -> None:
    exc = RuntimeError("Dataset '/d/data.yaml' error ❌ 'val:' key missing ❌.")
    failure = classify(exc)
    assert failure.kind == "data" and "'val:' key missing" in failure.message
    multi = RuntimeError("No valid images found in /d/labels/train.cache.\n  \x1b[34mtrain: \x1b[0m/d/a.png: "
                         "ignoring corrupt image/label: Label class 7 exceeds dataset class count 2\n"
                         "See https://docs.ultralytics.com/datasets for dataset formatting guidance.")
    failure = classify(multi)
    assert failure.kind == "data"
    assert failure.message.startswith("The dataset cannot be used: No valid images found")
    assert "Label class 7 exceeds" in failure.message and "\x1b" not in failure.message


def test_nan_loss() -> None:
    failure = classify(NonFiniteLoss("non-finite loss (nan) for 3 batches in a row in epoch 2"))
    assert failure.kind == "nan" and "NaN" in failure.message and "lr0" in failure.hint
    assert classify(RuntimeError("Training failed: NaN persisted for 4 epochs")).kind == "nan"


def test_config_errors() -> None:
    assert classify(ValueError("Invalid CUDA 'device=0' requested. Use 'device=cpu'")).kind == "config"
    assert classify(SyntaxError("'foo' is not a valid YOLO argument.")).kind == "config"
    finished = AssertionError("last.pt training to 3 epochs is finished, nothing to resume.")
    assert classify(finished).kind == "config"


def test_cause_chain_is_searched() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("saving failed") from inner
    except RuntimeError as outer:
        assert classify(outer).kind == "disk"


def test_unknown_error_keeps_its_text() -> None:
    failure = classify(KeyError("weird"))
    assert failure.kind == "error" and "KeyError" in failure.message and "train.log" in failure.hint


def test_crashed_child() -> None:
    killed = crash_failure(-9)
    assert killed.kind == "crashed" and "SIGKILL" in killed.message and "out of memory" in killed.hint
    assert crash_failure(-11).message == "The training process died (SIGSEGV)."
    assert "exit code 3" in crash_failure(3).message
    assert crash_failure(-9, "...\nRuntimeError: " + CUDA_OOM).kind == "oom"  # the log tells more


def test_text_classification_of_a_log_tail() -> None:
    assert classify_text("OSError: [Errno 28] No space left on device").kind == "disk"
    assert classify_text("everything fine until now").kind == "error"
