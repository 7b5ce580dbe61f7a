"""Kiosk lock-outs: failed identifications at kiosks that NAME the same trainee (the 1:N search
found them as the best candidate, but the check was refused: liveness failed, the margin to the
second best was too small, the frames were replayed …) lock that trainee's kiosk check-ins after
``KIOSK_LOCK_FAILURES`` within ``KIOSK_LOCK_WINDOW_MINUTES`` (counted since the last unlock),
until an instructor looks and unlocks (the same unlock as self check-in lock-outs,
``attendance.unlock_trainee``, which lifts the trainee's one active lock).

A trainee has at most one active ``CheckInLock``: scope ``personal`` locks self check-in only;
scope ``kiosk`` locks self check-in and kiosk check-ins. A personal lock that is active when the
kiosk failures reach the limit is widened to ``kiosk``.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CheckInLock, Decision, FaceVerification, VerificationMode
from app.services.audit import append_audit
from app.services.face_check_record import active_lock, window_start
from app.services.refusals import LOCKING, Refusal
from app.services.trainee_lock import lock_trainee

KIOSK = "kiosk"
#: Kiosk refusals that count when they name a trainee: those that count toward a self check-in
#: lock-out, and "face_unknown" (here: the best candidate was too close to the second best).
COUNTED = LOCKING | {Refusal.FACE_UNKNOWN}


def is_locked(session: Session, trainee_id) -> bool:
    """Whether the trainee's kiosk check-ins are locked."""
    lock = active_lock(session, trainee_id) if trainee_id is not None else None
    return lock is not None and lock.scope == KIOSK


def _failures(session: Session, trainee_id, now: datetime) -> int:
    since = window_start(session, trainee_id, now, current_app.config["KIOSK_LOCK_WINDOW_MINUTES"])
    reasons = session.scalars(select(FaceVerification.reason).where(
        FaceVerification.candidate_id == trainee_id, FaceVerification.mode == VerificationMode.KIOSK,
        FaceVerification.decision == Decision.REFUSED, FaceVerification.at > since)).all()
    return sum(1 for r in reasons if r.split(":")[0] in COUNTED)


def note_refusal(session: Session, verification_id: uuid.UUID, candidate_id: uuid.UUID | None,
                 now: datetime) -> CheckInLock | None:
    """Record whom a refused kiosk check named and lock their kiosk check-ins when the failures
    reach the limit (audited); the lock, when one was made or widened now."""
    if candidate_id is None:
        return None
    lock_trainee(session, candidate_id)  # one active lock per trainee, with the personal lock-outs
    session.get(FaceVerification, verification_id).candidate_id = candidate_id
    session.flush()
    failures = _failures(session, candidate_id, now)
    if failures < current_app.config["KIOSK_LOCK_FAILURES"]:
        return None
    lock = active_lock(session, candidate_id)
    if lock is not None and lock.scope == KIOSK:
        return None
    if lock is None:
        lock = CheckInLock(trainee_id=candidate_id, locked_at=now, failures=failures, scope=KIOSK)
        session.add(lock)
        session.flush()
    else:
        lock.scope = KIOSK
    append_audit(session, None, "attendance.kiosk_locked", lock, {"trainee_id": str(candidate_id),
                                                                  "failures": failures})
    return lock
