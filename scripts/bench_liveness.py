"""Benchmark of the server-paced liveness check and the replay memory, per attack: how many of N
tries got through.

    python scripts/bench_liveness.py [--tries 300] [--faces ../shared/faces] [--seed 1]

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
* photo: one frame (any of the clip's) shown throughout, slightly re-lit (no two frames equal).

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

import cv2
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognition import ImageRefused, QualityPolicy, analyse_image  # noqa: E402
from recognition.paced import (REPLAY_DISTANCE, PacedPolicy, advance, fingerprint, fingerprint_distance,  # noqa: E402
                               measure_frame, new_script)
from tests.attendance_helpers import PACED_FRAMES, _MIRRORED  # noqa: E402

LOOSE = QualityPolicy(max_yaw=1.5, max_pitch=1.5)
POLICY = PacedPolicy()


def clip(faces: pathlib.Path) -> list[np.ndarray]:
    capture, frames = cv2.VideoCapture(str(faces / "talking_head.mp4")), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def analyse(frame: np.ndarray, quality: int = 92, scale: float = 1.0):
    if scale != 1.0:
        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    try:
        _image, capture = analyse_image(data, policy=LOOSE)
    except ImageRefused:
        return None, None
    return measure_frame(capture), fingerprint(capture)


def run(script: dict, frames, rng: random.Random) -> dict:
    """Feed ``frames`` (an iterator of measures, given the last answer) at 0.2–0.3 s steps."""
    state, now = script, 0.0
    for _ in range(400):
        measures = frames(state)
        now += rng.uniform(0.2, 0.3)
        state = advance(state, measures, now, POLICY)
        if state["phase"] in ("done", "failed"):
            break
    return state


def responder(measures, mirrored: bool):
    neutral = itertools.cycle(PACED_FRAMES["neutral"])
    queue: list[int] = []

    def next_frame(state):
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


def tries(name: str, n: int, make, rng: random.Random) -> None:
    outcomes = [run(new_script(POLICY), make(), rng) for _ in range(n)]
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
    args = parser.parse_args()
    rng = random.Random(args.seed)
    frames = clip(args.faces)
    plain = [analyse(f)[0] for f in frames]
    mirror = [analyse(cv2.flip(f, 1))[0] for f in frames]
    n = args.tries
    tries("live responder", n, lambda: responder(plain, False), rng)
    tries("live responder (mirrored clip)", n, lambda: responder(mirror, True), rng)
    tries("recording, looped", n, lambda: recording(plain, rng), rng)
    tries("recording, mirrored, looped", n, lambda: recording(mirror, rng), rng)
    tries("blind sequence of all actions", n, lambda: blind(plain), rng)
    tries("photo", n, lambda: photo(plain, rng), rng)
    replay_figures(frames, args.faces, rng)


if __name__ == "__main__":
    main()
