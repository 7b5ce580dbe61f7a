"""Server-paced liveness: a challenge run as a conversation, and a perceptual fingerprint of faces.

The server draws a hidden script (``new_script``): three or four different actions out of five
(``PACED_ACTIONS``) and a random pause before each prompt. The page streams frames one by one; the
server stamps each one's arrival and feeds the frame's landmark measures (``measure_frame``) to
``advance``, a pure state machine over a JSON-able dict:

* no prompt is issued before a roughly frontal face was seen; then, after the drawn pause, the
  next frame's answer carries the prompt (its arrival is the prompt's time);
* only frames arriving after a prompt count for its action, measured against the last frame before
  the prompt (the baseline); the action must end within ``action_seconds`` of the prompt, else
  ``too_late``; a clear turn while another action is asked is ``wrong_action``;
* turns need a yaw change of ``min_yaw_change`` in the asked direction and a return to the
  baseline; look up a pitch change and a return; blink a closed-then-open eye aspect ratio; open
  mouth a mouth aspect ratio over ``mouth_open`` then under ``mouth_closed``;
* after the last action the challenge is done; the client learns the number, order and timing of
  actions only as they come.

``fingerprint`` is a 288-bit DCT hash of the aligned face crop; ``fingerprint_distance`` counts
differing bits. Thresholds and what they were measured on: ``recognition/README.md``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import cv2
import numpy as np

from .liveness import eye_aspect_ratio
from .types import Capture

__all__ = ["PACED_ACTIONS", "PacedPolicy", "advance", "fingerprint", "fingerprint_distance", "measure_frame",
           "new_script", "REPLAY_DISTANCE"]

PACED_ACTIONS = ("blink", "turn_left", "turn_right", "look_up", "open_mouth")
#: Fingerprints at most this many bits apart (of 288) are the same picture (see the README).
REPLAY_DISTANCE = 24
_FP_SIDE = 17


@dataclass(frozen=True)
class PacedPolicy:
    """Limits of a paced challenge (seconds are server arrival times).

    relax_actions: test policy only — any face frame after a prompt completes it (the pacing,
    deadlines and every other layer still run).
    """

    min_actions: int = 3
    max_actions: int = 4
    min_pause: float = 1.0
    max_pause: float = 2.5
    action_seconds: float = 10.0
    first_frontal_yaw: float = 0.25
    blink_ratio: float = 0.7
    reopen_ratio: float = 0.75
    min_open_ear: float = 0.18
    min_yaw_change: float = 0.3
    yaw_return: float = 0.15
    min_pitch_change: float = 0.15
    pitch_return: float = 0.1
    mouth_open: float = 0.42
    mouth_closed: float = 0.3
    relax_actions: bool = False


def mouth_aspect_ratio(points: np.ndarray) -> float:
    """Inner-lip opening over mouth width from 68 landmarks: about 0.1–0.3 closed or talking."""
    width = float(np.linalg.norm(points[60] - points[64]))
    if width <= 1e-6:
        return 0.0
    gaps = sum(float(np.linalg.norm(points[a] - points[b])) for a, b in ((61, 67), (62, 66), (63, 65)))
    return gaps / (3.0 * width)


def measure_frame(capture: Capture) -> dict:
    """The measures ``advance`` reads: eye and mouth aspect ratios, yaw and pitch."""
    points = capture.face.landmarks.points
    return {"ear": round(eye_aspect_ratio(points), 4), "mar": round(mouth_aspect_ratio(points), 4),
            "yaw": round(float(capture.quality.yaw), 4), "pitch": round(float(capture.quality.pitch), 4)}


def new_script(policy: PacedPolicy = PacedPolicy()) -> dict:
    """A hidden script: distinct random actions and the pause before each prompt (``secrets``)."""
    rng = secrets.SystemRandom()
    count = rng.randint(policy.min_actions, policy.max_actions)
    actions = rng.sample(PACED_ACTIONS, count)
    pauses = [round(rng.uniform(policy.min_pause, policy.max_pause), 2) for _ in actions]
    return {"actions": actions, "pauses": pauses, "step": -1, "phase": "waiting", "prompt_at": None,
            "next_prompt_at": None, "baseline": None, "stage": 0, "done_at": None, "failed": ""}


def _turned(m: dict, base: dict, policy: PacedPolicy) -> int:
    """+1 turned to the trainee's left, −1 to the right, 0 not clearly turned."""
    change = m["yaw"] - base["yaw"]
    return 0 if abs(change) < policy.min_yaw_change else (1 if change > 0 else -1)


