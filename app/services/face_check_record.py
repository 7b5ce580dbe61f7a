"""The record of one face check, shared by check-ins (`attendance`) and online study (`study`).

One check, accepted or refused, is one `FaceVerification` row with its xAPI statement and audit
entry written in the caller's transaction (`record_verification`); the caller gets an `Attempt`.
Personal refusals that count (`refusals.LOCKING`) and abandoned paced challenges lock the trainee's
self check-in after ``CHECK_IN_LOCK_FAILURES`` within ``CHECK_IN_LOCK_WINDOW_MINUTES``
(`maybe_lock`); an instructor lifts the lock (`attendance.unlock_trainee`).

This module imports neither `attendance` nor `study`, which both build on it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (CheckInChallenge, CheckInLock, ClassSession, Decision, Enrolment, FaceVerification, Kiosk,
                        Purpose, User, VerificationMode)
from app.services import face_checks, xapi_records
from app.services.audit import append_audit
from app.services.face_checks import FaceEvidence
from app.services.refusals import is_locking, refusal_message


@dataclass(frozen=True)
class Attempt:
    """The outcome of a check: accepted or refused (``reason`` a `refusals.Refusal` code)."""

    accepted: bool
    reason: str
    message: str
    purpose: str
    verification_id: uuid.UUID | None
    interval_id: uuid.UUID | None = None
    minutes_credited: int | None = None
    trainee_id: uuid.UUID | None = None
    distance: float | None = None


def refused(reason: str, purpose: Purpose, verification: FaceVerification, trainee_id,
            face: FaceEvidence) -> Attempt:
    """The `Attempt` of a recorded refusal, with the reason in words."""
    return Attempt(False, reason, refusal_message(reason), purpose.value, verification.id,
                   trainee_id=trainee_id, distance=face.distance)


def active_lock(session: Session, trainee_id) -> CheckInLock | None:
    """The trainee's lock-out not yet lifted, if any."""
    return session.scalar(select(CheckInLock).where(CheckInLock.trainee_id == trainee_id,
                                                    CheckInLock.unlocked_at.is_(None)))


def is_locked_out(trainee_id) -> bool:
    """Whether the trainee's self check-in is locked (read in the request's session)."""
    return active_lock(db.session, trainee_id) is not None


def window_start(session: Session, trainee_id, now: datetime, minutes: int) -> datetime:
    """Where a lock-out's count of failures begins: ``minutes`` before ``now``, or the trainee's
    last unlock when that is later (an unlock starts the count again)."""
    since = now - timedelta(minutes=minutes)
    last_unlock = session.scalar(select(func.max(CheckInLock.unlocked_at)).where(CheckInLock.trainee_id == trainee_id))
    return last_unlock if last_unlock is not None and last_unlock > since else since


def maybe_lock(session: Session, trainee_id, now: datetime) -> None:
    """Lock the trainee's self check-in when the counting failures since the window began (or the
    last unlock) reach the limit; audited. The caller holds the trainee's lock (`trainee_lock.lock_trainee`)."""
    cfg = current_app.config
    since = window_start(session, trainee_id, now, cfg["CHECK_IN_LOCK_WINDOW_MINUTES"])
    reasons = session.scalars(select(FaceVerification.reason).where(
        FaceVerification.trainee_id == trainee_id, FaceVerification.mode == VerificationMode.PERSONAL,
        FaceVerification.decision == Decision.REFUSED, FaceVerification.at > since)).all()
    failures = (sum(1 for r in reasons if is_locking(r))
                + face_checks.abandoned_since(session, trainee_id, since, now))
    if failures >= cfg["CHECK_IN_LOCK_FAILURES"] and active_lock(session, trainee_id) is None:
        lock = CheckInLock(trainee_id=trainee_id, locked_at=now, failures=failures)
        session.add(lock)
        session.flush()
        append_audit(session, None, "attendance.locked_out", lock, {"trainee_id": str(trainee_id),
                                                                    "failures": failures})


def record_verification(session: Session, *, now, purpose: Purpose, mode: VerificationMode, face: FaceEvidence,
                        reason: str, trainee_id, enrolment: Enrolment | None, cs: ClassSession | None,
                        kiosk: Kiosk | None, challenge: CheckInChallenge | None, actor: User | None,
                        device: str) -> FaceVerification:
    """Store one face check (accepted when ``reason`` is empty) with its xAPI statement
    (``verified`` or ``refused``) and its audit entry, in the caller's transaction."""
    accepted, reason = not reason, str(reason or "")
    verification = FaceVerification(
        at=now, trainee_id=trainee_id, enrolment_id=enrolment.id if enrolment else None,
        class_id=enrolment.class_id if enrolment else None, session_id=cs.id if cs else None,
        kiosk_id=kiosk.id if kiosk else None, challenge_id=challenge.id if challenge else None,
        actor_id=actor.id if actor else None, purpose=purpose, mode=mode,
        decision=Decision.ACCEPTED if accepted else Decision.REFUSED, reason=reason,
        distance=face.distance, threshold=face.threshold, liveness_passed=face.liveness_passed,
        liveness_reason=face.liveness_reason, device=(device or "")[:200],
        risk_score=face.risk_score if accepted else None, risk_reasons=face.risk_reasons if accepted else None)
    agent = (xapi_records.trainee_agent(trainee_id) if trainee_id is not None
             else xapi_records.kiosk_agent(kiosk.id))
    verification.statement_id = xapi_records.record(
        session, "verified" if accepted else "refused", agent, at=now,
        enrolment_id=enrolment.id if enrolment else None, class_id=enrolment.class_id if enrolment else None,
        session_id=cs.id if cs else None,
        extensions={"face-distance": face.distance, "match-threshold": face.threshold,
                    "liveness": {"passed": face.liveness_passed, "reason": face.liveness_reason},
                    "device": device or "", "mode": mode.value, "purpose": purpose.value,
                    "reason": reason or None},
        result={"success": accepted})
    session.add(verification)
    session.flush()
    append_audit(session, actor, "attendance.verified" if accepted else "attendance.refused", verification, {
        "trainee_id": str(trainee_id) if trainee_id else None, "purpose": purpose.value, "mode": mode.value,
        "reason": reason, "distance": face.distance, "liveness": face.liveness_reason,
        "session_id": str(cs.id) if cs else None, "kiosk_id": str(kiosk.id) if kiosk else None,
        "device": device or "", "risk": verification.risk_score, "risk_reasons": verification.risk_reasons})
    return verification


__all__ = ["Attempt", "active_lock", "is_locked_out", "maybe_lock", "record_verification", "refused", "window_start"]
