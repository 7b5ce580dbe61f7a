"""From image bytes to one usable, encoded face: the stages put together with their refusals.

``analyse_image`` is what a check-in frame goes through: decode with limits, detect, refuse when
there is no face or more than one person, align, measure and gate quality. ``FacePipeline`` binds
an encoder and the policies once (the app keeps one per worker) and adds encoding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .align import align_face
from .decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, decode_image
from .detect import DEFAULT_DETECTOR, Detector, detect_faces, get_detector
from .encode import DEFAULT_ENCODER, Encoder, get_encoder
from .errors import ImageRefused
from .liveness import LivenessPolicy, check_liveness
from .quality import QualityPolicy, check_quality, measure_quality
from .types import Capture, Encoding, LivenessResult

__all__ = ["DecodeLimits", "FacePipeline", "analyse_image", "select_face"]


@dataclass(frozen=True)
class DecodeLimits:
    """Limits passed to ``decode_image``."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE


def select_face(
    image: np.ndarray,
    policy: QualityPolicy = QualityPolicy(),
    detect_side: int | None = None,
    detector: str | Detector = DEFAULT_DETECTOR,
) -> Capture:
    """Find the one usable face of a decoded image, aligned and measured (``detect_side`` and
    ``detector`` as in ``detect_faces``).

    Raises:
        ImageRefused: ``no_face``, ``several_faces`` or a quality reason (see ``check_quality``).
    """
    faces = detect_faces(image, detect_side=detect_side, detector=detector)
    if not faces:
        raise ImageRefused("no_face", "no face found")
    main = faces[0]
    if policy.several_faces == "central":
        height, width = image.shape[:2]
        main = min(faces, key=lambda f: (f.box.centre[0] - width / 2) ** 2 + (f.box.centre[1] - height / 2) ** 2)
        faces = [main]
    elif policy.several_faces != "refuse":
        raise ValueError(f"unknown several_faces policy {policy.several_faces!r}")
    others = [f for f in faces[1:] if f.box.width >= policy.secondary_face_ratio * main.box.width]
    if others:
        raise ImageRefused("several_faces", f"{len(others) + 1} faces")
    aligned = align_face(image, main.landmarks)
    quality = measure_quality(main, aligned)
    check_quality(quality, policy)
    return Capture(main, aligned, quality)


def analyse_image(
    data: bytes,
    *,
    policy: QualityPolicy = QualityPolicy(),
    limits: DecodeLimits = DecodeLimits(),
    detect_side: int | None = None,
    detector: str | Detector = DEFAULT_DETECTOR,
) -> tuple[np.ndarray, Capture]:
    """Decode image bytes and return the image with its one usable face.

    Returns:
        ``(image, capture)``: the uint8 RGB image and its ``Capture``.

    Raises:
        ImageRefused: any decode or quality reason in ``types.REFUSAL_REASONS``.
        ModelNotAvailableError: dlib's model files are missing.
    """
    image = decode_image(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, max_side=limits.max_side)
    return image, select_face(image, policy, detect_side, detector)


@dataclass
class FacePipeline:
    """Decode, check and encode with one encoder; models load on first use.

    Args:
        encoder: ``mobilefacenet`` (default) or ``dlib``.
        detector: ``retinaface`` (default; HOG when its weights are missing) or ``hog``.
        cache_dir: where the MobileFaceNet and RetinaFace ONNX files are generated (``instance/models``).
        policy, limits, detect_side: see ``QualityPolicy``, ``DecodeLimits``, ``detect_faces``
            (``None``: the detector's own side).
    """

    encoder: str = DEFAULT_ENCODER
    cache_dir: str | os.PathLike | None = None
    policy: QualityPolicy = field(default_factory=QualityPolicy)
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    detect_side: int | None = None
    detector: str = DEFAULT_DETECTOR

    def get_encoder(self) -> Encoder:
        """The bound encoder, loaded on first call."""
        return get_encoder(self.encoder, self.cache_dir)

    def get_detector(self) -> Detector:
        """The bound detector, loaded on first call."""
        return get_detector(self.detector, self.cache_dir)

    def capture(self, data: bytes, policy: QualityPolicy | None = None) -> tuple[np.ndarray, Capture]:
        """``analyse_image`` with this pipeline's detector, limits and (unless given) policy."""
        return analyse_image(data, policy=policy or self.policy, limits=self.limits, detect_side=self.detect_side,
                             detector=self.get_detector())

    def encode_bytes(self, data: bytes) -> tuple[Capture, Encoding]:
        """Decode, check and embed one image.

        Raises:
            ImageRefused: with the reason the page shows the trainee.
        """
        image, capture = self.capture(data)
        return capture, self.get_encoder().encode(image, capture)

    def check_liveness(
        self, action: str, frames: Sequence[bytes], policy: LivenessPolicy = LivenessPolicy()
    ) -> tuple[LivenessResult, Encoding | None]:
        """Run a liveness challenge over a burst of encoded frames.

        Each frame goes through the usual checks except that the pose limit is lifted (a turn
        needs a turned head). When the challenge passes, the encoding of the most frontal frame is
        returned too, for the caller to ``verify`` against the trainee's template: liveness alone
        says nothing about who it is.

        Returns:
            ``(result, encoding)``; ``encoding`` is ``None`` unless ``result.passed``. A frame that
            is refused makes ``result.reason`` ``frame_<index>:<refusal reason>``.
        """
        loose = replace(self.policy, max_yaw=1.5, max_pitch=1.5)
        images, captures, encodings = [], [], []
        for index, data in enumerate(frames):
            try:
                image, capture = self.capture(data, loose)
            except ImageRefused as exc:
                return LivenessResult(False, action, f"frame_{index}:{exc.reason}"), None
            images.append(image)
            captures.append(capture)
            encodings.append(self.get_encoder().encode(image, capture))
        result = check_liveness(action, images, captures, encodings, policy)
        if not result.passed:
            return result, None
        frontal = min(range(len(captures)), key=lambda i: abs(captures[i].quality.yaw))
        return result, encodings[frontal]
