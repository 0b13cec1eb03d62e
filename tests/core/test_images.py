"""Image reading: trainer-identical sizes, reduced decode, Unicode paths, and no crash on bad files."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from labeltrain.core.formats import get
from labeltrain.core.images import (
    ImageReadError,
    image_size,
    is_image_name,
    pick_reduction,
    read_header,
    read_image,
)
from labeltrain.core.model import ClassNames

BAD = Path(__file__).resolve().parent.parent / "data" / "bad_images"


def test_extensions_match_the_trainer():
    from ultralytics.data.utils import IMG_FORMATS

    from labeltrain.core.images import IMAGE_EXTENSIONS

    assert set(IMAGE_EXTENSIONS) == set(IMG_FORMATS)
    assert is_image_name("a.JPG") and is_image_name("x.y.webp") and not is_image_name("a.txt")
    assert not is_image_name("jpg")


@pytest.mark.parametrize("name", ["empty.jpg", "garbage.png", "text_named.jpg", "html_named.webp", "header_only.jpg"])
def test_unreadable_files_raise_image_read_error(name):
    with pytest.raises(ImageReadError):
        read_header(BAD / name)
    with pytest.raises(ImageReadError):
        read_image(BAD / name)


def test_truncated_jpeg_header_reads_and_decode_does_not_crash():
    header = read_header(BAD / "truncated.jpg")
    assert (header.width, header.height) == (64, 64)
    try:
        img = read_image(BAD / "truncated.jpg")
    except ImageReadError:
        return
    assert img.shape == (64, 64, 3)


def test_labels_of_an_unreadable_image_are_reported_not_raised(tmp_path):
    label = tmp_path / "garbage.txt"
    label.write_text("0 0.5 0.5 0.1 0.1\n")
    result = get("yolo").read_file(label, BAD / "garbage.png", ClassNames.of(["a"]))
    assert result.annotations == []
    assert [p.rule for p in result.problems] == ["image.read"]


def test_unicode_path_and_reduced_decode(tmp_path):
    folder = tmp_path / "données 写真"
    folder.mkdir()
    path = folder / "bild_ä.jpg"
    arr = np.zeros((800, 1200, 3), np.uint8)
    arr[100:200, 300:500] = (0, 255, 0)
    Image.fromarray(arr[..., ::-1]).save(path, quality=95)
    assert image_size(path) == (1200, 800)
    full = read_image(path)
    assert full.shape == (800, 1200, 3)
    quarter = read_image(path, reduce=4)
    assert quarter.shape == (200, 300, 3)
    assert quarter[37, 100, 1] > 200  # the green block at 1/4 scale
    with pytest.raises(ValueError):
        read_image(path, reduce=3)
    assert pick_reduction((4000, 3000), (1000, 700)) == 4
    assert pick_reduction((4000, 3000), (3000, 2000)) == 1


@pytest.mark.parametrize("channels", [1, 4])
def test_gray_and_alpha_images_decode_to_bgr(tmp_path, channels):
    path = tmp_path / f"c{channels}.png"
    cv2.imwrite(str(path), np.full((20, 30, channels), 77, np.uint8))
    img = read_image(path)
    assert img.shape == (20, 30, 3)
