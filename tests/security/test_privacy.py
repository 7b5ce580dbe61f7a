"""Face data privacy: the database (read with raw SQL, every table and column) holds no face
vector and no image in the clear; withdrawal deletes templates and kept images and the audit chain
still verifies; no raw image is written to disk unless retention is configured, and then it is
sealed and purged by the scheduler after the retention period."""
from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, select, text

from app.extensions import db
from app.jobs.registry import RECURRING_JOBS
from app.models import AuditEntry, FaceTemplate, Role
from app.services import attendance, face_images
from app.services.audit import verify_chain
from app.services.consent import withdraw_consent
from tests.attendance_helpers import answer_paced, paced_check, running_class, trainee_with_face
from tests.factories import make_user

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")
# Inside larger bytes, a 3-byte magic turns up in ciphertext by chance: look for whole headers.
EMBEDDED_IMAGE = re.compile(rb"\xff\xd8\xff[\xc0-\xfe]..(?:JFIF|Exif)|\x89PNG\r\n\x1a\n|RIFF....WEBP", re.S)
BASE64_MAGIC = ("/9j/", "iVBORw0KGgo", "UklGR")


def _has_image(raw: bytes) -> bool:
    return raw.startswith(IMAGE_MAGIC) or EMBEDDED_IMAGE.search(raw) is not None


def _float_vector(value) -> bool:
    """A list of 64+ numbers (JSON or an SQL array), or bytes that read as 64+ sane float32s."""
    if isinstance(value, list):
        return len(value) >= 64 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    if isinstance(value, (bytes, memoryview)):
        raw = bytes(value)
        for start in range(0, min(len(raw), 64) - 3, 1):
            usable = (len(raw) - start) // 4 * 4
            if usable >= 256:
                floats = np.frombuffer(raw[start:start + usable], dtype="<f4")
                if np.all(np.isfinite(floats)) and np.all(np.abs(floats) < 100):
                    return True
    return False


def _problems(value, where: str) -> list[str]:
    if isinstance(value, (bytes, memoryview)):
        raw = bytes(value)
        found = [f"{where}: image bytes"] if _has_image(raw) else []
        return found + ([f"{where}: float vector"] if _float_vector(raw) else [])
    if isinstance(value, str):
        found = [f"{where}: base64 image" for m in BASE64_MAGIC if m in value]
        try:
            return found + _problems(json.loads(value), where) if value[:1] in "[{" else found
        except ValueError:
            return found
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _problems(v, f"{where}.{k}")]
    if isinstance(value, list):
        own = [f"{where}: float vector"] if _float_vector(value) else []
        return own + [p for i, v in enumerate(value) for p in _problems(v, f"{where}[{i}]")]
    return []


def scan_database() -> tuple[int, list[str]]:
    """Raw SQL over every table of the database; returns (values read, problems)."""
    problems, values = [], 0
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in row.items():
                    values += 1
                    problems += _problems(value, f"{table}.{column}")
    return values, problems


