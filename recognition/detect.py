"""Face detection: RetinaFace (the default) or dlib's HOG (the fallback), then dlib's 68 points.

``retinaface``: facesdk's RetinaFace (MobileNet-0.25, run as ONNX, see ``retinaface_onnx``) on a
copy whose longer side is at most ``detect_side`` pixels (320 by default: a 640×480 webcam frame
is searched at 320×240), padded to a multiple of 32. It returns a score, a box and five landmarks
(eye centres, nose tip, mouth corners) per face; the five landmarks, mapped back to the full
image, are what ``align`` fits to the ArcFace template. Faces scoring under ``MIN_SCORE`` are
dropped and overlapping ones merged (non-maximum suppression at ``NMS_IOU``). When nothing is
found on a downscaled copy, the search is repeated once on a copy twice as large (a small face in
a large frame).

``hog``: dlib's HOG detector on a copy downscaled to 480 px; small images are upsampled once
(twice when that finds nothing, and then not at all: HOG's score for a given face changes with the
pyramid's scales, and a 150×150 LFW photo can hold a face that only the unupsampled search scores
above zero). Its five points are the means of dlib's 68 (``Landmarks.five_points``).

Both then fit dlib's 68-point shape predictor on the full image, because the liveness and quality
measures (eye and mouth aspect ratios, yaw, pitch) need the eyelids, lips and jaw line. For
RetinaFace faces the predictor's box is the box HOG would draw, placed from the five landmarks
(centre and side measured on eastasian_calib: (57, 72.5) and 90 units in the 112-pixel ArcFace
frame); ``Face.box`` is that box too, so the size gate and the several-faces rule mean the same
with either detector.

``get_detector`` picks the detector by name and falls back to HOG, with a warning in the log,
when the RetinaFace weights (facesdk) or onnxruntime are missing.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Protocol

import cv2
import numpy as np

from .align import ARCFACE_TEMPLATE_112, similarity_transform
from .errors import ModelNotAvailableError
from .models import load_dlib_models, load_retinaface_session
from .retinaface_onnx import decode_detections, retinaface_priors
from .types import Face, FaceBox, Landmarks

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "Detector",
    "HogDetector",
    "MIN_SCORE",
    "NMS_IOU",
    "RetinaFaceDetector",
    "detect_faces",
    "get_detector",
    "hog_like_box",
]

log = logging.getLogger(__name__)

DEFAULT_DETECTOR = "retinaface"
DETECTORS = ("retinaface", "hog")
MIN_SCORE = 0.9  # facesdk's own confidence threshold
NMS_IOU = 0.4
_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
_HOG_BOX_CENTRE = np.array([57.0, 72.5])  # in the 112-pixel ArcFace frame, see the docstring
_HOG_BOX_SIDE = 90.0
_UPSAMPLE_BELOW = 400  # HOG search side under which it is run with one upsampling (faces < 80 px)


class Detector(Protocol):
    """What every detector offers: a name, its default search side and ``detect``."""

    name: str
    default_side: int

    def detect(self, image: np.ndarray, detect_side: int) -> list[Face]:
        """Faces of a uint8 RGB image, largest first, in its pixels."""


def _resized(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """``image`` shrunk so that its longer side is at most ``side``, and the scale applied."""
    height, width = image.shape[:2]
    scale = min(1.0, side / max(height, width))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _input_tensor(small: np.ndarray, height: int, width: int) -> np.ndarray:
    """RetinaFace's input: the uint8 RGB ``small`` as BGR minus the mean colour, float32
    ``(1, 3, height, width)``, zero (the mean colour) below and right of it. Written channel by
    channel into a C-contiguous array: the same values as ``(small[:, :, ::-1] − mean)`` padded and
    transposed, without the HWC float copy and the transposed copy onnxruntime would make (about
    1 ms of a frame's 28)."""
    h, w = small.shape[:2]
    x = np.zeros((1, 3, height, width), dtype=np.float32)
    for c in range(3):
        plane = x[0, c, :h, :w]
        plane[...] = small[:, :, 2 - c]
        plane -= _MEAN_BGR[c]
    return x


def _with_68_points(image: np.ndarray, box: FaceBox, five: np.ndarray | None) -> Face:
    import dlib

    shape = load_dlib_models().shape_predictor(image, dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1))
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    return Face(box, Landmarks(points, five))


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = list(np.argsort(-scores))
    keep: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        best, order = order[0], order[1:]
        keep.append(int(best))
        if not order:
            break
        rest = np.array(order)
        w = np.clip(np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]), 0, None)
        h = np.clip(np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]), 0, None)
        overlap = w * h / np.maximum(area[best] + area[rest] - w * h, 1e-9)
        order = [i for i, o in zip(order, overlap) if o <= iou]
    return keep


def hog_like_box(five: np.ndarray, height: int, width: int) -> FaceBox | None:
    """The box dlib's HOG would draw around a face with these five landmarks, clipped to the image
    (``None`` when less than 2 pixels of it are inside)."""
    matrix = similarity_transform(five, ARCFACE_TEMPLATE_112)
    linear = matrix[:, :2]
    scale = float(np.sqrt(abs(np.linalg.det(linear))))
    if scale <= 0:
        return None
    centre = np.linalg.solve(linear, _HOG_BOX_CENTRE - matrix[:, 2])
    half = _HOG_BOX_SIDE / scale / 2.0
    left, top = int(max(0, round(centre[0] - half))), int(max(0, round(centre[1] - half)))
    right, bottom = int(min(width, round(centre[0] + half))), int(min(height, round(centre[1] + half)))
    if right - left < 2 or bottom - top < 2:
        return None
    return FaceBox(left, top, right, bottom)


