"""Risk score of an accepted paced check (issue 15): signals that do not refuse a check on their
own but make it worth an instructor's look.

`assess` turns `RiskSignals` into a score (0–100) and named reasons. At or above the configured
``RISK_HOLD_SCORE`` the check stands, but the minutes its presence interval credits are held for
the instructor's decision (`app.services.hours.credit_interval`, `app.services.held_hours`).
None of the signals is proof of honesty: a missing camera label or no signal at all is not a
clean bill, only the absence of these particular warnings. Pure functions; the weights and
bands are judgement, not calibrated on real attacks (docs in recognition/README.md).
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

#: Device labels of virtual cameras (OBS, ManyCam, XSplit, Snap Camera, e2eSoft VCam, …).
VIRTUAL_CAMERA = re.compile(r"obs|manycam|virtual|xsplit|snap camera|e2esoft|vcam|splitcam|camtwist|"
                            r"youcam|droidcam|iriun|epoccam|avatarify|dummy video|v4l2loopback|akvcam",
                            re.IGNORECASE)

#: Points per signal; the score is their sum, at most 100.
WEIGHTS = {
    "virtual_camera": 60,
    "no_camera_label": 10,
    "replay_near_miss": 30,
    "weak_colour_response": 30,
    "reaction_too_fast": 40,
    "frames_too_regular": 25,
    "small_identification_margin": 30,
    "near_match_threshold": 30,
    "rerolled_challenges": 20,
}

#: The signals in words (held items show them to the instructor and the trainee).
REASON_WORDS = {
    "virtual_camera": _l("The camera reported the name of a virtual camera (such as OBS or ManyCam)."),
    "no_camera_label": _l("The page did not report the camera's name."),
    "replay_near_miss": _l("A picture was very similar to one seen in an earlier check or at enrolment."),
    "weak_colour_response": _l("The screen's colours were only weakly seen on the face."),
    "reaction_too_fast": _l("An action began faster than a person can react to the instruction."),
    "frames_too_regular": _l("The pictures arrived at machine-regular intervals."),
    "small_identification_margin": _l("The kiosk's best and second-best candidates were close."),
    "near_match_threshold": _l("The face was only just similar enough to the enrolled one."),
    "rerolled_challenges": _l("Several checks were started and left unfinished just before this one."),
}


@dataclass(frozen=True)
class RiskLimits:
    """Where each signal starts (from config and the recognition constants)."""

    replay_distance: int = 24          # recognition.paced.REPLAY_DISTANCE: refused at or below
    replay_band: int = 10              # a near miss: at most this many bits above it
    colour_min_response: float = 0.08  # recognition.paced.PacedPolicy.colour_min_response
    weak_colour_factor: float = 1.5    # weak: under this × the minimum
    min_reaction: float = 0.15         # seconds; 0 turns the signal off
    regular_frames: float = 0.005      # seconds of standard deviation; 0 turns the signal off
    min_intervals: int = 8
    margin: float = 0.18               # 1:N gap under this is small (KIOSK_ROSTER_MARGIN 0.12 + 0.06)
    threshold_band: float = 0.05       # distance within this of the threshold is near it
    rerolls: int = 2


@dataclass(frozen=True)
class RiskSignals:
    """What one check showed (None: not measured for this check)."""

    camera_label: str | None = None
    replay_distance: int | None = None
    colour_strength: float | None = None
    reactions: list[float] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    margin: float | None = None
    distance: float | None = None
    threshold: float | None = None
    rerolls: int = 0


def camera_reasons(label: str | None) -> list[str]:
    """``virtual_camera`` for a virtual camera's name, ``no_camera_label`` for none."""
    if not label or not label.strip():
        return ["no_camera_label"]
    return ["virtual_camera"] if VIRTUAL_CAMERA.search(label) else []


def timing_reasons(reactions: list[float], arrivals: list[float], limits: RiskLimits) -> list[str]:
    """A reaction under ``min_reaction`` s; arrival gaps whose spread is under ``regular_frames`` s."""
    reasons = []
    if limits.min_reaction > 0 and any(r < limits.min_reaction for r in reactions):
        reasons.append("reaction_too_fast")
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    if limits.regular_frames > 0 and len(gaps) >= limits.min_intervals and statistics.pstdev(gaps) < limits.regular_frames:
        reasons.append("frames_too_regular")
    return reasons


def match_reasons(signals: RiskSignals, limits: RiskLimits) -> list[str]:
    """Replay near miss, weak colour response, small 1:N margin, distance near the threshold."""
    reasons = []
    if signals.replay_distance is not None and (
            limits.replay_distance < signals.replay_distance <= limits.replay_distance + limits.replay_band):
        reasons.append("replay_near_miss")
    if signals.colour_strength is not None and (
            signals.colour_strength < limits.weak_colour_factor * limits.colour_min_response):
        reasons.append("weak_colour_response")
    if signals.margin is not None and signals.margin < limits.margin:
        reasons.append("small_identification_margin")
    if signals.distance is not None and signals.threshold is not None and (
            signals.distance > signals.threshold - limits.threshold_band):
        reasons.append("near_match_threshold")
    return reasons


def assess(signals: RiskSignals, limits: RiskLimits = RiskLimits()) -> tuple[int, list[str]]:
    """The check's score (0–100, the sum of `WEIGHTS` of its reasons) and its reasons, in
    `WEIGHTS` order."""
    found = set(camera_reasons(signals.camera_label) + timing_reasons(signals.reactions, signals.arrivals, limits)
                + match_reasons(signals, limits))
    if signals.rerolls >= limits.rerolls:
        found.add("rerolled_challenges")
    reasons = [code for code in WEIGHTS if code in found]
    return min(100, sum(WEIGHTS[code] for code in reasons)), reasons


def is_held(score: int | None, hold_score: int) -> bool:
    """Whether a check's minutes wait for an instructor."""
    return score is not None and score >= hold_score
