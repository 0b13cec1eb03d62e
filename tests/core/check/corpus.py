"""A generated corpus covering every way Ultralytics' `verify_image_label` can judge an image/label pair, with
the finding the checker must report for each case. Layout: <root>/images/<case>.<ext>, <root>/labels/<case>.txt,
<root>/classes.txt with 3 classes (nc = 3)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

NC = 3
GOOD_ROW = b"0 0.5 0.5 0.2 0.2\n"


@dataclass(frozen=True)
class Case:
    name: str
    ext: str = "jpg"
    image: bytes | None = None        # None: the standard 64x48 JPEG
    label: bytes | None = GOOD_ROW    # None: no label file
    expect: tuple[str, ...] = ()      # rule ids that must be reported for this image
    rejected: bool = False            # what the trainer does (checked against Ultralytics too)
    absent: tuple[str, ...] = ()      # rule ids that must NOT be reported
    label_is_dir: bool = False
    notes: dict = field(default_factory=dict)

    @property
    def bad(self) -> bool:
        return bool(self.expect) and any(not r.startswith(("exif.", "label.empty", "label.polygon"))
                                         for r in self.expect)


def _pixels(w: int, h: int, seed: int = 0, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = ((x * 3 + y * 2) % 256).astype(np.uint8)
    arr = np.stack([base, base[::-1], np.full_like(base, 90)], -1)
    arr = np.clip(arr.astype(int) + rng.integers(-20, 20, arr.shape), 0, 255).astype(np.uint8)
    im = Image.fromarray(arr)
    return im.convert(mode) if mode != "RGB" else im


def encode(im: Image.Image, fmt: str = "JPEG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def jpeg(w: int = 64, h: int = 48, seed: int = 0, **kw) -> bytes:
    return encode(_pixels(w, h, seed), "JPEG", quality=90, **kw)


def exif_jpeg(orientation: int, w: int = 64, h: int = 48) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "labeltrain test camera"  # an ASCII tag stored at an offset, before the orientation
    return jpeg(w, h, exif=exif.tobytes())


def _sof_offset(data: bytes) -> int:
    """Offset of the SOF0/SOF2 segment's data (after marker and length)."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], (data[i + 2] << 8) | data[i + 3]
        if marker in (0xC0, 0xC2):
            return i + 4
        i += 2 + length
    raise ValueError("no SOF")


def patch_sof(data: bytes, *, bits: int | None = None, layers: int | None = None,
              size: tuple[int, int] | None = None) -> bytes:
    b = bytearray(data)
    s = _sof_offset(data)
    if bits is not None:
        b[s] = bits
    if size is not None:
        w, h = size
        b[s + 1:s + 3] = h.to_bytes(2, "big")
        b[s + 3:s + 5] = w.to_bytes(2, "big")
    if layers is not None:
        b[s + 5] = layers
    return bytes(b)


def junk_between_markers(data: bytes) -> bytes:
    """Two junk bytes after the APP0 segment: PIL skips them, so does the trainer."""
    length = (data[4] << 8) | data[5]
    cut = 4 + length
    return data[:cut] + b"\x00\x00" + data[cut:]


def xmp_jpeg(orientation: int) -> bytes:
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="%d"/>'
           b"</rdf:RDF></x:xmpmeta>" % orientation)
    return jpeg(xmp=xmp)


def broken_exif_jpeg() -> bytes:
    """An APP1 'Exif' block whose TIFF header is garbage: the trainer ignores it (orientation 1)."""
    data = jpeg()
    seg = b"Exif\x00\x00" + b"XX\x00\x00garbage!"
    app1 = b"\xff\xe1" + (len(seg) + 2).to_bytes(2, "big") + seg
    return data[:2] + app1 + data[2:]


def big_exif_jpeg(orientation: int = 6) -> bytes:
    """A camera-like EXIF block of ~20 KiB (a long maker note before the orientation's IFD entry is read), so the
    start-of-frame marker lies far beyond the first 4 KiB."""
    exif = Image.Exif()
    exif[0x010F] = "labeltrain test camera"
    exif[0x0112] = orientation
    exif[0x010E] = "x" * 20000  # ImageDescription
    return jpeg(exif=exif.tobytes())


def big_icc_jpeg() -> bytes:
    icc = b"\x00" * 30000
    return jpeg(icc_profile=icc)


def comment_jpeg() -> bytes:
    return jpeg(comment=b"shot with a test camera " * 50)


def png_bad_crc() -> bytes:
    data = bytearray(encode(_pixels(40, 30), "PNG"))
    i = data.index(b"IDAT")
    data[i + 8] ^= 0xFF  # flip a data byte: the chunk CRC no longer matches
    return bytes(data)


