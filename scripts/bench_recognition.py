"""Benchmark of the face pipeline: speed against naive face_recognition, 1:N search, FAR/FRR.

    python scripts/bench_recognition.py [speed|gallery|calibrate|detectors|all] [--faces ../shared/faces]

* speed: ~640×480 JPEG frames made from the single-face photos of ../shared/faces; median time
  (wall and the thread's CPU time) from JPEG bytes to decision for this pipeline (default encoder,
  with RetinaFace and with the HOG fallback) and for the naive
  face_recognition default (load_image_file + face_locations + face_encodings + face_distance),
  in the same run, their ratio, and how many decisions each got right. ``--rounds R`` repeats it
  (median and range of the per-round figures); ``--against DIR`` runs another checkout's pipeline
  in turn with the others (an A/B against, say, main in the same run).
* gallery: 1:N identification over 100,000 and 1,000,000 random templates, ``Gallery.identify``
  against the naive ``face_recognition.face_distance`` over the list.
* calibrate: every photo of eastasian_calib encoded with each encoder; false-accept and
  false-reject rates at the default thresholds (refusals counted as rejections, and without them,
  under the CLI's photo policy and the check-in policy), and the identity-bootstrap threshold
  that ``recognition/calibration.py`` documents; mobilefacenet also with the HOG fallback and
  HOG-aligned templates against RetinaFace-aligned probes.
* detectors: templates made with HOG (before RetinaFace) compared as the app did before they
  recorded their detector (against RetinaFace-aligned probes, RetinaFace's threshold) and as it
  does now (the probe aligned by the template's detector, that detector's threshold); RetinaFace
  templates against RetinaFace probes beside them.

Never imported by the app. Reads only ../shared/faces; writes nothing.
"""

from __future__ import annotations

import argparse
import io
import pathlib
import statistics
import sys
import time
from collections import Counter

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


def _tree_pipeline(tree: pathlib.Path):
    """Another checkout's ``recognition`` package, imported as ``recognition_against`` (its own
    modules and model caches), for an A/B in one process: ``(FacePipeline, verify, ImageRefused)``."""
    import importlib.util

    package = tree / "recognition"
    spec = importlib.util.spec_from_file_location("recognition_against", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["recognition_against"] = module
    spec.loader.exec_module(module)
    return module.FacePipeline(detector="retinaface"), module.verify, module.ImageRefused


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} (range {min(values):.1f}–{max(values):.1f})"


def bench_speed(faces: pathlib.Path, repeats: int, rounds: int = 1, against: pathlib.Path | None = None) -> None:
    """JPEG bytes to decision: this tree's pipeline (RetinaFace, and the HOG fallback), optionally
    another checkout's (``against``: its RetinaFace pipeline) and naive face_recognition, trial by
    trial in turn (the order of the pipelines alternating), so that load from elsewhere hits all
    alike; per round the median wall time (``perf_counter``) and CPU time of the thread
    (``thread_time``) of each, and the ratios; over the rounds their median and range."""
    import face_recognition

    runs = {d: (FacePipeline(detector=d), verify, ImageRefused) for d in ("retinaface", "hog")}
    if against is not None:
        runs["against"] = _tree_pipeline(against)
    frames = [(who, name, _frame(faces / name)) for who, names in IDENTITIES.items() for name in names]
    refs = {k: {} for k in runs}
    refs_old = {}
    for who, names in IDENTITIES.items():  # reference = first photo of each person, at full size
        data = (faces / names[0]).read_bytes()
        for k, (pipeline, _, _) in runs.items():
            refs[k][who] = pipeline.encode_bytes(data)[1]
        img = face_recognition.load_image_file(io.BytesIO(data))
        refs_old[who] = face_recognition.face_encodings(img, face_recognition.face_locations(img))[0]
    if against is not None:
        gap = max(float(np.abs(refs["retinaface"][w].vector - refs["against"][w].vector).max()) for w in IDENTITIES)
        print(f"speed: embeddings of the references, this tree against {against}: max abs difference {gap:.2e}")
    trials = [(who, claimed, data) for who, _, data in frames for claimed in IDENTITIES]

    def naive(claimed, data):
        img = face_recognition.load_image_file(io.BytesIO(data))
        encs = face_recognition.face_encodings(img, face_recognition.face_locations(img))
        return bool(encs) and face_recognition.face_distance([refs_old[claimed]], encs[0])[0] < 0.6

    def ours(key):
        pipeline, verify_, refused = runs[key]

        def decide(claimed, data):
            try:
                return verify_(refs[key][claimed], pipeline.encode_bytes(data)[1]).is_match
            except refused:
                return False
        return decide

    deciders = {**{k: ours(k) for k in runs}, "naive": naive}
    per_round = {k: {"wall": [], "cpu": []} for k in deciders}
    right = dict.fromkeys(deciders, 0)
    for r in range(rounds):
        wall, cpu = {k: [] for k in deciders}, {k: [] for k in deciders}
        order = list(deciders)
        for _ in range(repeats):
            for who, claimed, data in trials:
                order.reverse()  # A, B, … then …, B, A
                for k in order:
                    t, c = time.perf_counter(), time.thread_time()
                    decision = deciders[k](claimed, data)
                    cpu[k].append(time.thread_time() - c)
                    wall[k].append(time.perf_counter() - t)
                    right[k] += decision == (who == claimed)
        for k in deciders:
            per_round[k]["wall"].append(statistics.median(wall[k]) * 1000)
            per_round[k]["cpu"].append(statistics.median(cpu[k]) * 1000)
        print(f"  round {r + 1}: " + ", ".join(f"{k} {per_round[k]['wall'][-1]:.1f} ms ({per_round[k]['cpu'][-1]:.1f} cpu)"
                                               for k in deciders) + f"; {_machine()}")
    n = len(trials) * repeats * rounds
    names = {"retinaface": "pipeline (RetinaFace + mobilefacenet)", "hog": "pipeline (HOG + mobilefacenet)",
             "against": f"pipeline of {against} (RetinaFace)", "naive": "naive face_recognition"}
    print(f"speed: {len(frames)} frames 640x480, {n} verifications each, {rounds} round(s); per-round medians, "
          "median (range) over rounds")
    for k in deciders:
        print(f"  {names[k]:40s} wall {_spread(per_round[k]['wall'])} ms, cpu {_spread(per_round[k]['cpu'])} ms, "
              f"right decisions {right[k]}/{n}")
    for k in runs:
        for what in ("wall", "cpu"):
            ratios = [a / b for a, b in zip(per_round["naive"][what], per_round[k][what])]
            print(f"  ratio naive/{k} ({what}): {_spread(ratios)}x")
    if against is not None:
        for what in ("wall", "cpu"):
            ratios = [a / b for a, b in zip(per_round["against"][what], per_round["retinaface"][what])]
            print(f"  against/this ({what}): {statistics.median(ratios):.3f} (range {min(ratios):.3f}–{max(ratios):.3f})")


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


