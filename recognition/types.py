"""Plain data exchanged between pipeline stages: frozen dataclasses and reason codes.

Coordinates are pixels of the decoded (EXIF-rotated) image, x to the right and y down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DECODE_REASONS",
    "QUALITY_REASONS",
    "REFUSAL_REASONS",
    "Capture",
    "Encoding",
    "Face",
    "FaceBox",
    "Landmarks",
    "LivenessResult",
    "Match",
    "Quality",
    "Template",
]

DECODE_REASONS = ("empty", "too_large", "too_many_pixels", "unsupported_format", "corrupt")
QUALITY_REASONS = ("no_face", "several_faces", "face_too_small", "too_blurry", "too_dark", "too_bright", "pose")
OCCLUSION_REASONS = ("eyes_covered", "mouth_covered")  # recognition.occlusion, checked by the app
REFUSAL_REASONS = DECODE_REASONS + QUALITY_REASONS + OCCLUSION_REASONS


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle; ``right`` and ``bottom`` are exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)


@dataclass(frozen=True, eq=False)
class Landmarks:
    """dlib's 68 facial points as a float32 ``(68, 2)`` array of (x, y), and optionally the
    detector's own five points (RetinaFace's), float32 ``(5, 2)``, which alignment then uses."""

    points: np.ndarray
    five: np.ndarray | None = None

    def five_points(self) -> np.ndarray:
        """ArcFace's 5 points, float32 ``(5, 2)``: eye centres (image left first), nose tip, mouth
        corners; the detector's when it gave them, else derived from the 68."""
        if self.five is not None:
            return self.five
        p = self.points
        return np.stack(
            [p[36:42].mean(axis=0), p[42:48].mean(axis=0), p[30], p[48], p[54]]
        ).astype(np.float32)


@dataclass(frozen=True, eq=False)
class Quality:
    """Measures of one face: box width (px), sharpness (variance of the Laplacian of the aligned
    grey crop), brightness (mean grey level 0–255 of the crop), yaw and pitch ratios (0 = frontal,
    about ±1 = profile)."""

    face_px: int
    sharpness: float
    brightness: float
    yaw: float
    pitch: float


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face: its box and its landmarks (68, and the detector's 5), in image pixels."""

    box: FaceBox
    landmarks: Landmarks


@dataclass(frozen=True, eq=False)
class Capture:
    """The one usable face of an image: the face, its 112×112 RGB aligned crop and its quality."""

    face: Face
    aligned: np.ndarray
    quality: Quality


@dataclass(frozen=True, eq=False)
class Encoding:
    """A face embedding (float32 ``(dim,)``) and the name of the encoder that made it."""

    vector: np.ndarray
    encoder: str


@dataclass(frozen=True, eq=False)
class Template:
    """An enrolled face: the combined embedding of several agreeing captures."""

    vector: np.ndarray
    encoder: str
    captures: int = 1


@dataclass(frozen=True)
class Match:
    """A comparison's outcome.

    ``decision`` is ``match``, ``no_match`` or ``unknown`` (1:N, best not clearly ahead).
    ``distance`` is the encoder's distance (lower is more alike) and ``threshold`` the one applied.
    ``identity`` is the gallery key of the best candidate (1:N only), ``margin`` the distance gap
    between best and second-best (1:N only).
    """

    decision: str
    distance: float
    threshold: float
    identity: str | None = None
    margin: float | None = None

    @property
    def is_match(self) -> bool:
        return self.decision == "match"


@dataclass(frozen=True)
class LivenessResult:
    """Whether a challenge was met; ``reason`` says why not, ``measures`` holds the numbers seen."""

    passed: bool
    action: str
    reason: str = ""
    measures: dict = field(default_factory=dict)