def png_crc_only_bad() -> bytes:
    data = bytearray(encode(_pixels(40, 30), "PNG"))
    i = data.index(b"IDAT")
    length = int.from_bytes(data[i - 4:i], "big")
    data[i + 4 + length] ^= 0xFF  # the CRC itself
    return bytes(data)


def cases() -> list[Case]:
    good = jpeg()
    big = jpeg(200, 150, seed=3)
    C = Case
    out = [
        # ---- images --------------------------------------------------------------------------------------
        C("ok_jpeg"),
        C("ok_10x10", image=jpeg(10, 10)),
        C("img_9x50", image=jpeg(50, 9), expect=("image.too_small",), rejected=True),
        C("img_50x9", image=jpeg(9, 50), expect=("image.too_small",), rejected=True),
        C("img_1x1_png", ext="png", image=encode(_pixels(1, 1), "PNG"), expect=("image.too_small",), rejected=True),
        C("img_exif6_tiny", image=exif_jpeg(6, 50, 9), expect=("image.too_small",), rejected=True),
        C("img_truncated_scan", image=big[: len(big) * 6 // 10], expect=("image.corrupt_jpeg",), rejected=True),
        C("img_no_eoi", image=good[:-2], expect=("image.corrupt_jpeg",), rejected=True),
        C("img_trailing_garbage", image=good + b"garbage!", expect=("image.corrupt_jpeg",)),
        C("img_gif_as_jpg", image=encode(_pixels(30, 30).convert("P"), "GIF"), expect=("image.format",),
          rejected=True),
        C("img_gif_as_png", ext="png", image=encode(_pixels(30, 30).convert("P"), "GIF"),
          expect=("image.format",), rejected=True),
        C("img_ppm", ext="jpg", image=encode(_pixels(30, 30), "PPM"), expect=("image.format",), rejected=True),
        C("img_empty_file", image=b"", expect=("image.unreadable",), rejected=True),
        C("img_text_file", image=b"this is not an image\n", expect=("image.unreadable",), rejected=True),
        C("img_header_only", image=good[:20] + b"\xff\xd9", expect=("image.unreadable",), rejected=True),
        C("img_12bit", image=patch_sof(good, bits=12), expect=("image.unreadable",), rejected=True),
        C("img_2_layers", image=patch_sof(good, layers=2), expect=("image.unreadable",), rejected=True),
        C("img_zero_width", image=patch_sof(good, size=(0, 48)), expect=("image.unreadable",), rejected=True),
        C("img_bomb", image=patch_sof(good, size=(30000, 30000)), expect=("image.too_large",), rejected=True),
        C("img_png_bad_data", ext="png", image=png_bad_crc(), expect=("image.unreadable",), rejected=True),
        C("img_png_bad_crc", ext="png", image=png_crc_only_bad(), expect=("image.unreadable",), rejected=True),
        C("img_png_truncated", ext="png", image=encode(_pixels(40, 30), "PNG")[:-30],
          expect=("image.unreadable",), rejected=True),
        C("ok_png", ext="png", image=encode(_pixels(40, 30), "PNG")),
        C("ok_bmp", ext="bmp", image=encode(_pixels(40, 30), "BMP")),
        C("ok_webp", ext="webp", image=encode(_pixels(40, 30), "WEBP")),
        C("ok_tiff", ext="tif", image=encode(_pixels(40, 30), "TIFF")),
        C("ok_png_named_jpg", image=encode(_pixels(40, 30), "PNG")),
        C("ok_jpeg_named_png", ext="png", image=good),
        C("img_jpeg_named_png_no_eoi", ext="png", image=good[:-2], expect=("image.corrupt_jpeg",), rejected=True),
        C("img_jpeg_named_png_garbage", ext="png", image=good + b"\x00" * 7, expect=("image.corrupt_jpeg",)),
        C("ok_progressive", image=jpeg(progressive=True)),
        C("ok_gray", image=encode(_pixels(64, 48, mode="L"), "JPEG")),
        C("ok_cmyk", image=encode(_pixels(64, 48, mode="CMYK"), "JPEG")),
        C("ok_junk_between_markers", image=junk_between_markers(good)),
        C("ok_broken_exif", image=broken_exif_jpeg(), absent=("exif.rotated",)),
        C("exif_6", image=exif_jpeg(6), expect=("exif.rotated",)),
        C("exif_3", image=exif_jpeg(3), expect=("exif.rotated",)),
        C("exif_8", image=exif_jpeg(8), expect=("exif.rotated",)),
        C("exif_1", image=exif_jpeg(1), absent=("exif.rotated",)),
        C("xmp_orientation_6", image=xmp_jpeg(6), expect=("exif.rotated",)),
        C("exif_big_block", image=big_exif_jpeg(6), expect=("exif.rotated",)),
        C("ok_big_icc", image=big_icc_jpeg()),
        C("ok_comment", image=comment_jpeg()),
        # ---- label files ---------------------------------------------------------------------------------
        C("lbl_missing", label=None, expect=("label.missing",)),
        C("lbl_is_dir", label=None, label_is_dir=True, expect=("label.missing",)),
        C("lbl_empty", label=b"", expect=("label.empty",)),
        C("lbl_blank_lines", label=b"\n  \n\t\n", expect=("label.empty",)),
        C("lbl_bom_crlf", label=b"\xef\xbb\xbf0 0.5 0.5 0.2 0.2\r\n1 0.3 0.3 0.1 0.1\r\n"),
        C("lbl_tabs", label=b"0\t0.5\t0.5\t0.2\t0.2\n"),
        C("lbl_not_utf8", label="0 0.5 0.5 0.2 0.2 é\n".encode("latin-1"), expect=("label.encoding",),
          rejected=True),
        C("lbl_class_7", label=b"0 0.5 0.5 0.2 0.2\n7 0.4 0.4 0.1 0.1\n", expect=("label.class_range",),
          rejected=True),
        C("lbl_class_3", label=b"3 0.5 0.5 0.2 0.2\n", expect=("label.class_range",), rejected=True),
        C("lbl_class_2", label=b"2 0.5 0.5 0.2 0.2\n"),
        C("lbl_class_negative", label=b"-1 0.5 0.5 0.2 0.2\n", expect=("label.negative",), rejected=True),
        C("lbl_class_tiny_negative", label=b"-0.005 0.5 0.5 0.2 0.2\n", expect=("label.class_non_integer",),
          rejected=True),
        C("lbl_class_minus_zero", label=b"-0 0.5 0.5 0.2 0.2\n"),
        C("lbl_class_float", label=b"1.5 0.5 0.5 0.2 0.2\n", expect=("label.class_non_integer",), rejected=True),
        C("lbl_class_1e0", label=b"1e0 0.5 0.5 0.2 0.2\n"),
        C("lbl_class_word", label=b"cat 0.5 0.5 0.2 0.2\n", expect=("label.syntax",), rejected=True),
        C("lbl_class_nan", label=b"nan 0.5 0.5 0.2 0.2\n", expect=("label.negative",), rejected=True),
        C("lbl_class_inf", label=b"inf 0.5 0.5 0.2 0.2\n", expect=("label.class_non_integer",), rejected=True),
        C("lbl_class_arabic_digit", label="\u0663 0.5 0.5 0.2 0.2\n".encode(), expect=("label.class_range",),
          rejected=True),
        C("lbl_pixels", label=b"0 224.5 199.5 63 69\n", expect=("label.non_normalized",), rejected=True),
        C("lbl_x_1.02", label=b"0 1.02 0.5 0.01 0.2\n", expect=("label.non_normalized",), rejected=True),
        C("lbl_x_1.01", label=b"0 1.01 0.5 0.01 0.2\n", expect=("box.past_edge", "box.darknet")),
        C("lbl_x_1.0100001", label=b"0 1.0100001 0.5 0.01 0.2\n", expect=("label.non_normalized",),
          rejected=True),
        C("lbl_x_1.010000001", label=b"0 1.010000001 0.5 0.01 0.2\n", expect=("box.past_edge",)),
        C("lbl_w_1e39", label=b"0 0.5 0.5 1e39 0.2\n", expect=("label.non_normalized",), rejected=True),
        C("lbl_x_nan", label=b"0 nan 0.5 0.2 0.2\n", expect=("label.non_normalized",), rejected=True),
        C("lbl_y_inf", label=b"0 0.5 inf 0.2 0.2\n", expect=("label.non_normalized",), rejected=True),
        C("lbl_x_minus_inf", label=b"0 -inf 0.5 0.2 0.2\n", expect=("label.negative",), rejected=True),
        C("lbl_x_-0.005", label=b"0 -0.005 0.5 0.2 0.2\n", expect=("box.past_edge", "box.darknet")),
        C("lbl_x_-0.02", label=b"0 -0.02 0.5 0.2 0.2\n", expect=("label.negative",), rejected=True),
        C("lbl_w_negative", label=b"0 0.5 0.5 -0.001 0.2\n", expect=("label.negative",), rejected=True),
        C("lbl_negative_other_row", label=b"0 -0.005 0.5 0.2 0.2\n1 0.5 0.5 0.2 -0.0001\n",
          expect=("label.negative",), rejected=True),
        C("lbl_zero_width", label=b"0 0.5 0.5 0 0.2\n", expect=("box.zero_area",)),
        C("lbl_underflow", label=b"0 0.5 0.5 1e-50 0.2\n", expect=("box.zero_area",)),
        C("lbl_tiny_box", label=b"0 0.5 0.5 0.001 0.2\n", expect=("box.tiny",)),
        C("lbl_past_edge", label=b"1 0.95 0.5 0.2 0.2\n", expect=("box.past_edge",), absent=("box.darknet",)),
        C("lbl_darknet_x0", label=b"1 0 0.5 0.1 0.2\n", expect=("box.darknet", "box.past_edge")),
        C("lbl_4_columns", label=b"0.5 0.5 0.2 0.2\n", expect=("label.columns",), rejected=True),
        C("lbl_6_columns", label=b"0 0.5 0.5 0.2 0.2 0.9\n", expect=("label.columns",), rejected=True),
        C("lbl_1_column", label=b"0\n", expect=("label.columns",), rejected=True),
        C("lbl_ragged", label=b"0 0.5 0.5 0.2 0.2\n0.3 0.3 0.1 0.1\n", expect=("label.columns",), rejected=True),
        C("lbl_nul_byte", label=b"0 0.5 0.5 0.2 0.2\x00\n", expect=("label.syntax",), rejected=True),
        C("lbl_comment", label=b"0 0.5 0.5 0.2 0.2 # cat\n", expect=("label.syntax",), rejected=True),
        C("lbl_duplicate", label=b"0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n0 0.5 0.5 0.2 0.2\n",
          expect=("label.duplicate",)),
        C("lbl_duplicate_spelling", label=b"0 0.5 0.5 0.2 0.2\n0 0.50 0.5000000001 2e-1 0.2\n",
          expect=("label.duplicate",)),
        C("lbl_duplicate_minus_zero", label=b"0 0.5 0.5 0.2 0.2\n-0 0.5 0.5 0.2 0.2\n",
          expect=("label.duplicate",)),
        C("lbl_duplicate_and_reject", label=b"0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n",
          expect=("label.duplicate", "label.class_range"), rejected=True),
        C("lbl_near_duplicate", label=b"0 0.5 0.5 0.2 0.2\n0 0.501 0.5 0.2 0.2\n", expect=("box.near_duplicate",)),
        C("lbl_overlap_other_class", label=b"0 0.5 0.5 0.2 0.2\n1 0.501 0.5 0.2 0.2\n",
          absent=("box.near_duplicate",)),
        C("lbl_form_feed", label=b"0 0.5 0.5 0.2 0.2\x0c1 0.3 0.3 0.1 0.1\n"),
        C("lbl_polygon", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5 0.1 0.5\n", expect=("label.polygon",)),
        C("lbl_polygon_and_point", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5\n1 0.3 0.3\n", expect=("label.polygon",)),
        C("lbl_polygon_past_1.01", label=b"0 0.2 0.1 1.02 0.1 1.02 0.5\n", expect=("label.polygon",)),
        C("lbl_polygon_far_out", label=b"0 0.2 0.1 3.5 0.1 3.5 0.5\n", expect=("label.non_normalized",),
          rejected=True),
        C("lbl_polygon_mixed", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5\n1 0.5 0.5 0.2 0.2\n", expect=("label.mixed",),
          rejected=True),
        C("lbl_polygon_odd", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5 0.7\n", expect=("label.columns",), rejected=True),
        C("lbl_polygon_with_6", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5\n1 0.5 0.5 0.2 0.2 0.1\n",
          expect=("label.columns",), rejected=True),
        C("lbl_polygon_class_only", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5\n1\n", expect=("label.columns",),
          rejected=True),
        C("lbl_polygon_word", label=b"0 0.1 0.1 0.4 0.1 0.4 x\n", expect=("label.syntax",), rejected=True),
        C("lbl_polygon_duplicate", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5\n0 0.1 0.1 0.4 0.1 0.4 0.5\n",
          expect=("label.duplicate",)),
        C("lbl_polygon_same_box", label=b"0 0.1 0.1 0.4 0.1 0.4 0.5\n0 0.1 0.1 0.4 0.5 0.4 0.1\n",
          expect=("label.polygon",), absent=("label.duplicate",)),
        C("lbl_polygon_class_7", label=b"7 0.1 0.1 0.4 0.1 0.4 0.5\n", expect=("label.class_range",),
          rejected=True),
        # an image the trainer rejects and a label it would also reject: both reported
        C("both_bad", image=b"", label=b"9 0.5 0.5 0.2 0.2\n", expect=("image.unreadable", "label.class_range"),
          rejected=True),
    ]
    return out


def build(root: Path) -> list[Case]:
    """Write the corpus below `root`; returns the cases."""
    images, labels = root / "images", root / "labels"
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("cat\ndog\nbird\n")
    good = jpeg()
    all_cases = cases()
    for case in all_cases:
        (images / f"{case.name}.{case.ext}").write_bytes(good if case.image is None else case.image)
        if case.label_is_dir:
            (labels / f"{case.name}.txt").mkdir()
        elif case.label is not None:
            (labels / f"{case.name}.txt").write_bytes(case.label)
    return all_cases
