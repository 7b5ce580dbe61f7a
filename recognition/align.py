"""Alignment of a face to the 112×112 ArcFace crop by a similarity transform on 5 landmarks.

The transform (rotation, uniform scale, translation) is the least-squares fit of Umeyama (1991)
from the face's eye centres, nose tip and mouth corners to ArcFace's reference points, the crop
that MobileFaceNet-style recognisers are trained on.
"""

from __future__ import annotations

import cv2
import numpy as np

from .types import Landmarks

__all__ = ["ARCFACE_TEMPLATE_112", "align_face", "similarity_transform"]

ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform mapping ``src`` points onto ``dst`` (Umeyama).

    Args:
        src, dst: float ``(K, 2)`` arrays of corresponding points, K ≥ 2.

    Returns:
        float64 ``(2, 3)`` affine matrix for ``cv2.warpAffine``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1.0
    rotation = u @ np.diag(d) @ vt
    var = (src_c**2).sum() / len(src)
    scale = (s * d).sum() / var if var > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_face(image: np.ndarray, landmarks: Landmarks, *, size: int = 112) -> np.ndarray:
    """Warp the face to the ArcFace crop.

    Args:
        image: uint8 ``(H, W, 3)`` image the landmarks refer to.
        landmarks: the face's 68 landmarks.
        size: output side in pixels; the template is scaled from 112.

    Returns:
        uint8 ``(size, size, 3)`` crop, same channel order as ``image``; outside the image is black.
    """
    matrix = similarity_transform(landmarks.five_points(), ARCFACE_TEMPLATE_112 * (size / 112.0))
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
