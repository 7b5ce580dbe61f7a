"""Replay memory: perceptual fingerprints (``recognition.paced.fingerprint``) of every accepted
check frame and every enrolment frame, sealed (AES-GCM under a key derived from the template key,
as kept face images are), so that a frame seen before — replayed byte for byte or re-encoded — is
refused as ``replayed``. Kept while consent lasts and deleted with the templates on its withdrawal
(no shorter retention purge yet).
"""
from __future__ import annotations

from collections.abc import Iterable
from flask import current_app
from recognition.paced import REPLAY_DISTANCE, fingerprint_distance
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import FaceFingerprint
from app.services.face_images import seal, unseal


def _name(trainee_id) -> str:
    return f"fingerprint:{trainee_id}"


def relaxed() -> bool:
    """Whether the test policy turned the replay memory off (``LIVENESS_RELAX`` holds ``replay``)."""
    return "replay" in current_app.config.get("LIVENESS_RELAX", ())


def store(session: Session, trainee_id, prints: Iterable[bytes], source: str) -> int:
    """Keep ``prints`` of the trainee (``source``: ``enrolment`` or ``check``); returns how many."""
    count = 0
    for fp in prints:
        session.add(FaceFingerprint(trainee_id=trainee_id, source=source, sealed=seal(fp, _name(trainee_id))))
        count += 1
    return count


def nearest(session: Session, trainee_id, prints: Iterable[bytes]) -> int | None:
    """The smallest bit distance between ``prints`` and the trainee's stored fingerprints."""
    stored = [unseal(row, _name(trainee_id)) for row in
              session.scalars(select(FaceFingerprint.sealed).where(FaceFingerprint.trainee_id == trainee_id))]
    distances = [fingerprint_distance(a, b) for a in prints for b in stored]
    return min(distances) if distances else None


def is_replayed(session: Session, trainee_id, prints: list[bytes]) -> tuple[bool, int | None]:
    """Whether ``prints`` come within ``REPLAY_DISTANCE`` of the trainee's stored fingerprints,
    and the nearest distance (None: nothing to compare; a near miss is a risk signal)."""
    if trainee_id is None:
        return False, None
    distance = nearest(session, trainee_id, prints)
    return (not relaxed() and distance is not None and distance <= REPLAY_DISTANCE), distance


def forget(session: Session, trainee_id) -> int:
    """Delete the trainee's fingerprints (consent withdrawn); returns how many."""
    return session.execute(delete(FaceFingerprint).where(FaceFingerprint.trainee_id == trainee_id)).rowcount

