"""Pascal VOC XML, as LabelImg writes it: one `<annotation>` file per image, boxes as pixel corners.

Reading is defensive. The parser never resolves entities, never loads a DTD, never touches the network and
keeps libxml2's size limits (`huge_tree=False`); a document that declares entities at all (entity bombs,
external entities such as `file:///etc/passwd`) is refused with a Problem instead of being read. A document
that is not well-formed is reported with its line number and then read in libxml2's recovery mode, so a
file truncated by a crash still shows the boxes it holds.

Boxes keep VOC's per-object extras in `Box.attrs` (`pose`, `truncated`, `difficult`, `occluded`); the
image's `depth` goes to `Annotation.attrs`. `<annotation verified="yes">` is LabelImg's verified flag.
The size in the XML is only checked: boxes are placed on the image as the trainer sees it (EXIF orientation
applied), and a disagreement, typically a rotated phone photo labelled in a tool that ignored EXIF, is a
warning. Coordinates are written as integers when integral and otherwise with `fmt_num`, so that reading
and writing a file gives the same text.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from lxml import etree

from labeltrain.core.atomic import EmptyOverwriteError, atomic_write_bytes
from labeltrain.core.formats import register
from labeltrain.core.formats.base import LabelFormat, ReadResult, SizeFn, WriteOptions, fmt_num, header_size
from labeltrain.core.model import Annotation, Box, ClassNames
from labeltrain.core.problems import Problem, ProblemList, Severity

PEEK_BYTES = 64 * 1024
COORDS = ("xmin", "ymin", "xmax", "ymax")
FLAG_TAGS = ("truncated", "difficult", "occluded")  # integer flags kept in Box.attrs when present
OUT_OF_IMAGE_TOLERANCE = 0.01  # like the trainer: up to 1% of the image size outside is fine

_ROOT_NEEDLES = tuple("<annotation".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_XML_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _parser(recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           recover=recover)


def parse_xml_safely(data: bytes, file: Path | None, problems: ProblemList,
                     rule_prefix: str = "voc") -> etree._Element | None:
    """Parse XML bytes without expanding entities; None (with a Problem) when the document is refused or
    nothing could be recovered."""
    if not data.strip():
        problems.add(file, "empty file: no XML document", line=1, rule=f"{rule_prefix}.syntax")
        return None
    match = _ENTITY_DECL.search(data)
    if match is not None:
        problems.add(file, "the document declares XML entities (entity bomb or external entity); "
                           "refused without expanding them", line=data[:match.start()].count(b"\n") + 1,
                     rule=f"{rule_prefix}.security")
        return None
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        problems.add(file, f"not well-formed XML: {exc.msg}", line=exc.lineno or 1, rule=f"{rule_prefix}.syntax")
        try:
            root = etree.fromstring(data, _parser(recover=True))
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            return None
        problems.add(file, "read what could be recovered from the broken document", line=exc.lineno or 1,
                     severity=Severity.WARNING, rule=f"{rule_prefix}.syntax")
    except (ValueError, etree.LxmlError) as exc:  # e.g. an unsupported encoding declaration
        problems.add(file, f"cannot parse XML: {exc}", line=1, rule=f"{rule_prefix}.syntax")
        return None
    if root is None:
        problems.add(file, "no XML document", line=1, rule=f"{rule_prefix}.syntax")
        return None
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):  # declared in a way the byte scan missed
        problems.add(file, "the document declares XML entities; refused without expanding them", line=1,
                     rule=f"{rule_prefix}.security")
        return None
    if docinfo.system_url:
        problems.add(file, f"external DTD {docinfo.system_url!r} ignored (never loaded)", line=1,
                     severity=Severity.WARNING, rule=f"{rule_prefix}.security")
    return root


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return (el.text or "").strip()


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def check_declared_size(declared: tuple[int, int] | None, actual: tuple[int, int], file: Path | None,
                        where: str, image: Path, rule: str) -> Problem | None:
    """Warning when a label file's image size disagrees with the oriented header size."""
    if declared is None or declared == actual:
        return None
    (dw, dh), (aw, ah) = declared, actual
    if (dw, dh) == (ah, aw):
        message = (f"label file says the image is {dw}x{dh} but {image.name} is {aw}x{ah} as the trainer sees it "
                   "(EXIF orientation applied): the boxes were probably drawn on the unrotated image; "
                   f"using {aw}x{ah}")
    else:
        message = f"label file says the image is {dw}x{dh} but {image.name} is {aw}x{ah}; using {aw}x{ah}"
    return Problem(file, message, where=where, severity=Severity.WARNING, rule=rule)


