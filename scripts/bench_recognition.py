"""Benchmark of the face pipeline: speed against naive face_recognition, 1:N search, FAR/FRR.

    python scripts/bench_recognition.py [speed|gallery|calibrate|all] [--faces ../shared/faces]

* speed: ~640×480 JPEG frames made from the single-face photos of ../shared/faces; median time
  from JPEG bytes to decision for this pipeline (default encoder) and for the naive
  face_recognition default (load_image_file + face_locations + face_encodings + face_distance),
  in the same run, their ratio, and how many decisions each got right.
* gallery: 1:N identification over 100,000 and 1,000,000 random templates, ``Gallery.identify``
  against the naive ``face_recognition.face_distance`` over the list.
* calibrate: every photo of eastasian_calib encoded with each encoder; false-accept and
  false-reject rates at the default thresholds (refusals counted as rejections, and without them,
  under the CLI's photo policy and the check-in policy), and the identity-bootstrap threshold
  that ``recognition/calibration.py`` documents.

Never imported by the app. Reads only ../shared/faces; writes nothing.
"""

from __future__ import annotations

import argparse
import io
import pathlib
import statistics
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from recognition import FacePipeline, Gallery, ImageRefused, QualityPolicy, default_threshold, verify  # noqa: E402
from recognition.__main__ import PHOTO_POLICY  # noqa: E402
from recognition.calibration import bootstrap_threshold, distance_matrix, pair_rates, round_down  # noqa: E402
from recognition.compare import METRICS  # noqa: E402

IDENTITIES = {
    "obama": ["obama.jpg", "obama2.jpg", "obama3.jpg", "obama-480p.jpg"],
    "biden": ["biden.jpg", "biden_biden2.jpg"],
    "kit": ["kit_harington_john1.jpeg", "kit_harington_john2.jpeg"],
    "rose": ["rose_leslie_img1.jpg", "rose_leslie_img2.jpg"],
    "alex": ["alex_lacamoire1.jpg", "alex_lacamoire_img1.jpg", "alex-lacamoire.png"],
    "lin": ["lin-manuel-miranda.png"],
}


def _frame(path: pathlib.Path) -> bytes:
    """Fit a photo into a 640×480 frame (letterboxed), as a webcam JPEG."""
    img = cv2.imread(str(path))
    scale = min(640 / img.shape[1], 480 / img.shape[0])
    small = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((480, 640, 3), np.uint8)
    y, x = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def bench_speed(faces: pathlib.Path, repeats: int) -> None:
    import face_recognition

    pipeline = FacePipeline()
    frames = [(who, name, _frame(faces / name)) for who, names in IDENTITIES.items() for name in names]
    refs_new, refs_old = {}, {}
    for who, names in IDENTITIES.items():  # reference = first photo of each person, at full size
        data = (faces / names[0]).read_bytes()
        refs_new[who] = pipeline.encode_bytes(data)[1]
        img = face_recognition.load_image_file(io.BytesIO(data))
        refs_old[who] = face_recognition.face_encodings(img, face_recognition.face_locations(img))[0]
    trials = [(who, claimed, data) for who, _, data in frames for claimed in IDENTITIES]
    new_t, old_t, new_ok, old_ok = [], [], 0, 0
    for _ in range(repeats):
        for who, claimed, data in trials:
            t = time.perf_counter()
            try:
                decision = verify(refs_new[claimed], pipeline.encode_bytes(data)[1]).is_match
            except ImageRefused:
                decision = False
            new_t.append(time.perf_counter() - t)
            new_ok += decision == (who == claimed)
            t = time.perf_counter()
            img = face_recognition.load_image_file(io.BytesIO(data))
            encs = face_recognition.face_encodings(img, face_recognition.face_locations(img))
            decision = bool(encs) and face_recognition.face_distance([refs_old[claimed]], encs[0])[0] < 0.6
            old_t.append(time.perf_counter() - t)
            old_ok += decision == (who == claimed)
    n = len(trials) * repeats
    a, b = statistics.median(new_t) * 1000, statistics.median(old_t) * 1000
    print(f"speed: {len(frames)} frames 640x480, {n} verifications each")
    print(f"  pipeline (mobilefacenet)  median {a:7.1f} ms   right decisions {new_ok}/{n}")
    print(f"  naive face_recognition    median {b:7.1f} ms   right decisions {old_ok}/{n}")
    print(f"  ratio naive/pipeline      {b / a:.1f}x")


