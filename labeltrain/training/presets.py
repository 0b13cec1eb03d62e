"""Augmentation presets: named sets of Ultralytics augmentation arguments (a registry, not an if-chain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AugmentPreset:
    name: str
    description: str
    overrides: dict[str, Any] = field(default_factory=dict)


_NO_AUGMENTATION = {
    "hsv_h": 0.0, "hsv_s": 0.0, "hsv_v": 0.0, "degrees": 0.0, "translate": 0.0, "scale": 0.0, "shear": 0.0,
    "perspective": 0.0, "flipud": 0.0, "fliplr": 0.0, "bgr": 0.0, "mosaic": 0.0, "mixup": 0.0, "cutmix": 0.0,
    "copy_paste": 0.0,
}

AUGMENTATION_PRESETS: dict[str, AugmentPreset] = {
    p.name: p for p in (
        AugmentPreset("default", "Ultralytics' defaults: colour jitter, flips, scale/translate, mosaic."),
        AugmentPreset("light", "Milder colour, scale and translate changes; mosaic half the time. For small or "
                               "uniform datasets where strong changes hide the objects.",
                      {"hsv_h": 0.01, "hsv_s": 0.4, "hsv_v": 0.25, "translate": 0.05, "scale": 0.25,
                       "mosaic": 0.5}),
        AugmentPreset("strong", "More rotation, scale, mixup and copy-paste. For larger datasets that overfit.",
                      {"degrees": 10.0, "scale": 0.7, "shear": 2.0, "mixup": 0.15, "cutmix": 0.1}),
        AugmentPreset("none", "No augmentation: the model sees the images exactly as labelled.", _NO_AUGMENTATION),
    )
}