def _declared_size(root: etree._Element, file: Path, problems: ProblemList) -> tuple[tuple[int, int] | None, int | None]:
    size_el = root.find("size")
    if size_el is None:
        problems.add(file, "no <size>", where="/annotation/size", line=root.sourceline, severity=Severity.WARNING,
                     rule="voc.size")
        return None, None
    values: dict[str, int | None] = {}
    for tag in ("width", "height", "depth"):
        where = f"/annotation/size/{tag}"
        el = size_el.find(tag)
        line = el.sourceline if el is not None else size_el.sourceline
        text = _text(el)
        if text is None:
            values[tag] = None
            if tag != "depth":
                problems.add(file, f"no <{tag}> in <size>", where=where, line=line, severity=Severity.WARNING,
                             rule="voc.size")
            continue
        number = _to_float(text)
        if number is None or not number.is_integer() or number < (0 if tag == "depth" else 1):
            problems.add(file, f"invalid image {tag} {text!r}", where=where, line=line,
                         severity=Severity.WARNING if tag == "depth" else Severity.ERROR, rule="voc.size")
            values[tag] = None
            continue
        values[tag] = int(number)
    w, h = values["width"], values["height"]
    return ((w, h) if w is not None and h is not None else None), values["depth"]


def outside_image(box: Box, width: int, height: int) -> bool:
    """Whether the box reaches outside the image by more than the trainer's tolerance (1%)."""
    tol_x, tol_y = OUT_OF_IMAGE_TOLERANCE * width, OUT_OF_IMAGE_TOLERANCE * height
    b = box.normalized()
    return b.x1 < -tol_x or b.y1 < -tol_y or b.x2 > width + tol_x or b.y2 > height + tol_y