def _progress(action: str, stage: int, m: dict, base: dict, policy: PacedPolicy) -> tuple[int, str]:
    """One frame's effect on the asked action: (new stage, '' | 'done' | 'wrong_action')."""
    turn = _turned(m, base, policy)
    if action in ("turn_left", "turn_right"):
        wanted = 1 if action == "turn_left" else -1
        if stage == 0:
            if turn == -wanted:
                return stage, "wrong_action"
            return (1, "") if turn == wanted else (0, "")
        return (stage, "done") if abs(m["yaw"] - base["yaw"]) <= policy.yaw_return else (stage, "")
    if turn and stage == 0:
        return stage, "wrong_action"
    if action == "blink":
        open_ear = max(base["ear"], policy.min_open_ear)
        if stage == 0:
            return (1, "") if m["ear"] <= policy.blink_ratio * open_ear else (0, "")
        return (stage, "done") if m["ear"] >= policy.reopen_ratio * open_ear else (stage, "")
    if action == "look_up":
        if stage == 0:
            return (1, "") if base["pitch"] - m["pitch"] >= policy.min_pitch_change else (0, "")
        return (stage, "done") if abs(m["pitch"] - base["pitch"]) <= policy.pitch_return else (stage, "")
    if action == "open_mouth":
        if stage == 0:
            return (1, "") if m["mar"] >= policy.mouth_open else (0, "")
        return (stage, "done") if m["mar"] <= policy.mouth_closed else (stage, "")
    raise ValueError(f"unknown action {action!r}")


def advance(state: dict, measures: dict | None, now: float, policy: PacedPolicy = PacedPolicy()) -> dict:
    """Feed one frame (its measures, or ``None`` when no face was found) arriving at ``now``.

    Returns the new state (a copy). ``state["phase"]`` is ``waiting`` (no prompt out), ``acting``
    (prompt ``actions[step]`` out since ``prompt_at``), ``done`` or ``failed`` (``failed`` holds
    ``too_late`` or ``wrong_action``).
    """
    state = dict(state)
    if state["phase"] in ("done", "failed"):
        return state
    if state["phase"] == "acting":
        if now > state["prompt_at"] + policy.action_seconds:
            return {**state, "phase": "failed", "failed": "too_late"}
        if measures is None:
            return state
        action = state["actions"][state["step"]]
        stage, outcome = ((1, "done") if policy.relax_actions
                          else _progress(action, state["stage"], measures, state["baseline"], policy))
        if outcome == "wrong_action":
            return {**state, "phase": "failed", "failed": "wrong_action"}
        state["stage"] = stage
        if outcome != "done":
            return state
        if state["step"] + 1 == len(state["actions"]):
            return {**state, "phase": "done", "done_at": now}
        return {**state, "phase": "waiting", "next_prompt_at": now + state["pauses"][state["step"] + 1],
                "baseline": measures}
    if measures is None:
        return state
    if state["step"] == -1 and state["next_prompt_at"] is None:
        if abs(measures["yaw"]) > policy.first_frontal_yaw:
            return state
        state["next_prompt_at"] = now + state["pauses"][0]
    state["baseline"] = measures  # the last frame before the prompt
    if now >= state["next_prompt_at"]:
        state.update(step=state["step"] + 1, phase="acting", prompt_at=now, stage=0, next_prompt_at=None)
    return state


def fingerprint(capture: Capture) -> bytes:
    """36 bytes: the signs of 288 low DCT coefficients of the grey 64×64 aligned crop vs their median."""
    grey = cv2.cvtColor(capture.aligned, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA)
    coefficients = cv2.dct(grey)[:_FP_SIDE, :_FP_SIDE].flatten()[1:]
    return np.packbits(coefficients > np.median(coefficients)).tobytes()


def fingerprint_distance(a: bytes, b: bytes) -> int:
    """How many of the 288 bits differ."""
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())
