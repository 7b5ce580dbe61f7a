"""Helpers shared by the recognition tests."""

import cv2
import numpy as np


def encode_jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    """RGB array to JPEG bytes."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()
