"""Face detection (dlib HOG) on a downscaled copy, with boxes mapped back, and 68-point landmarks.

HOG's cost grows with the pixel count and a check-in face fills a good part of the frame, so the
detector runs on a copy whose longer side is at most ``detect_side`` pixels (480 by default: a
640×480 webcam frame is searched at 480×360). HOG finds faces from about 80 px, so small images are
upsampled once instead (twice when that finds nothing, and then not at all: HOG's score for a
given face changes with the pyramid's scales, and a 150×150 LFW photo can hold a face that only
the unupsampled search scores above zero). Landmarks are then fitted on the full-resolution image, inside the box
scaled back, which keeps them precise for alignment.
"""

from __future__ import annotations

import cv2
import numpy as np

from .models import load_dlib_models
from .types import Face, FaceBox, Landmarks

__all__ = ["DEFAULT_DETECT_SIDE", "detect_faces"]

DEFAULT_DETECT_SIDE = 480
_UPSAMPLE_BELOW = 400  # search side under which HOG is run with one upsampling (faces < 80 px)


def detect_faces(image: np.ndarray, *, detect_side: int = DEFAULT_DETECT_SIDE) -> list[Face]:
    """Find frontal faces and their landmarks.

    Args:
        image: uint8 RGB ``(H, W, 3)`` as returned by ``decode_image``.
        detect_side: longest side of the copy the detector searches; smaller is faster but
            misses smaller faces.

    Returns:
        Faces sorted by box width, largest first; boxes and landmarks in ``image`` pixels, boxes
        clipped to the image. An empty list when there is no face.

    Raises:
        ModelNotAvailableError: the dlib model files are missing.
    """
    import dlib

    models = load_dlib_models()
    height, width = image.shape[:2]
    scale = min(1.0, detect_side / max(height, width))
    small = image if scale == 1.0 else cv2.resize(
        image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    upsample = 1 if max(small.shape[:2]) < _UPSAMPLE_BELOW else 0
    rects = models.detector(np.ascontiguousarray(small), upsample)
    if not len(rects) and upsample == 1:
        rects = models.detector(np.ascontiguousarray(small), 2)  # a small photo with a small face
    if not len(rects) and upsample == 1:
        rects = models.detector(np.ascontiguousarray(small), 0)  # a face that fills a small photo
    if not len(rects) and scale < 1.0 and max(height, width) <= 1000:
        # a small face in a webcam frame: search the full frame, upsampled once (slower, rare)
        rects = models.detector(np.ascontiguousarray(image), 1)
        scale = 1.0
    faces = []
    for rect in rects:
        left = int(max(0, round(rect.left() / scale)))
        top = int(max(0, round(rect.top() / scale)))
        right = int(min(width, round((rect.right() + 1) / scale)))
        bottom = int(min(height, round((rect.bottom() + 1) / scale)))
        if right - left < 2 or bottom - top < 2:
            continue
        shape = models.shape_predictor(image, dlib.rectangle(left, top, right - 1, bottom - 1))
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        faces.append(Face(FaceBox(left, top, right, bottom), Landmarks(points)))
    faces.sort(key=lambda f: f.box.width, reverse=True)
    return faces
