"""Replay memory: perceptual fingerprints (``recognition.paced.fingerprint``) of every accepted
check frame and every enrolment frame, sealed (AES-GCM under a key derived from the template key,
as kept face images are), so that a frame seen before — replayed byte for byte or re-encoded — is
refused as ``replayed``. Deleted with the templates on consent withdrawal, and by the scheduler
once older than ``FACE_FINGERPRINT_RETENTION_DAYS`` (`purge_expired`, audited with counts).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from recognition.paced import REPLAY_DISTANCE, fingerprint_distance
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import FaceFingerprint
from app.models.base import utcnow
from app.services._tx import transaction
from app.services.audit import append_audit
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



def purge_expired(now: datetime | None = None) -> int:
    """Delete fingerprints older than ``FACE_FINGERPRINT_RETENTION_DAYS`` and record in the audit
    log how many went, by source (PIPL art. 47: deletion is traceable); returns how many."""
    days = current_app.config["FACE_FINGERPRINT_RETENTION_DAYS"]
    cutoff = (now or utcnow()) - timedelta(days=days)
    expired = FaceFingerprint.created_at < cutoff
    with transaction() as session:
        by_source = dict(session.execute(select(FaceFingerprint.source, func.count())
                                         .where(expired).group_by(FaceFingerprint.source)).all())
        if not by_source:
            return 0
        deleted = session.execute(delete(FaceFingerprint).where(expired)).rowcount
        append_audit(session, None, "face_fingerprints.purged", SimpleNamespace(id=uuid.uuid4()), {
            "fingerprints": deleted, "by_source": by_source, "retention_days": days,
            "cutoff": cutoff.isoformat()}, object_type="face_fingerprints")
    return deleted