def _to_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _flag_value(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def read_voc_root(root: etree._Element, file: Path, image: Path, classes: ClassNames,
                  size: tuple[int, int] | None, problems: ProblemList) -> tuple[Annotation | None, ClassNames]:
    """Annotation from a parsed `<annotation>` element; `size` is the image's oriented size (None: unknown)."""
    if _local(root.tag) != "annotation":
        problems.add(file, f"root element is <{_local(root.tag)}>, not <annotation>: not a Pascal VOC file",
                     where=f"/{_local(root.tag)}", line=root.sourceline, rule="voc.syntax")
        return None, classes
    declared, depth = _declared_size(root, file, problems)
    if size is None:
        if declared is None:
            problems.add(image, "image cannot be read and the XML has no valid size, so its labels cannot be "
                                "placed", rule="image.read")
            return None, classes
        problems.add(image, "image cannot be read; using the size written in the XML", rule="image.read")
        size = declared
    else:
        mismatch = check_declared_size(declared, size, file, "/annotation/size", image, "voc.size")
        if mismatch is not None:
            problems.append(mismatch)
    width, height = size
    boxes: list[Box] = []
    for i, obj in enumerate(root.findall("object"), start=1):
        where = f"/annotation/object[{i}]"
        box, classes = _read_object(obj, where, file, classes, width, height, problems)
        if box is not None:
            boxes.append(box)
    verified = root.get("verified", "").strip().lower() == "yes"
    attrs = {"depth": depth} if depth is not None else {}
    return Annotation(image, width, height, tuple(boxes), verified, attrs), classes


def _read_object(obj: etree._Element, where: str, file: Path, classes: ClassNames, width: int, height: int,
                 problems: ProblemList) -> tuple[Box | None, ClassNames]:
    name = _text(obj.find("name"))
    if not name:
        problems.add(file, "object without a class <name>; skipped", where=f"{where}/name", line=obj.sourceline,
                     rule="voc.box")
        return None, classes
    bndbox = obj.find("bndbox")
    if bndbox is None:
        problems.add(file, f"object {name!r} has no <bndbox>; skipped", where=f"{where}/bndbox",
                     line=obj.sourceline, rule="voc.box")
        return None, classes
    coords: list[float] = []
    for tag in COORDS:
        el = bndbox.find(tag)
        text = _text(el)
        cwhere = f"{where}/bndbox/{tag}"
        line = el.sourceline if el is not None else bndbox.sourceline
        if text is None:
            problems.add(file, f"object {name!r}: no <{tag}>; skipped", where=cwhere, line=line, rule="voc.box")
            return None, classes
        value = _to_float(text)
        if value is None:
            problems.add(file, f"object {name!r}: <{tag}> is not a finite number: {text!r}; skipped",
                         where=cwhere, line=line, rule="voc.box")
            return None, classes
        coords.append(value)
    attrs: dict[str, Any] = {}
    pose = _text(obj.find("pose"))
    if pose is not None:
        attrs["pose"] = pose
    for tag in FLAG_TAGS:
        text = _text(obj.find(tag))
        if text is None:
            continue
        attrs[tag] = _flag_value(text)
        if not isinstance(attrs[tag], int):
            problems.add(file, f"<{tag}> should be 0 or 1, not {text!r}", where=f"{where}/{tag}",
                         severity=Severity.WARNING, rule="voc.attrs")
    classes, cls_id = classes.with_name(name)
    x1, y1, x2, y2 = coords
    box = Box(cls_id, x1, y1, x2, y2, attrs)
    bwhere = f"{where}/bndbox"
    if x2 < x1 or y2 < y1:
        problems.add(file, f"object {name!r}: xmax < xmin or ymax < ymin", where=bwhere,
                     line=bndbox.sourceline, rule="voc.box")
    elif x2 == x1 or y2 == y1:
        problems.add(file, f"object {name!r}: box has zero width or height", where=bwhere,
                     line=bndbox.sourceline, severity=Severity.WARNING, rule="voc.box")
    if outside_image(box, width, height):
        problems.add(file, f"object {name!r}: box extends outside the {width}x{height} image", where=bwhere,
                     line=bndbox.sourceline, severity=Severity.WARNING, rule="voc.range")
    return box, classes


def _xml_text(value: Any) -> str:
    """Text safe to put in XML (characters XML cannot hold become U+FFFD)."""
    if isinstance(value, bool):
        value = int(value)
    return _XML_INVALID_CHARS.sub("\ufffd", str(value))


def _coord(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 2 ** 53 else fmt_num(value)


def dump_voc(annotation: Annotation, classes: ClassNames, path_text: str | None = None) -> bytes:
    """LabelImg-style XML for the annotation. `path_text` is what goes in `<path>` (default: image path)."""
    image = annotation.image_path

    def sub(parent: etree._Element, tag: str, text: Any = None) -> etree._Element:
        el = etree.SubElement(parent, tag)
        if text is not None:
            el.text = _xml_text(text)
        return el

    root = etree.Element("annotation")
    if annotation.verified:
        root.set("verified", "yes")
    sub(root, "folder", image.parent.name)
    sub(root, "filename", image.name)
    sub(root, "path", path_text if path_text is not None else str(image))
    source = sub(root, "source")
    sub(source, "database", "Unknown")
    size = sub(root, "size")
    sub(size, "width", annotation.width)
    sub(size, "height", annotation.height)
    depth = annotation.attrs.get("depth", 3)
    sub(size, "depth", depth if isinstance(depth, int) else 3)
    sub(root, "segmented", 0)
    for box in annotation.boxes:
        obj = sub(root, "object")
        sub(obj, "name", classes.name(box.cls))
        sub(obj, "pose", box.attrs.get("pose", "Unspecified"))
        sub(obj, "truncated", box.attrs.get("truncated", 0))
        sub(obj, "difficult", box.attrs.get("difficult", 0))
        if "occluded" in box.attrs:
            sub(obj, "occluded", box.attrs["occluded"])
        bndbox = sub(obj, "bndbox")
        for tag, value in zip(COORDS, (box.x1, box.y1, box.x2, box.y2)):
            sub(bndbox, tag, _coord(value))
    etree.indent(root, space="\t")
    return etree.tostring(root, encoding="utf-8", pretty_print=True)


def _has_objects(path: Path) -> bool:
    """Whether the existing file could hold boxes: anything but a missing file, a blank file or a readable
    VOC document with no <object> counts (a broken file is never replaced by an empty one silently)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    if not data.strip():
        return False
    problems = ProblemList()
    root = parse_xml_safely(data, path, problems)
    if root is None or problems.errors():
        return True
    return _local(root.tag) != "annotation" or root.find("object") is not None


@register
class VocFormat(LabelFormat):
    name = "voc"
    title = "Pascal VOC XML"
    suffix = ".xml"

    def read_file(self, label_path: Path, image: Path, classes: ClassNames,
                  size_fn: SizeFn = header_size) -> ReadResult:
        result = ReadResult(classes=classes)
        size = size_fn(image)
        try:
            data = label_path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as exc:
            result.problems.add(label_path, f"cannot read label file: {exc}", line=1, rule="voc.syntax")
            data = None
        root = parse_xml_safely(data, label_path, result.problems) if data is not None else None
        if root is None:
            if size is None:
                result.problems.add(image, "image cannot be read, so its labels cannot be placed",
                                    rule="image.read")
            else:
                result.annotations.append(Annotation(image, size[0], size[1]))
            return result
        annotation, result.classes = read_voc_root(root, label_path, image, classes, size, result.problems)
        if annotation is None and size is not None:  # not a VOC document: the image has no readable labels
            annotation = Annotation(image, size[0], size[1])
        if annotation is not None:
            result.annotations.append(annotation)
        return result

    def write_file(self, label_path: Path, annotation: Annotation, classes: ClassNames,
                   *, allow_clear: bool = False) -> None:
        self._write(label_path, annotation, classes, None, allow_clear)

    def _write(self, label_path: Path, annotation: Annotation, classes: ClassNames, path_text: str | None,
               allow_clear: bool) -> None:
        if not annotation.boxes and not allow_clear and _has_objects(label_path):
            raise EmptyOverwriteError(f"{label_path}: refusing to replace a file with boxes by one without")
        atomic_write_bytes(label_path, dump_voc(annotation, classes, path_text))

    def write_dataset(self, annotations, classes, options: WriteOptions):
        written: list[Path] = []
        for ann in annotations:
            target = self.label_path_in(options, ann.image_path)
            try:
                rel = ann.image_path.resolve().relative_to(options.image_root.resolve()).as_posix()
            except ValueError:
                rel = os.fspath(ann.image_path)
            self._write(target, ann, classes, rel, allow_clear=True)
            written.append(target)
        return written

    def detect(self, path: Path) -> bool:
        if path.suffix.lower() != ".xml":
            return False
        try:
            with open(path, "rb") as fh:
                head = fh.read(PEEK_BYTES)
        except OSError:
            return False
        return any(needle in head for needle in _ROOT_NEEDLES)

