"""Reads behind the attendance pages: a class's grid, session logs, exceptions, ledgers."""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from app.clock import LOCAL_TZ
from app.models import (CheckInLock, ClassSession, ClassStatus, Decision, Enrolment, FaceVerification, HoursEntry,
                        PresenceInterval, Trainee, TrainingClass, VerificationMode)


def list_class_enrolments(session: Session, class_id) -> list[tuple[Enrolment, Trainee]]:
    """The roster of a class with each trainee, by name."""
    return session.execute(select(Enrolment, Trainee).join(Trainee, Trainee.id == Enrolment.trainee_id)
                           .where(Enrolment.class_id == class_id).order_by(Trainee.name)).all()


def get_minutes_grid(session: Session, class_id) -> dict[tuple[uuid.UUID, uuid.UUID], dict]:
    """``(enrolment id, session id)`` → ``{"minutes", "open", "mode"}`` from intervals and credits."""
    grid: dict = defaultdict(lambda: {"minutes": 0, "open": False, "modes": set()})
    rows = session.execute(
        select(PresenceInterval, HoursEntry.minutes)
        .join(Enrolment, Enrolment.id == PresenceInterval.enrolment_id)
        .outerjoin(HoursEntry, HoursEntry.interval_id == PresenceInterval.id)
        .where(Enrolment.class_id == class_id)).all()
    for interval, minutes in rows:
        cell = grid[(interval.enrolment_id, interval.session_id)]
        cell["minutes"] += minutes or 0
        cell["open"] = cell["open"] or interval.closed_at is None
        cell["modes"].add(interval.mode.value)
    return dict(grid)


def list_session_log(session: Session, session_id) -> list[tuple[FaceVerification, Trainee | None]]:
    """Every verification of a session, oldest first."""
    return session.execute(select(FaceVerification, Trainee).outerjoin(Trainee, Trainee.id == FaceVerification.trainee_id)
                           .where(FaceVerification.session_id == session_id).order_by(FaceVerification.at)).all()


def list_class_exceptions(session: Session, class_id, trainee_ids) -> list[tuple[FaceVerification, Trainee | None]]:
    """Failed and alternative verifications of the class's trainees (including those refused
    before a session was known), newest first."""
    return session.execute(
        select(FaceVerification, Trainee).outerjoin(Trainee, Trainee.id == FaceVerification.trainee_id)
        .where(or_(FaceVerification.class_id == class_id,
                   (FaceVerification.class_id.is_(None)) & FaceVerification.trainee_id.in_(trainee_ids)))
        .where(or_(FaceVerification.decision == Decision.REFUSED,
                   FaceVerification.mode == VerificationMode.ALTERNATIVE))
        .order_by(FaceVerification.at.desc()).limit(200)).all()


def list_class_ledger(session: Session, class_id) -> list[tuple[HoursEntry, Trainee]]:
    """The ledger lines of a class's enrolments, oldest first."""
    return session.execute(select(HoursEntry, Trainee).join(Enrolment, Enrolment.id == HoursEntry.enrolment_id)
                           .join(Trainee, Trainee.id == Enrolment.trainee_id)
                           .where(Enrolment.class_id == class_id).order_by(HoursEntry.at)).all()


def list_active_locks(session: Session, trainee_ids) -> dict[uuid.UUID, CheckInLock]:
    """Trainees among ``trainee_ids`` locked out of self check-in now."""
    return {lock.trainee_id: lock for lock in session.scalars(
        select(CheckInLock).where(CheckInLock.trainee_id.in_(trainee_ids), CheckInLock.unlocked_at.is_(None)))}


REMIND_BEFORE_END = timedelta(minutes=30)


def list_not_checked_out(session: Session, now: datetime, class_id=None,
                         trainee_id=None) -> list[tuple[Trainee, ClassSession]]:
    """Open presence (on site) in sessions that end within `REMIND_BEFORE_END` of ``now`` or
    have ended: who still has to check out, of a class or of one trainee, by session end."""
    query = (select(Trainee, ClassSession).join(PresenceInterval, PresenceInterval.trainee_id == Trainee.id)
             .join(ClassSession, ClassSession.id == PresenceInterval.session_id)
             .where(PresenceInterval.closed_at.is_(None), ClassSession.online.is_(False),
                    ClassSession.ends_at <= now + REMIND_BEFORE_END)
             .order_by(ClassSession.ends_at, Trainee.name))
    if class_id is not None:
        query = query.where(ClassSession.class_id == class_id)
    if trainee_id is not None:
        query = query.where(Trainee.id == trainee_id)
    return session.execute(query).all()


def list_missed_check_outs(session: Session, class_id) -> list[tuple[PresenceInterval, Trainee]]:
    """Presence of a class closed by the system for want of a check-out and not yet corrected."""
    correction = aliased(PresenceInterval)
    return session.execute(
        select(PresenceInterval, Trainee).join(Trainee, Trainee.id == PresenceInterval.trainee_id)
        .join(ClassSession, ClassSession.id == PresenceInterval.session_id)
        .outerjoin(correction, correction.corrects_interval_id == PresenceInterval.id)
        .where(ClassSession.class_id == class_id, PresenceInterval.close_reason == "no_check_out",
               correction.id.is_(None))
        .order_by(PresenceInterval.opened_at)).all()


def list_my_past_sessions(session: Session, user_id, days: int = 14) -> list[tuple[Enrolment, ClassSession]]:
    """The sessions of the user's enrolments that began in the last ``days`` days, newest first
    (what an appeal may name)."""
    now = datetime.now(timezone.utc)
    return session.execute(
        select(Enrolment, ClassSession).join(ClassSession, ClassSession.class_id == Enrolment.class_id)
        .join(Trainee, Trainee.id == Enrolment.trainee_id)
        .where(Trainee.user_id == user_id, ClassSession.starts_at <= now,
               ClassSession.starts_at >= now - timedelta(days=days))
        .order_by(ClassSession.starts_at.desc())).all()


def list_trainee_sessions_on(session: Session, trainee_id, day) -> list[tuple[TrainingClass, ClassSession]]:
    """The sessions on Beijing calendar ``day`` of the classes the trainee is enrolled in
    (withdrawn and rejected applications left out), by start."""
    start = datetime.combine(day, time(0), LOCAL_TZ)
    return session.execute(
        select(TrainingClass, ClassSession).join(ClassSession, ClassSession.class_id == TrainingClass.id)
        .join(Enrolment, Enrolment.class_id == TrainingClass.id)
        .where(Enrolment.trainee_id == trainee_id, ClassSession.starts_at < start + timedelta(days=1),
               ClassSession.ends_at > start,
               TrainingClass.status.not_in((ClassStatus.WITHDRAWN, ClassStatus.REJECTED)))
        .order_by(ClassSession.starts_at)).all()