def _calib_encodings(faces: pathlib.Path, encoder: str, policy: QualityPolicy, detector: str = "retinaface"):
    pipeline = FacePipeline(encoder=encoder, policy=policy, detector=detector)
    people, vectors, refusals = [], [], Counter()
    for path in sorted((faces / "eastasian_calib").rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        try:
            vectors.append(pipeline.encode_bytes(path.read_bytes())[1].vector)
        except ImageRefused as exc:
            vectors.append(None)
            refusals[exc.reason] += 1
        people.append(path.parent.name)
    return np.array(people), vectors, refusals


def _matrix(vectors) -> tuple[np.ndarray, np.ndarray]:
    ok = np.array([v is not None for v in vectors])
    return ok, np.stack([v if v is not None else np.zeros(128, np.float32) for v in vectors])


def bench_calibrate(faces: pathlib.Path) -> None:
    """FAR/FRR of each encoder on eastasian_calib at its default threshold, and the threshold the
    documented bootstrap (recognition/calibration.py) picks, under the CLI's photo policy (what the
    acceptance test runs) and the strict check-in policy, with the default detector (RetinaFace);
    for mobilefacenet also with the HOG fallback, and templates aligned by HOG (made before
    RetinaFace) against probes aligned by RetinaFace."""
    runs = [("mobilefacenet", "retinaface", "cli-photo", PHOTO_POLICY), ("mobilefacenet", "retinaface", "check-in", QualityPolicy()),
            ("mobilefacenet", "hog", "cli-photo", PHOTO_POLICY), ("dlib", "retinaface", "cli-photo", PHOTO_POLICY)]
    photo = {}
    for encoder, detector, label, policy in runs:
        threshold = default_threshold(encoder, detector)
        people, vectors, refusals = _calib_encodings(faces, encoder, policy, detector)
        ok, m = _matrix(vectors)
        if label == "cli-photo":
            photo[(encoder, detector)] = (ok, m)
        d = distance_matrix(m, METRICS[encoder])
        r = pair_rates(people, d, ok, threshold)
        print(f"calib {encoder:13s} {detector:10s} {label:9s} threshold {threshold}: FAR {r.far * 100:.3f}% "
              f"({r.false_accepts}/{r.impostor_pairs})  FRR {r.frr * 100:.2f}% ({r.genuine_rejects}/{r.genuine_pairs}, "
              f"refusals counted; {r.genuine_refused} pairs refused, {(~ok).sum()}/{len(ok)} photos "
              f"{dict(refusals) or ''})  FRR without refusals {r.frr_encoded * 100:.2f}%")
        if label == "cli-photo":
            boot = bootstrap_threshold(people[ok], d[np.ix_(ok, ok)])
            chosen = round_down(boot)
            rb = pair_rates(people, d, ok, chosen)
            print(f"  bootstrap: 5th percentile of the per-resample 0.1% impostor quantile = {boot:.4f} -> "
                  f"{chosen} (default {threshold}{'' if chosen == threshold else ', DIFFERS'}): "
                  f"FAR {rb.far * 100:.3f}% FRR {rb.frr * 100:.2f}%")
    (ok_h, hog), (ok_r, ret) = photo[("mobilefacenet", "hog")], photo[("mobilefacenet", "retinaface")]
    # row i = a template aligned by HOG, column j = a probe aligned by RetinaFace (pairs i < j)
    cross = distance_matrix(np.concatenate([hog, ret]), "cosine")[: len(hog), len(hog):]
    r = pair_rates(people, cross, ok_h & ok_r, default_threshold("mobilefacenet"))
    print(f"calib mobilefacenet HOG-aligned templates vs RetinaFace-aligned probes, threshold {r.threshold}: "
          f"FAR {r.far * 100:.3f}% ({r.false_accepts}/{r.impostor_pairs})  FRR {r.frr * 100:.2f}% "
          f"({r.genuine_rejects}/{r.genuine_pairs})")


def _rates_line(label: str, people, d: np.ndarray, ok: np.ndarray, threshold: float) -> None:
    r = pair_rates(people, d, ok, threshold)
    print(f"{label}, threshold {threshold}: FAR {r.far * 100:.3f}% ({r.false_accepts}/{r.impostor_pairs})  "
          f"FRR {r.frr * 100:.2f}% ({r.genuine_rejects}/{r.genuine_pairs})")


def bench_detectors(faces: pathlib.Path) -> None:
    """HOG templates against RetinaFace probes (before templates recorded their detector) and
    against probes aligned by the template's own detector (now), on eastasian_calib, photo policy."""
    encoded = {}
    for detector in ("hog", "retinaface"):
        people, vectors, _refusals = _calib_encodings(faces, "mobilefacenet", PHOTO_POLICY, detector)
        encoded[detector] = _matrix(vectors)
    (ok_h, hog), (ok_r, ret) = encoded["hog"], encoded["retinaface"]
    both = ok_h & ok_r  # the same photos in every line
    # row i = a template, column j = a probe (pairs i < j)
    before = distance_matrix(np.concatenate([hog, ret]), "cosine")[: len(hog), len(hog):]
    _rates_line("detectors before: HOG templates vs RetinaFace probes", people, before, both,
                default_threshold("mobilefacenet", "retinaface"))
    same = distance_matrix(hog, "cosine")
    _rates_line("detectors now:    HOG templates vs HOG probes (same detector)", people, same, both,
                default_threshold("mobilefacenet", "hog"))
    # the cross-pipeline comparison at the false-accept count of the same-detector one
    iu = np.triu_indices(len(people), 1)
    impostor = (people[:, None] != people[None, :])[iu] & (both[:, None] & both[None, :])[iu]
    allowed = pair_rates(people, same, both, default_threshold("mobilefacenet", "hog")).false_accepts
    _rates_line("  before, at the same false accepts", people, before, both,
                float(np.sort(before[iu][impostor])[allowed]))
    _rates_line("reference:        RetinaFace templates vs RetinaFace probes", people,
                distance_matrix(ret, "cosine"), both, default_threshold("mobilefacenet", "retinaface"))


def _machine() -> str:
    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    return f"{os.cpu_count()} cores, load average {load:.1f}, BLAS threads {threads}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all", choices=("speed", "gallery", "calibrate", "detectors", "all"))
    parser.add_argument("--faces", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "faces")
    parser.add_argument("--repeats", type=int, default=1, help="passes over the speed trials per round")
    parser.add_argument("--rounds", type=int, default=1, help="speed: rounds, each with its own medians")
    parser.add_argument("--against", type=pathlib.Path, help="speed: another checkout whose pipeline runs in turn (A/B)")
    parser.add_argument("--sizes", default="100000,1000000", help="gallery sizes, comma-separated")
    parser.add_argument("--probes", type=int, default=50, help="probes per gallery size")
    args = parser.parse_args()
    if not (args.faces / "obama.jpg").is_file():
        parser.error(f"no face photos at {args.faces}")
    print("machine:", _machine())
    if args.what in ("speed", "all"):
        bench_speed(args.faces, args.repeats, args.rounds, args.against)
    if args.what in ("gallery", "all"):
        bench_gallery([int(s) for s in args.sizes.split(",")], args.probes)
    if args.what in ("calibrate", "all"):
        bench_calibrate(args.faces)
    if args.what in ("detectors", "all"):
        bench_detectors(args.faces)


if __name__ == "__main__":
    main()
