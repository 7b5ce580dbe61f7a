"""Challenge–response liveness over a few frames: blink, turn left or turn right.

The server picks the action at random with a one-time nonce (``new_challenge``); the page asks
the trainee to do it and sends a short burst of frames. ``check_liveness`` then requires:

1. enough frames, no two of them identical and consecutive frames visibly different (a replayed
   or repeated still fails here);
2. the same face in every frame (every frame's encoding within the match threshold of the first),
   so frames of two people cannot be mixed; the caller also verifies that face against the
   trainee's template;
3. the action, measured from the 68 landmarks:
   * ``blink``: the eye aspect ratio (EAR, Soukupová & Čech 2016) drops to at most
     ``blink_ratio`` of its open level in some frame and is open again before and after it;
   * ``turn_left`` / ``turn_right``: the yaw ratio (``quality.estimate_yaw``) moves at least
     ``min_yaw_change`` from the first frame in the asked direction. Directions are the trainee's
     own, for an unmirrored camera image: turning to one's left moves the nose towards the image's
     right edge.

What it stops and what it does not is written in ``recognition/README.md``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .compare import compare_encodings, default_threshold
from .quality import estimate_yaw
from .types import Capture, Encoding, LivenessResult

__all__ = ["ACTIONS", "Challenge", "LivenessPolicy", "check_liveness", "eye_aspect_ratio", "new_challenge"]

ACTIONS = ("blink", "turn_left", "turn_right")


@dataclass(frozen=True)
class Challenge:
    """A liveness challenge: the action asked for and a one-time nonce (the app stores and expires it)."""

    action: str
    nonce: str


def new_challenge() -> Challenge:
    """A random action and a 128-bit URL-safe nonce, both from ``secrets``."""
    return Challenge(secrets.choice(ACTIONS), secrets.token_urlsafe(16))


@dataclass(frozen=True)
class LivenessPolicy:
    """Limits of ``check_liveness``.

    min_frames: fewest frames. min_frame_change: smallest mean absolute grey difference (0–255)
    between consecutive frames, on a 64×64 copy of the face region. blink_ratio: closed EAR at most
    this fraction of the open EAR. min_open_ear: the open EAR must reach this. min_yaw_change: yaw
    ratio change for a turn (0.25 is roughly 15°). same_face_threshold: largest distance between
    frames' encodings (default: the encoder's match threshold).
    """

    min_frames: int = 3
    min_frame_change: float = 1.0
    blink_ratio: float = 0.7
    min_open_ear: float = 0.18
    min_yaw_change: float = 0.25
    same_face_threshold: float | None = None


def eye_aspect_ratio(points: np.ndarray) -> float:
    """Mean EAR of both eyes from 68 landmarks: about 0.3 open, under 0.15 closed."""

    def ear(eye: np.ndarray) -> float:
        vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
        horizontal = 2.0 * np.linalg.norm(eye[0] - eye[3])
        return float(vertical / horizontal) if horizontal > 0 else 0.0

    return (ear(points[36:42]) + ear(points[42:48])) / 2.0


def _face_patch(image: np.ndarray, capture: Capture) -> np.ndarray:
    box = capture.face.box
    h, w = image.shape[:2]
    pad_x, pad_y = box.width // 4, box.height // 4
    region = image[max(0, box.top - pad_y) : min(h, box.bottom + pad_y), max(0, box.left - pad_x) : min(w, box.right + pad_x)]
    grey = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)


def _blink(ears: list[float], policy: LivenessPolicy) -> tuple[bool, str]:
    closed = int(np.argmin(ears))
    before, after = ears[:closed], ears[closed + 1 :]
    if not before or not after:
        return False, "action_not_seen"  # eyes must be seen open, then closed, then open
    open_before, open_after = max(before), max(after)
    if min(open_before, open_after) < policy.min_open_ear:
        return False, "action_not_seen"
    if ears[closed] > policy.blink_ratio * min(open_before, open_after):
        return False, "action_not_seen"
    return True, ""


def check_liveness(
    action: str,
    images: Sequence[np.ndarray],
    captures: Sequence[Capture],
    encodings: Sequence[Encoding],
    policy: LivenessPolicy = LivenessPolicy(),
) -> LivenessResult:
    """Decide whether a burst of frames shows one live person doing ``action``.

    Args:
        action: ``blink``, ``turn_left`` or ``turn_right``, as issued by ``new_challenge``.
        images: the decoded frames, uint8 RGB, in capture order.
        captures: each frame's face (from ``select_face`` with a pose limit loose enough for
            turns, see ``FacePipeline.check_liveness``).
        encodings: each frame's encoding, one encoder.

    Returns:
        ``LivenessResult``; when not passed, ``reason`` is one of ``unknown_action``,
        ``too_few_frames``, ``frames_identical``, ``different_faces``, ``action_not_seen``.
        ``measures`` holds the per-frame EAR and yaw and the smallest frame change.
    """
    if action not in ACTIONS:
        return LivenessResult(False, action, "unknown_action")
    n = len(images)
    if n != len(captures) or n != len(encodings):
        raise ValueError("images, captures and encodings must have the same length")
    if n < policy.min_frames:
        return LivenessResult(False, action, "too_few_frames", {"frames": n})
    ears = [eye_aspect_ratio(c.face.landmarks.points) for c in captures]
    yaws = [estimate_yaw(c.face.landmarks.points) for c in captures]
    patches = [_face_patch(img, c) for img, c in zip(images, captures)]
    changes = [float(np.abs(a - b).mean()) for a, b in zip(patches, patches[1:])]
    digests = {img.tobytes().__hash__() for img in images}
    measures = {"ear": [round(e, 3) for e in ears], "yaw": [round(y, 3) for y in yaws], "min_change": round(min(changes), 2)}
    if len(digests) < n or min(changes) < policy.min_frame_change:
        return LivenessResult(False, action, "frames_identical", measures)
    limit = policy.same_face_threshold
    if limit is None:
        limit = default_threshold(encodings[0].encoder)
    spread = max(compare_encodings(encodings[0], e) for e in encodings[1:])
    measures["face_spread"] = round(spread, 3)
    if spread >= limit:
        return LivenessResult(False, action, "different_faces", measures)
    if action == "blink":
        ok, reason = _blink(ears, policy)
    else:
        sign = 1.0 if action == "turn_left" else -1.0
        moved = max(sign * (y - yaws[0]) for y in yaws[1:])
        measures["yaw_change"] = round(moved, 3)
        ok, reason = (moved >= policy.min_yaw_change, "" if moved >= policy.min_yaw_change else "action_not_seen")
    return LivenessResult(ok, action, reason, measures)
