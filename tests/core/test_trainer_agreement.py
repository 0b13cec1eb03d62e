"""What we write is what the trainer reads: YOLO files through Ultralytics' own verification and loader,
including an EXIF-rotated JPEG whose labels must land on the same pixels."""

import numpy as np
import pytest
from PIL import Image

from labeltrain.core.formats import get
from labeltrain.core.images import image_size, read_header, read_image
from labeltrain.core.model import Annotation, Box, ClassNames

CLASSES = ClassNames.of(["red", "green"])


def _rotated_jpeg(path, stored_w=240, stored_h=160):
    """A JPEG stored landscape with EXIF orientation 6 (displayed rotated 90 deg clockwise): portrait."""
    arr = np.full((stored_h, stored_w, 3), 40, np.uint8)
    im = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(path, exif=exif.tobytes(), quality=95)


def _paint_oriented(path, rect, color):
    """Paint `rect` (x1, y1, x2, y2 in the oriented frame) by rewriting the stored pixels, keeping EXIF 6."""
    with Image.open(path) as im:
        stored = np.asarray(im.convert("RGB")).copy()
        exif = im.getexif()
    oriented = np.rot90(stored, k=-1).copy()  # orientation 6 = rotate 90 deg clockwise for display
    x1, y1, x2, y2 = rect
    oriented[y1:y2, x1:x2] = color
    stored = np.rot90(oriented, k=1)
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif.tobytes(), quality=98)


def test_exif_rotated_labels_land_on_the_same_pixels_in_ultralytics_loader(tmp_path):
    from ultralytics.data.dataset import YOLODataset

    images = tmp_path / "images"
    labels = tmp_path / "labels"
    images.mkdir()
    img = images / "rotated.jpg"
    _rotated_jpeg(img)
    rect = (20, 150, 90, 220)  # oriented frame: the image is 160 wide, 240 high
    _paint_oriented(img, rect, (255, 0, 0))
    header = read_header(img)
    assert header.orientation == 6 and (header.width, header.height) == (160, 240)
    # our own decode shows the red block where we painted it
    bgr = read_image(img)
    assert bgr.shape[:2] == (240, 160)
    assert bgr[185, 55, 2] > 200 and bgr[185, 55, 1] < 60

    ann = Annotation(img, *image_size(img), (Box(0, *map(float, rect)),))
    get("yolo").write_file(labels / "rotated.txt", ann, CLASSES)

    ds = YOLODataset(img_path=str(images), imgsz=240, augment=False, rect=False, cache=False,
                     data={"names": CLASSES.as_dict(), "nc": len(CLASSES), "channels": 3}, task="detect")
    assert len(ds.labels) == 1
    label = ds.labels[0]
    assert label["shape"] == (240, 160)  # (h, w) as the trainer sees it
    loaded, _, (h, w) = ds.load_image(0)  # BGR, long side resized to imgsz
    xc, yc, bw, bh = label["bboxes"][0]
    x1, x2 = int((xc - bw / 2) * w) + 3, int((xc + bw / 2) * w) - 3
    y1, y2 = int((yc - bh / 2) * h) + 3, int((yc + bh / 2) * h) - 3
    inside = loaded[y1:y2, x1:x2]
    assert inside[..., 2].mean() > 200 and inside[..., 1].mean() < 60, "label box is not on the red block"
    outside = loaded[: max(0, y1 - 10), :]
    assert outside[..., 2].mean() < 100


@pytest.mark.parametrize("orientation", [1, 6])
def test_written_yolo_passes_ultralytics_verification_with_the_same_boxes(tmp_path, orientation):
    from ultralytics.data.utils import verify_image_label

    img = tmp_path / "images" / "a.jpg"
    img.parent.mkdir()
    im = Image.fromarray(np.full((300, 400, 3), 128, np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    im.save(img, exif=exif.tobytes())
    w, h = image_size(img)
    boxes = (Box(0, 10.25, 20.5, 110.75, 90.125), Box(1, 0.0, 0.0, float(w), float(h)),
             Box(1, w - 33.3, h - 44.4, float(w), float(h)))
    label = tmp_path / "labels" / "a.txt"
    get("yolo").write_file(label, Annotation(img, w, h, boxes), CLASSES)
    out = verify_image_label((str(img), str(label), "", False, len(CLASSES), 0, 0, False))
    im_file, lb, shape, _segments, _kpts, nm, nf, ne, nc, msg = out
    assert (nm, nf, ne, nc) == (0, 1, 0, 0), msg
    assert shape == (h, w)
    assert lb.shape == (3, 5)
    for row, box in zip(lb, boxes):
        assert int(row[0]) == box.cls
        np.testing.assert_allclose(row[1:], box.xywh_norm(w, h), atol=1e-6)
