"""Quality measures of a face and the gates a check-in frame must pass, each with a reason code.

The measures are cheap and computed on the aligned 112×112 crop, so they do not depend on the
camera's resolution: sharpness is the variance of the Laplacian of the grey crop (low = blurred),
brightness the mean grey level of the crop's central part (the face, not the background), yaw
and pitch rough ratios from the 68 landmarks. The default limits were set so that ordinary
photographs (the LFW calibration set, webcam-like frames from ../shared/faces) pass and clearly
unusable ones do not; they are parameters of ``QualityPolicy`` for the app to tune.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import ImageRefused
from .types import Face, Quality

__all__ = ["QualityPolicy", "check_quality", "measure_quality", "estimate_yaw"]


@dataclass(frozen=True)
class QualityPolicy:
    """Limits of a usable face.

    min_face_px: smallest box width in image pixels. dlib's box is tight (eyebrows to chin): a
        40 px box has about 16 px between the eyes; LFW's 150×150 crops give 52–90 px boxes.
    min_sharpness: smallest Laplacian variance of the aligned grey crop.
    min_brightness / max_brightness: range of the mean grey level (0–255) of the face.
    max_yaw / max_pitch: largest absolute yaw and pitch ratios (see ``measure_quality``).
    secondary_face_ratio: another face counts as a second person when its box is at least this
        fraction of the largest one's width; smaller faces far behind (a queue at a kiosk, a poster)
        are ignored.
    several_faces: ``"refuse"`` (check-ins: a second comparable face makes the frame ambiguous,
        reason ``several_faces``) or ``"central"`` (photo pairs such as LFW, whose convention is
        that the labelled person is the face nearest the centre: that face is used, others ignored).
    """

    min_face_px: int = 40
    min_sharpness: float = 15.0
    min_brightness: float = 40.0
    max_brightness: float = 235.0
    max_yaw: float = 0.8
    max_pitch: float = 0.5
    secondary_face_ratio: float = 0.5
    several_faces: str = "refuse"


def estimate_yaw(points: np.ndarray) -> float:
    """Rough yaw from 68 landmarks: where the nose tip sits between the jaw's two ends.

    Returns a ratio in about [-1, 1]: 0 frontal, positive when the nose moves towards the image's
    right edge (the person turns to their own left, camera not mirrored), negative the other way.
    """
    left = float(points[0, 0])
    right = float(points[16, 0])
    nose = float(points[30, 0])
    width = right - left
    if width <= 1e-6:
        return 0.0
    return float(np.clip(2.0 * (nose - left) / width - 1.0, -1.5, 1.5))


def _estimate_pitch(points: np.ndarray) -> float:
    eyes_y = (points[36:48, 1]).mean()
    mouth_y = (points[48:68, 1]).mean()
    span = mouth_y - eyes_y
    if span <= 1e-6:
        return 1.0
    # nose tip sits a little over half-way from eye line to mouth on a frontal face
    return float((points[30, 1] - eyes_y) / span - 0.6)


def measure_quality(face: Face, aligned: np.ndarray) -> Quality:
    """Measure one face.

    Args:
        face: the detected face (box and landmarks).
        aligned: its uint8 RGB 112×112 aligned crop.

    Returns:
        A ``Quality`` with face_px, sharpness, brightness, yaw and pitch.
    """
    grey = cv2.cvtColor(aligned, cv2.COLOR_RGB2GRAY)
    centre = grey[24:100, 24:88]
    sharpness = float(cv2.Laplacian(centre, cv2.CV_64F).var())
    return Quality(
        face_px=face.box.width,
        sharpness=sharpness,
        brightness=float(centre.mean()),
        yaw=estimate_yaw(face.landmarks.points),
        pitch=_estimate_pitch(face.landmarks.points),
    )


def check_quality(quality: Quality, policy: QualityPolicy = QualityPolicy()) -> None:
    """Raise ``ImageRefused`` with the first failed gate's reason, or return.

    Reasons, in the order checked: ``face_too_small``, ``too_dark``, ``too_bright``, ``pose``,
    ``too_blurry`` (darkness and pose are checked before blur because they also lower sharpness).
    """
    if quality.face_px < policy.min_face_px:
        raise ImageRefused("face_too_small", f"face {quality.face_px} px wide, need {policy.min_face_px}")
    if quality.brightness < policy.min_brightness:
        raise ImageRefused("too_dark", f"brightness {quality.brightness:.0f}")
    if quality.brightness > policy.max_brightness:
        raise ImageRefused("too_bright", f"brightness {quality.brightness:.0f}")
    if abs(quality.yaw) > policy.max_yaw or abs(quality.pitch) > policy.max_pitch:
        raise ImageRefused("pose", f"yaw {quality.yaw:.2f}, pitch {quality.pitch:.2f}")
    if quality.sharpness < policy.min_sharpness:
        raise ImageRefused("too_blurry", f"sharpness {quality.sharpness:.1f}")
