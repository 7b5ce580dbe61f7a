"""Occlusion: are the eyes and the mouth region visible? Sunglasses and masks, drawn or worn flat.

Measured on the 112×112 aligned crop (ArcFace template positions, so no landmarks are needed):

* eyes: mean grey of the two eye boxes over that of the two cheek boxes; under
  ``EYES_COVERED_RATIO`` the eyes are covered (dark lenses);
* mouth: mean absolute Laplacian (detail) of the mouth box; under ``MOUTH_MIN_DETAIL`` the mouth
  region is a flat surface (a mask).

Thresholds set on eastasian_calib (306 photos) and the shared photos with flat sunglasses and masks
drawn from the landmarks: no honest photo refused (lowest eye ratio 0.41, lowest mouth detail 5.1);
266 of 303 drawn sunglasses and 110 of 163 drawn masks caught (the other 143 masked photos had no
face found at all). Textured masks, clear glasses or a hand are not recognised.
"""

from __future__ import annotations

import cv2
import numpy as np

from .errors import ImageRefused
from .types import Capture

__all__ = ["EYES_COVERED_RATIO", "MOUTH_MIN_DETAIL", "check_occlusion", "occlusion_measures"]

EYES_COVERED_RATIO = 0.30
MOUTH_MIN_DETAIL = 3.0


def occlusion_measures(aligned: np.ndarray) -> tuple[float, float]:
    """(eye-to-cheek brightness ratio, mouth detail) of an aligned 112×112 RGB crop."""
    grey = cv2.cvtColor(aligned, cv2.COLOR_RGB2GRAY).astype(np.float32)
    eyes = np.concatenate([grey[44:60, 28:50].ravel(), grey[44:60, 62:84].ravel()])
    cheeks = np.concatenate([grey[66:80, 22:36].ravel(), grey[66:80, 76:90].ravel()])
    mouth = grey[84:104, 36:76]
    detail = float(np.abs(cv2.Laplacian(mouth, cv2.CV_32F)).mean())
    return float(eyes.mean() / max(float(cheeks.mean()), 1.0)), detail


def check_occlusion(capture: Capture) -> None:
    """Raises:
        ImageRefused: ``eyes_covered`` or ``mouth_covered``.
    """
    ratio, detail = occlusion_measures(capture.aligned)
    if ratio < EYES_COVERED_RATIO:
        raise ImageRefused("eyes_covered", f"eye/cheek brightness {ratio:.2f}")
    if detail < MOUTH_MIN_DETAIL:
        raise ImageRefused("mouth_covered", f"mouth detail {detail:.2f}")
