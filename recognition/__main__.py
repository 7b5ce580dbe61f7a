"""Command line: ``python -m recognition verify --pairs PAIRS.csv [--encoder NAME]``.

Each CSV row is ``probe_path,reference_path`` (a header row ``probe,reference`` is skipped); one
JSON object is printed per row: ``probe``, ``reference``, ``decision`` (``match``, ``no_match`` or
``refused``), ``score`` (the encoder's distance, lower is more alike; ``null`` when refused),
``threshold`` and ``reason`` (the refusal code, prefixed ``probe:`` or ``reference:``). Models
load once; each reference image is encoded once however many rows name it.

Photos are handled with ``PHOTO_POLICY`` by default: ``--several-faces central`` (in photo
collections such as LFW the person meant is the face nearest the centre and bystanders are
common) and no pose gate (a photo is what it is: a refused pair counts as a rejection, while a
turned face encoded anyway is still often recognised; on eastasian_calib the pose gate refused 2
of 306 photos and lifting it changed no false accept). Size, brightness and blur gates stay.
Check-ins use the strict library default (``refuse``, pose gate on); ``--checkin-policy`` applies
it here, ``--several-faces refuse`` only its several-faces rule.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace

from .compare import default_threshold, verify
from .encode import DEFAULT_ENCODER, ENCODERS
from .errors import ImageRefused, ModelNotAvailableError
from .pipeline import FacePipeline
from .quality import QualityPolicy

# Photos, not check-in frames: central face, pose gate lifted (as for liveness turns)
PHOTO_POLICY = QualityPolicy(several_faces="central", max_yaw=1.5, max_pitch=1.5)


def _encode(pipeline: FacePipeline, path: str, cache: dict):
    if path not in cache:
        try:
            with open(path, "rb") as f:
                data = f.read(pipeline.limits.max_bytes + 1)
            cache[path] = pipeline.encode_bytes(data)[1]
        except ImageRefused as exc:
            cache[path] = exc.reason
        except OSError:
            cache[path] = "unreadable_file"
    return cache[path]


def verify_pairs(args: argparse.Namespace) -> int:
    policy = QualityPolicy() if args.checkin_policy else replace(PHOTO_POLICY, several_faces=args.several_faces)
    pipeline = FacePipeline(encoder=args.encoder, cache_dir=args.cache_dir, policy=policy)
    try:
        pipeline.get_encoder()
    except ModelNotAvailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # the detector actually loaded: RetinaFace, or HOG when its weights are missing
    detector = pipeline.get_detector().name
    threshold = args.threshold if args.threshold is not None else default_threshold(args.encoder, detector)
    cache: dict = {}
    with open(args.pairs, newline="", encoding="utf-8") as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            if not row or (lineno == 1 and [c.strip().lower() for c in row[:2]] == ["probe", "reference"]):
                continue
            if len(row) < 2:
                print(f"error: line {lineno}: expected probe_path,reference_path", file=sys.stderr)
                return 2
            probe, reference = row[0].strip(), row[1].strip()
            out = {"probe": probe, "reference": reference, "decision": "refused", "score": None, "threshold": threshold, "reason": ""}
            p, r = _encode(pipeline, probe, cache), _encode(pipeline, reference, cache)
            if isinstance(p, str):
                out["reason"] = f"probe:{p}"
            elif isinstance(r, str):
                out["reason"] = f"reference:{r}"
            else:
                match = verify(r, p, threshold)
                out.update(decision=match.decision, score=round(match.distance, 6))
            print(json.dumps(out), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recognition", description="SkillTrace face pipeline")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="verify pairs of face photos listed in a CSV file")
    v.add_argument("--pairs", required=True, help="CSV of probe_path,reference_path rows")
    v.add_argument("--encoder", default=DEFAULT_ENCODER, choices=ENCODERS)
    v.add_argument("--threshold", type=float, default=None, help="distance threshold (default: calibrated)")
    v.add_argument("--cache-dir", default=None, help="where the MobileFaceNet ONNX file is generated")
    v.add_argument("--several-faces", default="central", choices=("central", "refuse"))
    v.add_argument("--checkin-policy", action="store_true", help="apply the strict check-in quality policy")
    args = parser.parse_args(argv)
    return verify_pairs(args)


if __name__ == "__main__":
    sys.exit(main())
