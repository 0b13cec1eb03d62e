"""Image rules: what Ultralytics' `check_image` decides, from the header alone where that is enough.

The trainer opens every image with PIL, `verify()`s it, takes the EXIF-oriented size, rejects images under
10 px or in a format it does not train on, and, for a JPEG without an end marker (FF D9), re-encodes the file
in place ("corrupt JPEG restored and saved"). Here a small JPEG marker walk reads the size and EXIF orientation
from the first few KiB plus the last two bytes; anything unusual (junk between markers, MPO, Photoshop blocks,
odd EXIF) goes to the trainer's own PIL sequence, so the verdicts are the same by construction.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from labeltrain.core.check.findings import Effect, Finding, define, finding
from labeltrain.core.check.registry import ImageContext, image_check
from labeltrain.core.images import IMAGE_EXTENSIONS
from labeltrain.core.problems import Severity

HEAD_BYTES = 4096
READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)  # O_BINARY: no newline translation on Windows

if hasattr(os, "pread"):
    _pread = os.pread
else:  # Windows
    def _pread(fd: int, n: int, offset: int) -> bytes:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, n)
# PIL's default decompression-bomb limit: Image.open raises above twice this many pixels. The trainer runs with
# the default (labeltrain's own reader lifts the limit, so it is applied here by hand).
PIL_MAX_PIXELS = int(1024 * 1024 * 1024 // 4 // 3)
TRAINER_FORMATS = frozenset(IMAGE_EXTENSIONS | {"jpeg2000"})
_FORMATS_HELP = "Supported formats are: " + ", ".join(sorted(IMAGE_EXTENSIONS))

R_UNREADABLE = define(
    "image.unreadable", "images", Severity.ERROR, "image cannot be opened",
    "replace the file with a readable image, or delete the image and its label file",
    effect=Effect.REJECT, source="ultralytics")
R_TOO_SMALL = define(
    "image.too_small", "images", Severity.ERROR, "image size <10 pixels",
    "use an image of at least 10x10 pixels, or remove it", effect=Effect.REJECT, source="ultralytics")
R_TOO_LARGE = define(
    "image.too_large", "images", Severity.ERROR, "image exceeds PIL's decompression-bomb limit",
    "downscale the image (the trainer refuses images above 178,956,970 pixels)", effect=Effect.REJECT,
    source="ultralytics")
R_FORMAT = define(
    "image.format", "images", Severity.ERROR, "invalid image format",
    "convert the image to JPEG or PNG (the file content decides, not its extension)", effect=Effect.REJECT,
    source="ultralytics")
R_CORRUPT_JPEG = define(
    "image.corrupt_jpeg", "images", Severity.ERROR, "corrupt JPEG restored and saved",
    "re-encode the image yourself (or restore it from its source): the trainer overwrites this file with a "
    "re-encoded copy", effect=Effect.ALTER, source="ultralytics")

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SKIPPED = frozenset({0xC4, 0xCC, 0xDC, 0xDD, 0xDF, 0xFE})  # DHT, DAC, DNL, DRI, EXP, COM: length only
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
# TIFF field types PIL's IFD reader knows -> size in bytes (unknown types make us ask PIL instead).
_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8,
               18: 8}


@dataclass(slots=True)
class ImageFacts:
    """What the trainer would learn about an image. `width`/`height` are oriented (as the trainer sees them);
    `error` is (rule id, message) when the trainer rejects the image; `corrupt_jpeg` is True when the file has
    no JPEG end marker (the trainer then rewrites it, or rejects it if even that fails)."""

    width: int = 0
    height: int = 0
    orientation: int = 1
    format: str = ""
    file_size: int = 0
    head_crc: int = 0
    error: tuple[str, str] | None = None
    corrupt_jpeg: bool = False
    fast: bool = False  # read by the header walk (False: by PIL)


def read_image_facts(path: str) -> ImageFacts:
    """Header facts of one image, with the trainer's verdict. Never raises."""
    facts = ImageFacts()
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError as exc:
        facts.error = (R_UNREADABLE.id, _os_message(exc, path))
        return facts
    try:
        size = os.fstat(fd).st_size
        facts.file_size = size
        head = _pread(fd, HEAD_BYTES, 0)
        facts.head_crc = zlib.crc32(head)
        parsed = _jpeg_header(fd, head, size) if head[:3] == b"\xff\xd8\xff" else None
        tail = _pread(fd, 2, size - 2) if parsed is not None and size >= 2 else b""
    except OSError as exc:
        facts.error = (R_UNREADABLE.id, _os_message(exc, path))
        return facts
    finally:
        os.close(fd)
    if parsed is None:
        _pil_facts(path, facts)
        return facts
    w, h, orientation = parsed
    facts.fast = True
    facts.format = "JPEG"
    facts.orientation = orientation
    _finish(path, facts, w, h, orientation in (5, 6, 7, 8), tail != b"\xff\xd9")
    return facts