class RetinaFaceDetector:
    """facesdk's RetinaFace (MobileNet-0.25) run by onnxruntime.

    Raises:
        ModelNotAvailableError: facesdk's weights, onnx or onnxruntime are missing.
    """

    name = "retinaface"
    default_side = 320

    def __init__(self, cache_dir: str | os.PathLike | None = None) -> None:
        self._session = load_retinaface_session(cache_dir)
        self._priors: dict[tuple[int, int], np.ndarray] = {}
        self._priors_lock = threading.Lock()

    def _priors_for(self, height: int, width: int) -> np.ndarray:
        with self._priors_lock:
            if (height, width) not in self._priors:
                self._priors[(height, width)] = retinaface_priors(height, width)
            return self._priors[(height, width)]

    def raw(self, image: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores ``(K,)``, boxes ``(K, 4)`` and five landmarks ``(K, 5, 2)`` of the faces kept
        after the score threshold and NMS, in ``image`` pixels, searched at ``side``."""
        small, scale = _resized(image, side)
        height, width = -(-small.shape[0] // 32) * 32, -(-small.shape[1] // 32) * 32
        loc, conf, landms = self._session.run(None, {"input": _input_tensor(small, height, width)})
        scores = conf[0, :, 1]
        hits = np.flatnonzero(scores >= MIN_SCORE)
        boxes, points = decode_detections(loc[0, hits], landms[0, hits], self._priors_for(height, width)[hits], height, width)
        keep = _nms(boxes, scores[hits], NMS_IOU)
        return scores[hits][keep], boxes[keep] / scale, points[keep] / scale

    def detect(self, image: np.ndarray, detect_side: int) -> list[Face]:
        """Faces with a score of at least ``MIN_SCORE``, largest first."""
        height, width = image.shape[:2]
        _, _, points = self.raw(image, detect_side)
        if not len(points) and max(height, width) > detect_side:
            _, _, points = self.raw(image, 2 * detect_side)  # a small face in a large frame
        faces = []
        for five in points:
            box = hog_like_box(five, height, width)
            if box is not None:
                faces.append(_with_68_points(image, box, five.astype(np.float32)))
        faces.sort(key=lambda f: f.box.width, reverse=True)
        return faces


class HogDetector:
    """dlib's HOG face detector (face_recognition's default), the fallback."""

    name = "hog"
    default_side = 480

    def detect(self, image: np.ndarray, detect_side: int) -> list[Face]:
        """Frontal faces of at least about 80 px in the searched copy, largest first.

        Raises:
            ModelNotAvailableError: the dlib model files are missing.
        """
        detector = load_dlib_models().detector
        height, width = image.shape[:2]
        small, scale = _resized(image, detect_side)
        small = np.ascontiguousarray(small)
        upsample = 1 if max(small.shape[:2]) < _UPSAMPLE_BELOW else 0
        rects = detector(small, upsample)
        if not len(rects) and upsample == 1:
            rects = detector(small, 2)  # a small photo with a small face
        if not len(rects) and upsample == 1:
            rects = detector(small, 0)  # a face that fills a small photo
        if not len(rects) and scale < 1.0 and max(height, width) <= 1000:
            # a small face in a webcam frame: search the full frame, upsampled once (slower, rare)
            rects = detector(np.ascontiguousarray(image), 1)
            scale = 1.0
        faces = []
        for rect in rects:
            left = int(max(0, round(rect.left() / scale)))
            top = int(max(0, round(rect.top() / scale)))
            right = int(min(width, round((rect.right() + 1) / scale)))
            bottom = int(min(height, round((rect.bottom() + 1) / scale)))
            if right - left >= 2 and bottom - top >= 2:
                faces.append(_with_68_points(image, FaceBox(left, top, right, bottom), None))
        faces.sort(key=lambda f: f.box.width, reverse=True)
        return faces


_detectors: dict[tuple, Detector] = {}
_detectors_lock = threading.Lock()


def get_detector(name: str = DEFAULT_DETECTOR, cache_dir: str | os.PathLike | None = None) -> Detector:
    """Return the (cached) detector called ``name``; ``retinaface`` falls back to ``hog`` when its
    weights or onnxruntime are missing (logged once as a warning).

    Raises:
        ValueError: unknown detector name.
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    key = (name, str(cache_dir))
    with _detectors_lock:
        if key not in _detectors:
            if name == "hog":
                _detectors[key] = HogDetector()
            else:
                try:
                    _detectors[key] = RetinaFaceDetector(cache_dir)
                except ModelNotAvailableError as exc:
                    log.warning("RetinaFace is not available (%s); detecting faces with dlib's HOG", exc)
                    _detectors[key] = HogDetector()
        return _detectors[key]


def detect_faces(image: np.ndarray, *, detect_side: int | None = None, detector: str | Detector = DEFAULT_DETECTOR) -> list[Face]:
    """Find faces and their landmarks.

    Args:
        image: uint8 RGB ``(H, W, 3)`` as returned by ``decode_image``.
        detect_side: longest side of the copy the detector searches (default: the detector's,
            320 for RetinaFace, 480 for HOG); smaller is faster but misses smaller faces.
        detector: a detector or its name (``retinaface`` or ``hog``).

    Returns:
        Faces sorted by box width, largest first; boxes and landmarks in ``image`` pixels, boxes
        clipped to the image. An empty list when there is no face.

    Raises:
        ModelNotAvailableError: the dlib model files are missing.
    """
    found = get_detector(detector) if isinstance(detector, str) else detector
    return found.detect(image, detect_side or found.default_side)
