"""Reads behind the home pages: what each role has to do now, as counts and short lists."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import LOCAL_TZ, local_today
from app.models import (ClaimStatus, ClassSession, ClassStatus, Decision, Enrolment, FaceVerification,
                        PresenceInterval, SubsidyClaim, TrainingClass)


def classes_by_status(session: Session, institution_id=None) -> dict[ClassStatus, int]:
    """How many classes are in each state (of one institution, or all)."""
    query = select(TrainingClass.status, func.count()).group_by(TrainingClass.status)
    if institution_id is not None:
        query = query.where(TrainingClass.institution_id == institution_id)
    return dict(session.execute(query).all())


def claims_by_status(session: Session) -> dict[ClaimStatus, int]:
    """How many claims (every version) are in each state of the bureau's workflow."""
    return dict(session.execute(select(SubsidyClaim.status, func.count()).group_by(SubsidyClaim.status)).all())


def _today_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(local_today(now), time(0), LOCAL_TZ)
    return start, start + timedelta(days=1)


def sessions_today(session: Session, now: datetime, institution_id=None) -> list[dict]:
    """Today's sessions (Beijing day) of running or approved classes: the session, its class,
    how many of the roster are present now, how many checked in today, and the roster size."""
    start, end = _today_bounds(now)
    query = (select(ClassSession, TrainingClass).join(TrainingClass, TrainingClass.id == ClassSession.class_id)
             .where(ClassSession.starts_at >= start, ClassSession.starts_at < end,
                    TrainingClass.status.in_((ClassStatus.RUNNING, ClassStatus.APPROVED)))
             .order_by(ClassSession.starts_at))
    if institution_id is not None:
        query = query.where(TrainingClass.institution_id == institution_id)
    rows = []
    for cs, klass in session.execute(query).all():
        intervals = session.scalars(select(PresenceInterval).where(PresenceInterval.session_id == cs.id)).all()
        roster = session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.class_id == klass.id))
        rows.append({"session": cs, "class": klass, "roster": roster,
                     "present": sum(1 for i in intervals if i.closed_at is None),
                     "checked_in": len({i.trainee_id for i in intervals}),
                     "now": cs.starts_at <= now <= cs.ends_at})
    return rows


def failed_checks_today(session: Session, now: datetime, institution_id=None) -> int:
    """Refused face checks today (Beijing day), of one institution's classes or all."""
    start, end = _today_bounds(now)
    query = (select(func.count()).select_from(FaceVerification)
             .where(FaceVerification.decision == Decision.REFUSED, FaceVerification.at >= start,
                    FaceVerification.at < end))
    if institution_id is not None:
        query = query.join(TrainingClass, TrainingClass.id == FaceVerification.class_id).where(
            TrainingClass.institution_id == institution_id)
    return session.scalar(query) or 0


def next_sessions(session: Session, trainee_id, now: datetime, limit: int = 3) -> list[tuple[ClassSession, TrainingClass]]:
    """A trainee's coming (or running) sessions, soonest first."""
    return session.execute(
        select(ClassSession, TrainingClass).join(TrainingClass, TrainingClass.id == ClassSession.class_id)
        .join(Enrolment, Enrolment.class_id == TrainingClass.id)
        .where(Enrolment.trainee_id == trainee_id, ClassSession.ends_at >= now,
               TrainingClass.status.in_((ClassStatus.RUNNING, ClassStatus.APPROVED)))
        .order_by(ClassSession.starts_at).limit(limit)).all()
