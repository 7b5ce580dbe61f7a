"""Face encoders: ``mobilefacenet`` (the default, ONNX via onnxruntime) and ``dlib``.

Both turn one face into a fixed-length vector; ``compare`` measures distances between vectors of
the same encoder. Vectors of different encoders are never comparable, so every ``Encoding`` and
``Template`` carries its encoder's name.

* ``mobilefacenet``: facesdk's MobileFaceNet on the 112×112 ArcFace crop and on its mirror image,
  the two embeddings summed (flip test-time augmentation); 128-d, L2-normalised, cosine distance
  (``1 - cos``, 0 = identical, 2 = opposite). About 4 ms a face (two passes) on one core.
* ``dlib``: dlib's ResNet (face_recognition's encoder) on its own 150×150 chip from the 68
  landmarks; 128-d, Euclidean distance. About 80 ms a face; weak on East Asian faces (see README).
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from .errors import ModelNotAvailableError
from .models import load_dlib_models, load_mobilefacenet_session
from .types import Capture, Encoding

__all__ = ["DEFAULT_ENCODER", "ENCODERS", "DlibEncoder", "Encoder", "MobileFaceNetEncoder", "encode_face", "get_encoder"]

DEFAULT_ENCODER = "mobilefacenet"
ENCODERS = ("mobilefacenet", "dlib")
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
#: the normalised input value of every byte per channel, ``(256, 3)``: ``(v / 255 − mean) / std``
#: in float32, so a lookup gives exactly what the arithmetic gives
_INPUT_LUT = (np.arange(256, dtype=np.float32)[:, None] / np.float32(255.0) - _MEAN) / _STD


class Encoder(Protocol):
    """What every encoder offers: a name, a distance metric and ``encode``."""

    name: str
    metric: str  # "cosine" or "euclidean"
    dim: int

    def encode(self, image: np.ndarray, capture: Capture) -> Encoding:
        """Embed the face of ``capture`` found in ``image`` (uint8 RGB)."""


class MobileFaceNetEncoder:
    """facesdk's MobileFaceNet run by onnxruntime on the aligned crop.

    The crop is fed as RGB scaled to [0, 1] with the ImageNet mean/std. (facesdk's own demo
    passes OpenCV's BGR crop; on ../shared/faces/eastasian_calib RGB gave the lower error,
    equal-error rate 0.85 % against 1.13 %, consistent with training on RGB MS1M crops.)

    Flip test-time augmentation (``flip=True``, the default): the embedding is
    ``normalize(e(crop) + e(mirror(crop)))``, both run in one batch. A face and its mirror image
    are the same person, so the sum averages out part of the noise that pose, lighting from one
    side and landmark error put into a single pass. On eastasian_calib (thresholds re-chosen by the
    same bootstrap for each variant, see ``compare``) it lowered genuine rejects from 3.5 % to
    2.7 % at unchanged false accepts; it doubles the encoder's cost (about 2 → 4 ms). Templates
    and probes must be made with the same setting: the default is the only one calibrated.
    """

    name = "mobilefacenet"
    metric = "cosine"
    dim = 128

    def __init__(self, cache_dir: str | os.PathLike | None = None, flip: bool = True) -> None:
        self._session = load_mobilefacenet_session(cache_dir)
        self.flip = flip

    def embed_crops(self, crops: np.ndarray, flip: bool | None = None) -> np.ndarray:
        """Embed aligned RGB crops, uint8 ``(N, 112, 112, 3)``; returns unit float32 ``(N, 128)``.

        ``flip`` (default: the encoder's setting) adds each crop's mirror image and sums the two
        embeddings before normalising.
        """
        flip = self.flip if flip is None else flip
        out = self._session.run(["embedding"], {"input": _input_batch(crops, flip)})[0]
        n = len(crops)
        if flip:
            out = out[:n] + out[n:]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(self, image: np.ndarray, capture: Capture) -> Encoding:
        """Embed one aligned face; ``image`` is unused (the crop is in ``capture``)."""
        return Encoding(self.embed_crops(capture.aligned[None])[0], self.name)


def _input_batch(crops: np.ndarray, flip: bool) -> np.ndarray:
    """The network's input, float32 ``(N, 3, 112, 112)`` C-contiguous, then (``flip``) the N
    mirror images: one batch for one session call. Normalised by table lookup per channel and
    mirrored in the normalised array, which gives the same values as normalising the uint8 crops
    and their mirrors (0.15 ms instead of 0.8 for a face)."""
    n = len(crops)
    x = np.empty((2 * n if flip else n, 3, *crops.shape[1:3]), dtype=np.float32)
    for c in range(3):
        x[:n, c] = _INPUT_LUT[:, c][crops[..., c]]
    if flip:
        x[n:] = x[:n, :, :, ::-1]
    return x


class DlibEncoder:
    """dlib's ResNet face encoder, as ``face_recognition.face_encodings`` runs it (no jitter)."""

    name = "dlib"
    metric = "euclidean"
    dim = 128

    def __init__(self) -> None:
        self._models = load_dlib_models()

    def encode(self, image: np.ndarray, capture: Capture) -> Encoding:
        """Embed the face of ``capture`` from the full image and its 68 landmarks."""
        import dlib

        box = capture.face.box
        rect = dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
        points = [dlib.point(int(round(x)), int(round(y))) for x, y in capture.face.landmarks.points]
        shape = dlib.full_object_detection(rect, points)
        with self._models.encoder_lock:
            vector = np.asarray(self._models.encoder.compute_face_descriptor(image, shape, 1),
                                dtype=np.float32)
        return Encoding(vector, self.name)


_encoders: dict[tuple, Encoder] = {}


def get_encoder(name: str = DEFAULT_ENCODER, cache_dir: str | os.PathLike | None = None) -> Encoder:
    """Return the (cached) encoder called ``name``.

    Args:
        name: ``mobilefacenet`` or ``dlib``.
        cache_dir: where MobileFaceNet's ONNX file is generated (``instance/models`` in the app).

    Raises:
        ValueError: unknown encoder name.
        ModelNotAvailableError: the encoder's weights are missing.
    """
    key = (name, str(cache_dir))
    if key not in _encoders:
        if name == "mobilefacenet":
            _encoders[key] = MobileFaceNetEncoder(cache_dir)
        elif name == "dlib":
            _encoders[key] = DlibEncoder()
        else:
            raise ValueError(f"unknown encoder {name!r}; choose one of {', '.join(ENCODERS)}")
    return _encoders[key]


def encode_face(image: np.ndarray, capture: Capture, encoder: str | Encoder = DEFAULT_ENCODER) -> Encoding:
    """Embed the face of ``capture``.

    Args:
        image: uint8 RGB ``(H, W, 3)`` the capture was taken from.
        capture: from ``pipeline.analyse_image`` (face, aligned crop, quality).
        encoder: an encoder or its name.

    Returns:
        An ``Encoding``: float32 ``(128,)`` and the encoder's name.

    Raises:
        ModelNotAvailableError: the encoder's weights are missing.
    """
    enc = get_encoder(encoder) if isinstance(encoder, str) else encoder
    if enc is None:  # pragma: no cover - defensive
        raise ModelNotAvailableError("no encoder")
    return enc.encode(image, capture)
