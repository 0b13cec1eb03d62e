"""The checker's verdicts against Ultralytics' own `verify_image_label`, called directly: for every image of a
generated corpus covering each way the trainer can judge an image/label pair (and for random label files),
'the trainer ignores this image' and 'the rows it keeps' must be the same. Each case's expected finding is
checked too."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeltrain.core.check import CheckOptions, check_image_file, run_check
from tests.core.check import corpus

CASES = {c.name: c for c in corpus.cases()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    corpus.build(root)
    report = run_check(root, options=CheckOptions(executor="serial"))
    return root, report


@pytest.fixture(scope="module")
def ultralytics_verdicts(built, tmp_path_factory):
    """Ultralytics' verdict per case, on a copy (it rewrites JPEGs it can restore)."""
    root, _ = built
    copy = tmp_path_factory.mktemp("ultra") / "c"
    shutil.copytree(root, copy)
    out = {}
    for case in CASES.values():
        out[case.name] = _ultralytics(copy / "images" / f"{case.name}.{case.ext}", copy / "labels" / f"{case.name}.txt")
    return out


def _ultralytics(image: Path, label: Path, nc: int = corpus.NC) -> tuple[bool, int | None, str]:
    from PIL import Image
    from ultralytics.data.utils import verify_image_label

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = int(1024 * 1024 * 1024 // 4 // 3)  # PIL's default, as in a training process
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = verify_image_label((str(image), str(label), "", False, nc, 0, 0, False))
    finally:
        Image.MAX_IMAGE_PIXELS = saved
    rejected = result[8] == 1
    return rejected, None if rejected else len(result[1]), result[9]


def test_corpus_covers_at_least_40_bad_cases():
    assert sum(c.bad for c in CASES.values()) >= 40
    assert len(CASES) == len(corpus.cases())  # names are unique


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_has_its_expected_findings(built, name):
    root, report = built
    case = CASES[name]
    image = str(root / "images" / f"{case.name}.{case.ext}")
    rules = {f.rule for f in report.by_image().get(image, [])}
    missing = set(case.expect) - rules
    assert not missing, f"{name}: expected {sorted(missing)}, got {sorted(rules)}"
    assert not set(case.absent) & rules, f"{name}: unexpected {sorted(set(case.absent) & rules)}"
    assert (image in report.rejected_images()) == case.rejected
    for f in report.by_image().get(image, []):
        assert f.message and f.severity and f.fix, f
        if f.rule.startswith("label.") and f.rule not in ("label.missing", "label.empty", "label.encoding"):
            assert f.line is not None and f.label is not None, f


@pytest.mark.parametrize("name", sorted(CASES))
def test_verdict_agrees_with_ultralytics(built, ultralytics_verdicts, name):
    root, report = built
    case = CASES[name]
    rejected, kept, message = ultralytics_verdicts[name]
    image = root / "images" / f"{case.name}.{case.ext}"
    ours = check_image_file(image, root / "labels" / f"{case.name}.txt", nc=corpus.NC)
    assert ours.rejected == rejected, f"{name}: ours {ours.rejected}, Ultralytics {rejected}: {message}"
    assert (str(image) in report.rejected_images()) == rejected
    assert case.rejected == rejected, f"{name}: the corpus expects rejected={case.rejected}: {message}"
    if not rejected:
        assert ours.labels.kept == kept, f"{name}: ours keeps {ours.labels.kept} rows, Ultralytics {kept}"


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if (c.image or b"\xff\xd8\xff")[:3] == b"\xff\xd8\xff"))
def test_jpeg_header_walk_matches_pil(built, name):
    """The fast header walk either defers to PIL (None) or says what PIL says: size and EXIF orientation."""
    import os

    from PIL import Image

    from labeltrain.core.check.images import HEAD_BYTES, _jpeg_header

    root, _ = built
    case = CASES[name]
    path = root / "images" / f"{case.name}.{case.ext}"
    fd = os.open(path, os.O_RDONLY)
    try:
        fast = _jpeg_header(fd, os.pread(fd, HEAD_BYTES, 0), os.fstat(fd).st_size)
    finally:
        os.close(fd)
    if fast is None:
        assert not name.startswith(("ok_jpeg", "exif_", "ok_big", "ok_comment", "ok_progressive")), name
        return
    with Image.open(path) as im:
        assert (fast[0], fast[1]) == im.size
        assert fast[2] == (im.getexif().get(274) or 1)


def test_corrupt_jpeg_is_reported_but_not_written(built):
    root, _ = built
    case = CASES["img_trailing_garbage"]
    path = root / "images" / f"{case.name}.{case.ext}"
    assert path.read_bytes() == case.image  # the checker never rewrites images (the trainer does)


# Random label files: every token the trainer can meet, in rows of 1-9 fields.
_TOKENS = st.sampled_from([
    "0", "1", "2", "3", "7", "-1", "-0", "1.0", "1.5", "0.5", "0.2", "0.999", "1", "1.01", "1.0100001", "1.02",
    "1.010000001", "-0.005", "-0.01", "-0.0100001", "-0.02", "0", "0.0", "1e-50", "1e39", "-1e39", "nan", "inf",
    "-inf", "x", "1e0", "٣", "0.30000000000000004", "+0.5", ".5", "5.", "0x1", "1_0",
])
_ROW = st.lists(_TOKENS, min_size=1, max_size=9).map(" ".join)
_GOOD = st.tuples(st.integers(0, 3), *(st.floats(-0.02, 1.03) for _ in range(4)), st.integers(3, 12)).map(
    lambda t: " ".join([str(t[0]), *(f"{v:.{t[5]}g}" for v in t[1:5])]))
_FILE = st.lists(st.one_of(_ROW, _GOOD, _GOOD, _GOOD), min_size=0, max_size=6).map(
    lambda rows: "\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "images").mkdir()
    (root / "labels").mkdir()
    (root / "images" / "a.jpg").write_bytes(corpus.jpeg())
    return root


@settings(max_examples=300, deadline=None)
@given(text=_FILE, dup=st.booleans())
def test_random_label_files_agree_with_ultralytics(fuzz_dir, text, dup):
    if dup and text.strip():
        text += text.splitlines()[0] + "\n"
    label = fuzz_dir / "labels" / "a.txt"
    label.write_text(text, encoding="utf-8")
    image = fuzz_dir / "images" / "a.jpg"
    rejected, kept, message = _ultralytics(image, label)
    ours = check_image_file(image, label, nc=corpus.NC)
    assert ours.rejected == rejected, f"{text!r}: ours {ours.rejected}, Ultralytics: {message}"
    if not rejected:
        assert ours.labels.kept == kept, f"{text!r}: ours keeps {ours.labels.kept}, Ultralytics {kept}"


def test_sample_project_verdicts_agree_with_ultralytics(tmp_path):
    sample = Path(__file__).resolve().parents[3] / "resources" / "sample"
    copy = tmp_path / "sample"
    shutil.copytree(sample, copy)
    report = run_check(copy)
    rejected = report.rejected_images()
    for image in sorted((copy / "images").iterdir()):
        ultra, _, message = _ultralytics(image, copy / "labels" / f"{image.stem}.txt")
        assert (str(image) in rejected) == ultra, f"{image.name}: {message}"