def scan_files(root: Path) -> list[str]:
    """Files under ``root`` holding an image (the generated face model excluded)."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and "models" not in path.parts:
            if _has_image(path.read_bytes()):
                found.append(str(path))
    return found


@pytest.fixture
def world(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR, username="teacher")
    user, trainee = trainee_with_face(admin, "privacy")
    running_class(admin, instructor, [trainee])
    return {"admin": admin, "user": user, "trainee": trainee}


def _check(user, purpose: str):
    attempt = paced_check(user, purpose, mirrored=purpose == "check_out", device="test")
    assert attempt.accepted, attempt.reason
    return attempt


def test_database_holds_no_face_vector_or_image(app, world):
    app.config["FACE_IMAGE_RETENTION_DAYS"] = 30
    _check(world["user"], "check_in")
    _check(world["user"], "check_out")
    assert db.session.query(FaceTemplate).count() == 1
    values, problems = scan_database()
    assert values > 200 and problems == []


def test_the_scan_finds_vectors_and_images_in_the_clear(app):
    vector = np.random.default_rng(1).normal(size=512).astype("<f4")
    jpeg = (Path(__file__).resolve().parents[2].parent / "shared/faces/obama_small.jpg").read_bytes()
    assert _problems(vector.tobytes(), "t.c") and _problems(json.dumps(vector.tolist()), "t.c")
    assert _problems(jpeg, "t.c") and _problems(base64.b64encode(jpeg).decode(), "t.c")
    assert _problems({"frames": [base64.b64encode(jpeg).decode()]}, "t.c")


def test_no_face_image_is_written_to_disk_by_default(app, world):
    assert app.config["FACE_IMAGE_RETENTION_DAYS"] == 0
    _check(world["user"], "check_in")
    assert scan_files(Path(app.instance_path)) == []
    assert not face_images.image_dir().exists()
    if db.engine.url.get_backend_name() == "sqlite":
        assert scan_files(Path(db.engine.url.database).parent) == []


def test_kept_images_are_sealed_and_purged_after_the_retention_period(app, world):
    app.config["FACE_IMAGE_RETENTION_DAYS"] = 30
    attempt = _check(world["user"], "check_in")
    kept = sorted(face_images.image_dir().glob("*/*.img"))
    n = len(kept)  # the most frontal frames and each prompted action's last frame, at most 4
    assert 1 <= n <= 4 and scan_files(Path(app.instance_path)) == []
    assert all(p.stat().st_mode & 0o077 == 0 for p in kept)
    assert str(attempt.verification_id) in kept[0].name
    assert face_images.unseal(kept[0].read_bytes(), kept[0].name)[:3] == b"\xff\xd8\xff"
    assert face_images.purge_expired(now=time.time() + 29 * 86400) == 0
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "face_images.purged")) is None
    assert face_images.purge_expired(now=time.time() + 31 * 86400) == n
    assert list(face_images.image_dir().iterdir()) == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "face_images.purged"))
    assert entry.actor == "system"
    assert entry.payload == {"files": n, "retention_days": 30, "by_trainee": {str(world["trainee"].id): n}}
    assert verify_chain(db.session) == []


def test_the_scheduler_purges_kept_images(app, world):
    app.config["FACE_IMAGE_RETENTION_DAYS"] = 30
    _check(world["user"], "check_in")
    n = len(list(face_images.image_dir().glob("*/*.img")))
    app.config["FACE_IMAGE_RETENTION_DAYS"] = 0  # retention switched off: everything kept goes
    assert RECURRING_JOBS["purge_face_images"].func() == f"{n} kept face images purged, 0 challenge buffers cleared"
    assert not list(face_images.image_dir().glob("*/*.img"))


def test_withdrawal_deletes_templates_and_kept_images_and_the_chain_verifies(app, world):
    app.config["FACE_IMAGE_RETENTION_DAYS"] = 30
    _check(world["user"], "check_in")
    assert withdraw_consent(world["admin"], world["trainee"].id, "撤回书 2026-001") == 1
    assert db.session.query(FaceTemplate).filter_by(trainee_id=world["trainee"].id).count() == 0
    assert not list(face_images.image_dir().glob("*/*.img"))
    assert verify_chain(db.session) == []
    assert scan_database()[1] == []


def test_roll_call_frames_are_kept_like_check_in_frames(app, faces_dir):
    from app.services import study
    admin = make_user(Role.ADMIN)
    user, trainee = trainee_with_face(admin, "online")
    running_class(admin, make_user(Role.INSTRUCTOR, username="teacher"), [trainee], online=True)
    app.config["FACE_IMAGE_RETENTION_DAYS"] = 30
    assert attendance.check_personal(user, "check_in", answer_paced(user), [], "test", online=True).accepted
    attempt = study.answer_roll_call(user, answer_paced(user, "roll_call", mirrored=True), "test")
    kept = list(face_images.image_dir().glob(f"*/*-{attempt.verification_id}-*.img"))
    # as at check-in: the most frontal frames and each prompted action's last frame, at most 4
    assert attempt.accepted and 1 <= len(kept) <= 4
