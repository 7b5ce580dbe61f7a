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
* the colour step (``PacedPolicy.colour``): the screen shows 3–4 random colours, one prompt
  each, and the face's colour must follow them (``recognition.colour_response``), else
  ``no_colour_response``;
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

from .colour_response import judge_colour_response, measure_colours, new_colour_sequence
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

    wrong_turn_yaw: a yaw change from the baseline this large while blink, look up or open mouth is
    asked is a turn (``wrong_action``) at any stage of that action; honest look-ups and mouth
    openings of talking_head.mp4 reach 0.29, turns 0.45–0.52 (recognition/README.md).
    colour: add the screen-colour step (``recognition.colour_response``) at a random place in the
    script: 3–4 colours, each shown for a random ``colour_seconds`` and until ``colour_frames``
    face frames arrived after the first one under it (that one is skipped: the camera may still
    show the previous colour); the face must follow them by ``colour_min_response``.
    relax_actions: test policy only — any face frame after a prompt completes it (the pacing,
    deadlines and every other layer still run). relax_colour: test policy only — the colours are
    shown and measured, but any response passes (Chromium's fake webcam cannot reflect them).
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
    wrong_turn_yaw: float = 0.35
    yaw_return: float = 0.15
    min_pitch_change: float = 0.15
    pitch_return: float = 0.1
    mouth_open: float = 0.42
    mouth_closed: float = 0.3
    colour: bool = False
    colour_seconds: tuple[float, float] = (0.8, 1.6)
    colour_frames: int = 2
    colour_min_response: float = 0.08
    relax_actions: bool = False
    relax_colour: bool = False


def mouth_aspect_ratio(points: np.ndarray) -> float:
    """Inner-lip opening over mouth width from 68 landmarks: about 0.1–0.3 closed or talking."""
    width = float(np.linalg.norm(points[60] - points[64]))
    if width <= 1e-6:
        return 0.0
    gaps = sum(float(np.linalg.norm(points[a] - points[b])) for a, b in ((61, 67), (62, 66), (63, 65)))
    return gaps / (3.0 * width)


def measure_frame(capture: Capture, image: np.ndarray | None = None) -> dict:
    """The measures ``advance`` reads: eye and mouth aspect ratios, yaw and pitch, and with
    ``image`` (uint8 RGB, the one ``capture`` was found in) the face's and background's mean
    colours (``colours``, for the colour step)."""
    points = capture.face.landmarks.points
    measures = {"ear": round(eye_aspect_ratio(points), 4), "mar": round(mouth_aspect_ratio(points), 4),
                "yaw": round(float(capture.quality.yaw), 4), "pitch": round(float(capture.quality.pitch), 4)}
    if image is not None:
        measures["colours"] = measure_colours(image, capture.face.box)
    return measures


def new_script(policy: PacedPolicy = PacedPolicy()) -> dict:
    """A hidden script: distinct random actions (and the colour step, when on, at a random place)
    and the pause before each prompt (``secrets``)."""
    rng = secrets.SystemRandom()
    count = rng.randint(policy.min_actions, policy.max_actions)
    actions = rng.sample(PACED_ACTIONS, count)
    colours = []
    if policy.colour:
        actions.insert(rng.randint(0, len(actions)), "colour")
        colours = new_colour_sequence(seconds_range=policy.colour_seconds)
    pauses = [round(rng.uniform(policy.min_pause, policy.max_pause), 2) for _ in actions]
    return {"actions": actions, "pauses": pauses, "step": -1, "phase": "waiting", "prompt_at": None,
            "next_prompt_at": None, "baseline": None, "stage": 0, "done_at": None, "failed": "",
            "colours": colours, "colour_at": 0, "colour_frames": 0, "colour_samples": [],
            "colour_strength": None}


def _turned(m: dict, base: dict, policy: PacedPolicy) -> int:
    """+1 turned to the trainee's left, −1 to the right, 0 not clearly turned."""
    change = m["yaw"] - base["yaw"]
    return 0 if abs(change) < policy.min_yaw_change else (1 if change > 0 else -1)


def _progress(action: str, stage: int, m: dict, base: dict, policy: PacedPolicy) -> tuple[int, str]:
    """One frame's effect on the asked action: (new stage, '' | 'done' | 'wrong_action')."""
    if action in ("turn_left", "turn_right"):
        turn = _turned(m, base, policy)
        wanted = 1 if action == "turn_left" else -1
        if stage == 0:
            if turn == -wanted:
                return stage, "wrong_action"
            return (1, "") if turn == wanted else (0, "")
        return (stage, "done") if abs(m["yaw"] - base["yaw"]) <= policy.yaw_return else (stage, "")
    if abs(m["yaw"] - base["yaw"]) >= policy.wrong_turn_yaw:
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

    Returns the new state (a copy), with the frames' arrival times (``arrivals``, the last 60)
    and, per action, the seconds from its prompt to the first frame showing it (``reactions``)
    for the risk score. ``state["phase"]`` is ``waiting`` (no prompt out), ``acting``
    (prompt ``actions[step]`` out since ``prompt_at``), ``done`` or ``failed`` (``failed`` holds
    ``too_late``, ``wrong_action`` or ``no_colour_response``). During the colour step
    ``colour_at`` says which of ``colours`` is on screen.
    """
    state = dict(state)
    if state["phase"] in ("done", "failed"):
        return state
    state["arrivals"] = (state.get("arrivals") or [])[-59:] + [round(now, 3)]
    if state["phase"] == "acting":
        if now > state["prompt_at"] + policy.action_seconds:
            return {**state, "phase": "failed", "failed": "too_late"}
        if measures is None:
            return state
        action = state["actions"][state["step"]]
        if action == "colour":
            state, outcome = _colour_progress(state, measures, now, policy)
        else:
            stage, outcome = ((1, "done") if policy.relax_actions
                              else _progress(action, state["stage"], measures, state["baseline"], policy))
            if state["stage"] == 0 and (stage == 1 or outcome == "done"):
                state["reactions"] = (state.get("reactions") or []) + [round(now - state["prompt_at"], 3)]
            state["stage"] = stage
        if outcome in ("wrong_action", "no_colour_response"):
            return {**state, "phase": "failed", "failed": outcome}
        if outcome != "done":
            return state
        if state["step"] + 1 == len(state["actions"]):
            return {**state, "phase": "done", "done_at": now}
        return {**state, "phase": "waiting", "next_prompt_at": now + state["pauses"][state["step"] + 1],
                "baseline": _posture(measures)}
    if measures is None:
        return state
    if state["step"] == -1 and state["next_prompt_at"] is None:
        if abs(measures["yaw"]) > policy.first_frontal_yaw:
            return state
        state["next_prompt_at"] = now + state["pauses"][0]
    state["baseline"] = _posture(measures)  # the last frame before the prompt
    if now >= state["next_prompt_at"]:
        state.update(step=state["step"] + 1, phase="acting", prompt_at=now, stage=0, next_prompt_at=None)
    return state


def _posture(measures: dict) -> dict:
    """The measures a baseline keeps (not the colours)."""
    return {k: v for k, v in measures.items() if k != "colours"}


def _colour_progress(state: dict, measures: dict, now: float, policy: PacedPolicy) -> tuple[dict, str]:
    """One face frame during the colour step: (new state, '' | 'done' | 'wrong_action' |
    'no_colour_response'); a clear turn is ``wrong_action`` as during any non-turn action.

    ``colour_at`` is the index of the colour on screen since ``prompt_at``; the first frame under
    each colour is not counted; the colour changes once its seconds passed and ``colour_frames``
    frames were counted (the change is a new prompt, with its own deadline).
    """
    if (not policy.relax_actions and state["baseline"]
            and abs(measures["yaw"] - state["baseline"]["yaw"]) >= policy.wrong_turn_yaw):
        return state, "wrong_action"  # the face must stay toward the screen
    colours, index = state["colours"], state["colour_at"]
    seen = state["colour_frames"] + 1
    samples = state["colour_samples"]
    if seen > 1 and measures.get("colours"):
        samples = samples + [[index, measures["colours"]]]
    state = {**state, "colour_frames": seen, "colour_samples": samples, "stage": 1}
    counted = sum(1 for i, _m in samples if i == index)
    if now - state["prompt_at"] < colours[index]["seconds"] or counted < policy.colour_frames:
        return state, ""
    if index + 1 < len(colours):
        return {**state, "colour_at": index + 1, "colour_frames": 0, "prompt_at": now}, ""
    passed, strength = judge_colour_response(samples, [c["colour"] for c in colours], policy.colour_min_response)
    state = {**state, "colour_strength": strength}
    return state, ("done" if passed or policy.relax_colour else "no_colour_response")


def fingerprint(capture: Capture) -> bytes:
    """36 bytes: the signs of 288 low DCT coefficients of the grey 64×64 aligned crop vs their median."""
    grey = cv2.cvtColor(capture.aligned, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA)
    coefficients = cv2.dct(grey)[:_FP_SIDE, :_FP_SIDE].flatten()[1:]
    return np.packbits(coefficients > np.median(coefficients)).tobytes()


def fingerprint_distance(a: bytes, b: bytes) -> int:
    """How many of the 288 bits differ."""
    return int(np.unpackbits(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())