def bench_gallery(sizes: list[int], probes: int) -> None:
    import face_recognition

    rng = np.random.default_rng(0)
    for n in sizes:
        vectors = rng.normal(size=(n, 128)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        gallery = Gallery("mobilefacenet")
        gallery.add_many((f"t{i}" for i in range(n)), vectors)
        queries = vectors[rng.integers(0, n, probes)] + rng.normal(scale=0.02, size=(probes, 128)).astype(np.float32)
        fast = []
        for q in queries:
            t = time.perf_counter()
            gallery.identify(q)
            fast.append(time.perf_counter() - t)
        known = list(vectors.astype(np.float64))  # face_recognition works on a list of float64 vectors
        slow = []
        for q in queries[: max(3, probes // 10)]:
            t = time.perf_counter()
            int(np.argmin(face_recognition.face_distance(known, q)))
            slow.append(time.perf_counter() - t)
        del known
        # the top-two step alone, on the same score buffer: argmax + masked max vs np.argpartition
        scores = gallery._matrix @ queries[0]
        part, amax = [], []
        for _ in range(20):
            t = time.perf_counter()
            np.argpartition(scores, n - 2)[-2:]
            part.append(time.perf_counter() - t)
            s = scores.copy()
            t = time.perf_counter()
            b = int(np.argmax(s))
            s[b] = -np.inf
            s.max()
            amax.append(time.perf_counter() - t)
        print(f"gallery {n:>9,}: Gallery.identify median {statistics.median(fast) * 1000:7.2f} ms "
              f"(min {min(fast) * 1000:.2f}); naive face_distance median {statistics.median(slow) * 1000:8.1f} ms "
              f"({statistics.median(slow) / statistics.median(fast):.0f}x); top-two step: argmax+max "
              f"{statistics.median(amax) * 1000:.2f} ms, argpartition {statistics.median(part) * 1000:.2f} ms")


def _calib_encodings(faces: pathlib.Path, encoder: str, policy: QualityPolicy):
    pipeline = FacePipeline(encoder=encoder, policy=policy)
    people, vectors = [], []
    for path in sorted((faces / "eastasian_calib").rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        try:
            vectors.append(pipeline.encode_bytes(path.read_bytes())[1].vector)
        except ImageRefused:
            vectors.append(None)
        people.append(path.parent.name)
    return np.array(people), vectors


def bench_calibrate(faces: pathlib.Path) -> None:
    """FAR/FRR of each encoder on eastasian_calib at its default threshold, and the threshold the
    documented bootstrap (recognition/calibration.py) picks, under the CLI's photo policy (what the
    acceptance test runs) and the strict check-in policy."""
    policies = {"cli-photo": PHOTO_POLICY, "check-in": QualityPolicy()}
    for encoder in ("mobilefacenet", "dlib"):
        threshold = default_threshold(encoder)
        for label, policy in policies.items():
            people, vectors = _calib_encodings(faces, encoder, policy)
            ok = np.array([v is not None for v in vectors])
            m = np.stack([v if v is not None else np.zeros(128, np.float32) for v in vectors])
            d = distance_matrix(m, METRICS[encoder])
            r = pair_rates(people, d, ok, threshold)
            print(f"calib {encoder:13s} {label:9s} threshold {threshold}: FAR {r.far * 100:.3f}% "
                  f"({r.false_accepts}/{r.impostor_pairs})  FRR {r.frr * 100:.2f}% ({r.genuine_rejects}/{r.genuine_pairs}, "
                  f"refusals counted; {r.genuine_refused} pairs refused, {(~ok).sum()}/{len(ok)} photos)  "
                  f"FRR without refusals {r.frr_encoded * 100:.2f}%")
            if label == "cli-photo":
                boot = bootstrap_threshold(people[ok], d[np.ix_(ok, ok)])
                chosen = round_down(boot)
                rb = pair_rates(people, d, ok, chosen)
                print(f"  bootstrap: 5th percentile of the per-resample 0.1% impostor quantile = {boot:.4f} -> "
                      f"{chosen} (default {threshold}{'' if chosen == threshold else ', DIFFERS'}): "
                      f"FAR {rb.far * 100:.3f}% FRR {rb.frr * 100:.2f}%")


def _machine() -> str:
    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    return f"{os.cpu_count()} cores, load average {load:.1f}, BLAS threads {threads}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all", choices=("speed", "gallery", "calibrate", "all"))
    parser.add_argument("--faces", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "faces")
    parser.add_argument("--repeats", type=int, default=1, help="passes over the speed trials")
    parser.add_argument("--sizes", default="100000,1000000", help="gallery sizes, comma-separated")
    parser.add_argument("--probes", type=int, default=50, help="probes per gallery size")
    args = parser.parse_args()
    if not (args.faces / "obama.jpg").is_file():
        parser.error(f"no face photos at {args.faces}")
    print("machine:", _machine())
    if args.what in ("speed", "all"):
        bench_speed(args.faces, args.repeats)
    if args.what in ("gallery", "all"):
        bench_gallery([int(s) for s in args.sizes.split(",")], args.probes)
    if args.what in ("calibrate", "all"):
        bench_calibrate(args.faces)


if __name__ == "__main__":
    main()
