"""Benchmark of the server-paced liveness check and the replay memory, per attack: how many of N
tries got through.

    python scripts/bench_liveness.py [--tries 300] [--faces ../shared/faces] [--seed 1] [--colour on|off]
                                     [--no-replay-figures]

Every frame of talking_head.mp4 (and its mirror image) is measured once with the real pipeline
(landmarks → the measures ``recognition.paced.advance`` reads, and the fingerprint); the tries then
replay those measures through the production ``PacedPolicy`` with random scripts drawn by
``new_script``, a frame every 0.2–0.3 s of server time:

* live responder: neutral frames until a prompt, then real frames of the asked action (the tests'
  ``respond``) — how many honest tries pass;
* recording: the clip (or its mirror image) played from a random moment, looping, whatever the
  prompts say — a replayed video with nobody acting;
* blind sequence: the responder's frames of all five actions in a fixed order, sent without
  reading the prompts — a prepared burst;
* photo: one frame (any of the clip's) shown throughout, slightly re-lit (no two frames equal);
* with ``--colour on`` (the default, as in production) every script has the screen-colour step:
  the live responder answers a colour prompt with a neutral frame lit by that colour
  (``recognition.colour_response.reflect``, strength 0.3, the tests' stand-in for the screen's
  light); every other try sends its frames unlit. "live responder, unlit" is the honest person
  whose screen light does not show on the face (a bright room, a dim screen). The colour layer is
  then measured alone too (the other actions relaxed: any face frame answers them).

Replay memory: fingerprint distances of each frame to itself re-encoded (JPEG 60–90, 0.8–1.0
scale), of frames at least 2 s apart in the clip, and of different photos of each person in
eastasian_calib, against ``REPLAY_DISTANCE``.

Never imported by the app. Reads only ../shared/faces; writes nothing.
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import random
import sys
from dataclasses import replace

import cv2
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognition import ImageRefused, QualityPolicy, analyse_image  # noqa: E402
from recognition.colour_response import COLOURS, reflect  # noqa: E402
from recognition.paced import (REPLAY_DISTANCE, PacedPolicy, advance, fingerprint, fingerprint_distance,  # noqa: E402
                               measure_frame, new_script)
from tests.attendance_helpers import PACED_FRAMES, _MIRRORED  # noqa: E402

LOOSE = QualityPolicy(max_yaw=1.5, max_pitch=1.5)
POLICY = PacedPolicy(colour=True)
REFLECTION = 0.3


def clip(faces: pathlib.Path) -> list[np.ndarray]:
    capture, frames = cv2.VideoCapture(str(faces / "talking_head.mp4")), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def analyse(frame: np.ndarray, quality: int = 92, scale: float = 1.0, colour: str = ""):
    """(measures with colours, fingerprint) of a BGR frame sent as JPEG; ``colour``: lit by it first."""
    if scale != 1.0:
        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if colour:
        _image, capture = analyse_image(cv2.imencode(".jpg", frame)[1].tobytes(), policy=LOOSE)
        rgb = reflect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), capture.face.box, colour, REFLECTION)
        frame = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    try:
        image, capture = analyse_image(data, policy=LOOSE)
    except ImageRefused:
        return None, None
    return measure_frame(capture, image), fingerprint(capture)


def run(script: dict, frames, rng: random.Random, policy: PacedPolicy) -> dict:
    """Feed ``frames`` (an iterator of measures, given the last answer) at 0.2–0.3 s steps."""
    state, now = script, 0.0
    for _ in range(400):
        measures = frames(state)
        now += rng.uniform(0.2, 0.3)
        state = advance(state, measures, now, policy)
        if state["phase"] in ("done", "failed"):
            break
    return state


def responder(measures, mirrored: bool, lit: dict | None):
    """The tests' live responder; ``lit[(index, colour)]``: measures of neutral frames lit by the
    screen (None: unlit, the screen's light does not show)."""
    neutral = itertools.cycle(PACED_FRAMES["neutral"])
    queue: list[int] = []

    def next_frame(state):
        if state["phase"] == "acting" and state["actions"][state["step"]] == "colour":
            index = next(neutral)
            colour = state["colours"][state["colour_at"]]["colour"]
            return lit[(index, colour)] if lit else measures[index]
        if state["phase"] != "acting":
            queue.clear()
        if state["phase"] == "acting" and not queue and state.get("_served") != state["step"]:
            action = state["actions"][state["step"]]
            queue.extend(PACED_FRAMES[_MIRRORED.get(action, action) if mirrored else action])
            state["_served"] = state["step"]
        return measures[queue.pop(0) if queue else next(neutral)]
    return next_frame


def recording(measures, rng: random.Random):
    position = itertools.count(rng.randrange(len(measures)))
    step = rng.choice((5, 6, 7))  # 25 fps recording grabbed every 0.2–0.3 s

    def next_frame(_state):
        return measures[(next(position) * step) % len(measures)]
    return next_frame


def blind(measures):
    order = [i for a in ("blink", "turn_left", "turn_right", "look_up", "open_mouth")
             for i in PACED_FRAMES["neutral"][:2] + PACED_FRAMES[a]]
    sequence = itertools.cycle(order)
    return lambda _state: measures[next(sequence)]


def photo(measures, rng: random.Random):
    index = rng.randrange(len(measures))
    return lambda _state: measures[index]


def tries(name: str, n: int, make, rng: random.Random, policy: PacedPolicy) -> None:
    outcomes = [run(new_script(policy), make(), rng, policy) for _ in range(n)]
    passed = sum(s["phase"] == "done" for s in outcomes)
    reasons: dict = {}
    for s in outcomes:
        key = s["failed"] or s["phase"]
        reasons[key] = reasons.get(key, 0) + 1
    print(f"{name:<32} {passed:>4} of {n} passed   {reasons}")


def replay_figures(frames, faces: pathlib.Path, rng: random.Random) -> None:
    picks = list(range(0, len(frames), 10))
    prints = {i: analyse(frames[i])[1] for i in picks}
    reencoded = [fingerprint_distance(prints[i], analyse(frames[i], rng.choice((60, 75, 90)),
                                                              rng.choice((0.8, 0.9, 1.0)))[1]) for i in picks]
    apart = [fingerprint_distance(prints[i], prints[j]) for i in picks for j in picks if j - i >= 50]
    same_person = []
    for folder in sorted(p for p in (faces / "eastasian_calib").iterdir() if p.is_dir()):
        person = [analyse(cv2.imread(str(f)))[1] for f in sorted(folder.glob("*.jpg"))]
        person = [p for p in person if p is not None]
        same_person += [fingerprint_distance(a, b) for a, b in itertools.combinations(person, 2)]
    print(f"replay threshold {REPLAY_DISTANCE} bits of 288")
    print(f"  re-encoded copies (JPEG 60-90, scale 0.8-1): max {max(reencoded)}, "
          f"caught {sum(d <= REPLAY_DISTANCE for d in reencoded)} of {len(reencoded)}")
    print(f"  live frames >= 2 s apart: min {min(apart)}, collisions {sum(d <= REPLAY_DISTANCE for d in apart)} "
          f"of {len(apart)}")
    print(f"  eastasian_calib, photos of one person: min {min(same_person)}, "
          f"collisions {sum(d <= REPLAY_DISTANCE for d in same_person)} of {len(same_person)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=300)
    parser.add_argument("--faces", type=pathlib.Path, default=ROOT.parent / "shared" / "faces")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--colour", choices=("on", "off"), default="on")
    parser.add_argument("--no-replay-figures", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    policy = replace(POLICY, colour=args.colour == "on")
    frames = clip(args.faces)
    plain = [analyse(f)[0] for f in frames]
    mirror = [analyse(cv2.flip(f, 1))[0] for f in frames]
    lit = {(i, c): analyse(frames[i], colour=c)[0] for i in PACED_FRAMES["neutral"] for c in COLOURS}
    lit_mirror = {(i, c): analyse(cv2.flip(frames[i], 1), colour=c)[0] for i in PACED_FRAMES["neutral"] for c in COLOURS}
    n = args.tries
    print(f"colour step {args.colour}; {n} tries each")
    tries("live responder", n, lambda: responder(plain, False, lit), rng, policy)
    tries("live responder (mirrored clip)", n, lambda: responder(mirror, True, lit_mirror), rng, policy)
    if policy.colour:
        tries("live responder, unlit", n, lambda: responder(plain, False, None), rng, policy)
    tries("recording, looped", n, lambda: recording(plain, rng), rng, policy)
    tries("recording, mirrored, looped", n, lambda: recording(mirror, rng), rng, policy)
    tries("blind sequence of all actions", n, lambda: blind(plain), rng, policy)
    tries("photo", n, lambda: photo(plain, rng), rng, policy)
    if policy.colour:  # the colour layer on its own: any face frame answers the other actions
        alone = replace(policy, relax_actions=True)
        print("colour step alone (actions relaxed)")
        tries("  live responder", n, lambda: responder(plain, False, lit), rng, alone)
        tries("  recording, looped", n, lambda: recording(plain, rng), rng, alone)
        tries("  recording, mirrored, looped", n, lambda: recording(mirror, rng), rng, alone)
        tries("  blind sequence of all actions", n, lambda: blind(plain), rng, alone)
        tries("  photo", n, lambda: photo(plain, rng), rng, alone)
    if not args.no_replay_figures:
        replay_figures(frames, args.faces, rng)


if __name__ == "__main__":
    main()
