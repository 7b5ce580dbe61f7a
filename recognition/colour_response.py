"""Screen-colour response: does the face reflect the colours the server made the screen flash?

The server draws a sequence of full-screen colours (``new_colour_sequence``); the page fills the
screen with each in turn while it streams frames. A face a few tens of centimetres from the screen
is lit by it: between two colours, the face region's colour must move toward the newly shown
colour, and more than the background's does (the background is further from the screen). A
recording, a photo shown throughout or a prepared burst does not follow a sequence drawn after it
was made.

* ``measure_colours(image, box)``: mean RGB of the face's inner region and of the background
  (the image outside an enlarged face box), per frame.
* ``judge_colour_response(samples, sequence, min_response)``: per change of colour, the face's
  relative change toward the new colour minus the background's; the weakest change is the
  strength, and every change must reach ``min_response``.
* ``reflect(image, box, colour, strength)``: a synthetic reflection for tests and benchmarks only
  (what it proves and does not: recognition/README.md).

Pure numpy; no app imports.
"""

from __future__ import annotations

import secrets

import numpy as np

from .types import FaceBox

__all__ = ["COLOURS", "judge_colour_response", "measure_colours", "new_colour_sequence", "reflect"]

#: The colours the screen may show, as RGB 0–255.
COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "white": (255, 255, 255)}


def new_colour_sequence(count_range: tuple[int, int] = (3, 4),
                        seconds_range: tuple[float, float] = (0.8, 1.6)) -> list[dict]:
    """A random sequence of ``count_range`` colours, no two consecutive ones equal, each with its
    random duration in seconds (``secrets``): ``[{"colour": "red", "seconds": 1.12}, ...]``."""
    rng = secrets.SystemRandom()
    count = rng.randint(*count_range)
    sequence: list[dict] = []
    for _ in range(count):
        choices = [c for c in COLOURS if not sequence or c != sequence[-1]["colour"]]
        sequence.append({"colour": rng.choice(choices), "seconds": round(rng.uniform(*seconds_range), 2)})
    return sequence


def _inner(box: FaceBox, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """The central part of the face box (cheeks, nose, forehead; no hair, no background)."""
    height, width = shape[:2]
    top = max(0, box.top + box.height // 5)
    bottom = min(height, box.bottom - box.height // 5)
    left = max(0, box.left + box.width // 5)
    right = min(width, box.right - box.width // 5)
    return slice(top, max(bottom, top + 1)), slice(left, max(right, left + 1))


def _background_mask(box: FaceBox, shape: tuple[int, ...]) -> np.ndarray:
    """The image outside the face box enlarged 1.8× (head, hair and shoulders left out)."""
    height, width = shape[:2]
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    half_w, half_h = 0.9 * box.width, 0.9 * box.height
    mask = np.ones((height, width), bool)
    mask[max(0, int(cy - half_h)):height, max(0, int(cx - half_w)):min(width, int(cx + half_w))] = False
    return mask


def measure_colours(image: np.ndarray, box: FaceBox) -> dict:
    """Mean colours of one frame.

    Args:
        image: uint8 RGB ``(H, W, 3)``. box: the face's box in ``image``.

    Returns:
        ``{"face": [r, g, b], "bg": [r, g, b]}`` (floats 0–255; ``bg`` is ``None`` when the face
        fills the frame and no background is left).
    """
    rows, cols = _inner(box, image.shape)
    face = image[rows, cols].reshape(-1, 3).mean(axis=0)
    mask = _background_mask(box, image.shape)
    bg = image[mask].mean(axis=0) if mask.sum() >= 100 else None
    return {"face": [round(float(v), 2) for v in face],
            "bg": None if bg is None else [round(float(v), 2) for v in bg]}


def _window_means(samples: list[tuple[int, dict]], count: int) -> list[tuple[np.ndarray, np.ndarray | None] | None]:
    means = []
    for index in range(count):
        rows = [m for i, m in samples if i == index]
        if not rows:
            means.append(None)
            continue
        face = np.mean([r["face"] for r in rows], axis=0)
        bgs = [r["bg"] for r in rows if r["bg"] is not None]
        means.append((face, np.mean(bgs, axis=0) if bgs else None))
    return means


def judge_colour_response(samples: list[tuple[int, dict]], sequence: list[str],
                          min_response: float) -> tuple[bool, float]:
    """Did the face follow the shown colours?

    For each change of colour a → b: the face's relative change per channel
    ``(face_b − face_a) / mean(face_a)``, minus the background's (a change of room light or of
    the camera's exposure moves both), projected on the unit direction of
    ``colour_b − colour_a``. Positive: the face moved toward the new colour more than the
    background did.

    Args:
        samples: ``(index into sequence, measure_colours(...))`` per frame counted.
        sequence: the colour names shown, in order. min_response: the weakest change allowed
            (relative units: 0.03 is a 3 % shift).

    Returns:
        ``(passed, strength)``: strength is the weakest change (``-1.0`` when a colour had no
        frame); passed when it is at least ``min_response``.
    """
    means = _window_means(samples, len(sequence))
    if any(m is None for m in means) or len(sequence) < 2:
        return False, -1.0
    responses = []
    for (face_a, bg_a), (face_b, bg_b), name_a, name_b in zip(means, means[1:], sequence, sequence[1:]):
        direction = (np.asarray(COLOURS[name_b], float) - np.asarray(COLOURS[name_a], float)) / 255.0
        direction /= np.linalg.norm(direction)
        change = (face_b - face_a) / max(float(face_a.mean()), 1.0)
        if bg_a is not None and bg_b is not None:
            change = change - (bg_b - bg_a) / max(float(bg_a.mean()), 1.0)
        responses.append(float(change @ direction))
    strength = round(min(responses), 4)
    return strength >= min_response, strength


def reflect(image: np.ndarray, box: FaceBox, colour: str, strength: float = 0.25) -> np.ndarray:
    """A synthetic stand-in for the screen's light on the face, for tests and benchmarks only.

    Adds ``strength`` × the pixel × the colour (0–1 per channel) inside a soft ellipse over the
    face box; the background is untouched (it is further from the screen).

    Args:
        image: uint8 RGB ``(H, W, 3)``. box: the face's box. colour: a name in ``COLOURS``.

    Returns:
        A new uint8 RGB image of the same shape.
    """
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    ry, rx = 0.75 * box.height, 0.6 * box.width
    weight = np.clip(1.0 - ((xx - cx) / rx) ** 2 - ((yy - cy) / ry) ** 2, 0.0, 1.0)[..., None]
    light = np.asarray(COLOURS[colour], np.float32) / 255.0
    lit = image.astype(np.float32) * (1.0 + strength * weight * light)
    return np.clip(lit, 0, 255).astype(np.uint8)
