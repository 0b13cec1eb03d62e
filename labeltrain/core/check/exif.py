"""EXIF rules: images whose stored pixels are turned by an EXIF orientation tag.

The trainer applies the orientation (PIL's exif_size, OpenCV's decode), and so does labeltrain, so the labels
must be in the turned frame. Other tools (and Darknet) ignore the tag and show such images sideways with the
boxes in the wrong place: worth knowing, and fixable by baking the rotation into the pixels.
"""

from __future__ import annotations

from labeltrain.core.check.findings import Finding, define, finding
from labeltrain.core.check.registry import ImageContext, image_check
from labeltrain.core.problems import Severity

ORIENTATION_NAMES = {2: "mirrored", 3: "rotated 180°", 4: "flipped vertically", 5: "mirrored and rotated 90° "
                     "counter-clockwise", 6: "rotated 90° clockwise", 7: "mirrored and rotated 90° clockwise",
                     8: "rotated 90° counter-clockwise"}

R_ROTATED = define(
    "exif.rotated", "exif", Severity.INFO, "EXIF-rotated image",
    "nothing is needed for Ultralytics; to make every tool agree, bake the rotation into the pixels",
    fix_id="bake_exif")


@image_check("exif")
def check_exif(ctx: ImageContext) -> list[Finding]:
    o = ctx.facts.orientation
    if ctx.facts.error is not None or o not in ORIENTATION_NAMES:
        return []
    return [finding(R_ROTATED.id, f"EXIF orientation {o} ({ORIENTATION_NAMES[o]}): the trainer applies it and "
                                  f"sees a {ctx.facts.width}x{ctx.facts.height} image; labels must be in that frame",
                    image=ctx.image)]
