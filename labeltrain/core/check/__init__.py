"""The dataset checker: the trainer's own label and image rules (Ultralytics `verify_image_label` and
`check_det_dataset`, Darknet's bad_label checks) plus labeltrain's, reported before training.

    from labeltrain.core.check import run_check, CheckOptions
    report = run_check("path/to/dataset")            # CheckReport
    report.findings                                   # [Finding(rule, severity, message, image, label, line, ...)]
    report.rejected_images()                          # what the trainer would ignore

Rules live in one module per family (images, exif, rows, boxes, dataset_rules) and register themselves in
`findings.RULES` (metadata) and `registry` (check functions); `fixes` holds the safe one-click fixes.
"""

# Import order = the order findings of one image are reported in.
from labeltrain.core.check import images as _images  # noqa: F401,I001
from labeltrain.core.check import exif as _exif  # noqa: F401
from labeltrain.core.check import rows as _rows  # noqa: F401
from labeltrain.core.check import boxes as _boxes  # noqa: F401
from labeltrain.core.check import dataset_rules as _dataset_rules  # noqa: F401
from labeltrain.core.check.findings import RULES, Effect, Finding, Rule, finding
from labeltrain.core.check.registry import CheckOptions
from labeltrain.core.check.report import CheckReport
from labeltrain.core.check.runner import ImageResult, check_image_file, resolve_executor, run_check

__all__ = ["RULES", "Effect", "Finding", "Rule", "finding", "CheckOptions", "CheckReport", "ImageResult",
           "check_image_file", "resolve_executor", "run_check"]