def _finish(path: str, facts: ImageFacts, w: int, h: int, swap: bool, no_end_marker: bool) -> None:
    """The trainer's checks after opening, in its order: bomb limit (at open), size, format, JPEG end marker."""
    if w * h > 2 * PIL_MAX_PIXELS:
        facts.error = (R_TOO_LARGE.id, f"Image size ({w * h} pixels) exceeds limit of {2 * PIL_MAX_PIXELS} "
                                       "pixels, could be decompression bomb DOS attack.")
        return
    if swap:
        w, h = h, w
    facts.width, facts.height = w, h
    if not (h > 9 and w > 9):
        facts.error = (R_TOO_SMALL.id, f"image size ({h}, {w}) <10 pixels")
        return
    if facts.format.lower() not in TRAINER_FORMATS:
        facts.error = (R_FORMAT.id, f"Invalid image format {facts.format}. {_FORMATS_HELP}")
        return
    if facts.format.lower() in ("jpg", "jpeg") and no_end_marker:
        facts.corrupt_jpeg = True
        problem = _restore_error(path)
        if problem is not None:
            facts.error = (R_CORRUPT_JPEG.id, f"JPEG without end marker that the trainer cannot restore: {problem}")


def _os_message(exc: OSError, path: str) -> str:
    return f"[Errno {exc.errno}] {exc.strerror}: '{path}'" if exc.strerror else str(exc)


# ---------------------------------------------------------------------------------------------------------
# JPEG header walk
# ---------------------------------------------------------------------------------------------------------
_MARKER = struct.Struct(">BBH")
# Runs of table/frame segments up to and including the start-of-scan header, seen before, by their first 32
# bytes: [(the run's bytes, the frame size they declare)]. PIL's walk over identical bytes ends identically.
_TABLES: dict[bytes, list[tuple[bytes, tuple[int, int]]]] = {}


def _jpeg_header(fd: int, head: bytes, size: int) -> tuple[int, int, int] | None:
    """(stored width, stored height, EXIF orientation) of a well-formed JPEG, walking the markers up to the
    start of scan exactly as PIL does; None for anything PIL might judge differently (PIL then decides)."""
    buf, base = head, 0  # buf holds the file's bytes from offset `base`
    unpack = _MARKER.unpack_from
    off = 2
    sof: tuple[int, int] | None = None
    exif: bytes | None = None
    xmp = False
    region = -1  # where the first marker after the APPn segments is (in buf), while it can still be cached
    while True:
        i = off - base
        if i + 4 > len(buf):
            buf, base, i = _pread(fd, 8192, off), off, 0
            region = -1
            if len(buf) < 4:
                return None
        ff, m, n = unpack(buf, i)
        n -= 2
        if ff != 0xFF or n < 0 or off + 4 + n > size:
            return None
        if 0xE0 <= m <= 0xEF:
            region = -1  # APPn segments have side effects (EXIF, XMP...): never part of a cached run
        elif region < 0 and sof is None:
            # Tables and frame header: files from one encoder repeat them byte for byte. Seen before, their
            # walk (which depends on nothing else) gave this frame size.
            region = i
            for known, known_sof in _TABLES.get(buf[i:i + 32], ()):
                if buf.startswith(known, i):
                    sof = known_sof
                    off += len(known)
                    m = 0xDA
                    break
            if m == 0xDA:
                break
        if m in _SKIPPED:  # DHT and friends: length only
            off += 4 + n
            continue
        if m == 0xDA:
            if region >= 0 and sof is not None and i + 4 + n <= len(buf):
                known = _TABLES.get(buf[region:region + 32])
                if known is None and len(_TABLES) < 64:
                    known = _TABLES[buf[region:region + 32]] = []
                if known is not None and len(known) < 16:
                    known.append((buf[region:i + 4 + n], sof))
            break
        j = i + 4
        if j + n > len(buf):  # the segment runs past the window: read it whole
            buf, base, i, j = _pread(fd, max(n + 4, 8192), off), off, 0, 4
            region = -1
        if m in _SOF:
            if sof is not None or n < 6 or buf[j] != 8 or buf[j + 5] not in (1, 3, 4):
                return None
            sof = ((buf[j + 3] << 8) | buf[j + 4], (buf[j + 1] << 8) | buf[j + 2])
        elif m == 0xDB:
            k, end = j, j + n
            while k < end:
                k += 65 if buf[k] < 16 else 129
            if k != end:
                return None  # PIL: "bad quantization table marker"
        elif m == 0xE1:
            if buf.startswith(b"Exif\x00\x00", j):
                if exif is not None:
                    return None
                exif = buf[j:j + n]
            elif buf.startswith(_XMP, j):
                xmp = True
        elif m == 0xE0:
            if n < 7 and buf.startswith(b"JFIF", j):
                return None
        elif m == 0xE2:
            if buf.startswith(b"MPF\x00", j) or (n < 14 and buf.startswith(b"ICC_PROFILE\x00", j)):
                return None
        elif m == 0xED:
            if buf.startswith(b"Photoshop 3.0\x00", j):
                return None
        elif m == 0xEE:
            if n < 7 and buf.startswith(b"Adobe", j):
                return None
        elif not 0xE0 <= m <= 0xEF:
            return None
        off += 4 + n
    if sof is None or sof[0] == 0 or sof[1] == 0:
        return None
    orientation = 0
    if exif is not None:
        found = _exif_orientation(exif, 6)
        if found is None:
            return None
        orientation = found
    if orientation == 0:
        if xmp:
            return None  # PIL falls back to the XMP orientation
        orientation = 1
    return sof[0], sof[1], orientation


_U16 = {"<": struct.Struct("<H"), ">": struct.Struct(">H")}
_U32 = {"<": struct.Struct("<L"), ">": struct.Struct(">L")}
_ENTRY = {"<": struct.Struct("<HHL"), ">": struct.Struct(">HHL")}


def _exif_orientation(data: bytes, start: int) -> int | None:
    """Tag 274 of the first IFD of the TIFF block at data[start:] (0: absent); None when PIL's reader might see
    it differently (unusual byte order, truncated or odd entries)."""
    t = data[start:]
    if len(t) < 8:
        return None
    order = t[:4]
    if order == b"II*\x00":
        e = "<"
    elif order == b"MM\x00*":
        e = ">"
    else:
        return None
    u16, u32, entry = _U16[e], _U32[e], _ENTRY[e]
    ifd = u32.unpack_from(t, 4)[0]
    if ifd + 2 > len(t):
        return None
    count = u16.unpack_from(t, ifd)[0]
    if ifd + 2 + 12 * count > len(t):
        return None
    size = len(t)
    for p in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, typ, n = entry.unpack_from(t, p)
        unit = _TIFF_SIZES.get(typ)
        if unit is None:
            return None
        if tag == 274:
            if n != 1 or typ not in (3, 4):
                return None
            return u16.unpack_from(t, p + 8)[0] if typ == 3 else u32.unpack_from(t, p + 8)[0]
        if unit * n > 4 and u32.unpack_from(t, p + 8)[0] + unit * n > size:
            return None  # PIL stops reading the IFD here
    return 0


# ---------------------------------------------------------------------------------------------------------
# The trainer's own sequence (PIL), for everything the header walk leaves alone
# ---------------------------------------------------------------------------------------------------------
_heif_registered = False


def _open(path: str) -> Image.Image:
    """Image.open, registering the HEIF plugin on the first unidentified file (as the trainer does)."""
    global _heif_registered
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        if _heif_registered:
            raise
        _heif_registered = True
        try:
            from pi_heif import register_heif_opener
        except ImportError:
            raise
        register_heif_opener()
        return Image.open(path)


def _pil_facts(path: str, facts: ImageFacts) -> None:
    try:
        im = _open(path)
        try:
            im.verify()
            w, h = im.size
            fmt = im.format or ""
            orientation = 1
            try:
                exif = im.tag_v2 if fmt == "TIFF" else im.getexif()
                orientation = exif.get(274) or 1
                orientation = orientation if isinstance(orientation, int) else 1
            except Exception:
                orientation = 1
        finally:
            im.close()
    except Exception as exc:  # the trainer catches everything and ignores the image
        facts.error = (R_UNREADABLE.id, str(exc) or type(exc).__name__)
        return
    facts.format = fmt
    facts.orientation = orientation
    no_end_marker = False
    if fmt.lower() in ("jpg", "jpeg"):
        try:
            with open(path, "rb") as fh:
                fh.seek(-2, 2)
                no_end_marker = fh.read() != b"\xff\xd9"
        except OSError as exc:
            facts.error = (R_UNREADABLE.id, _os_message(exc, path))
            return
    _finish(path, facts, w, h, orientation in (5, 6, 7, 8), no_end_marker)


def _restore_error(path: str) -> str | None:
    """None if the trainer's in-place restore of a JPEG without end marker would succeed (decode with EXIF
    applied, save as JPEG), else the error it would hit and then ignore the image for. Writes nothing."""
    try:
        with Image.open(path) as im:
            upright = ImageOps.exif_transpose(im)
        upright.save(io.BytesIO(), "JPEG", subsampling=0, quality=100)
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return None


@image_check("images")
def check_image(ctx: ImageContext) -> list[Finding]:
    facts = ctx.facts
    out: list[Finding] = []
    if facts.error is not None:
        rule, message = facts.error
        if rule == R_CORRUPT_JPEG.id:
            out.append(finding(rule, message, image=ctx.image, effect=Effect.REJECT))
        else:
            out.append(finding(rule, message, image=ctx.image))
    elif facts.corrupt_jpeg:
        out.append(finding(R_CORRUPT_JPEG.id, "corrupt JPEG restored and saved: the file has no JPEG end "
                                              "marker, so the trainer re-encodes it in place", image=ctx.image))
    return out
