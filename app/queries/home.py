"""Reads behind the home pages: what each role has to do now, as counts and short lists."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import LOCAL_TZ, local_today
from app.models import (AlternativeVerification, Appeal, AppealStatus, AuditEntry, ClaimStatus, ClassSession,
                        ClassStatus, Decision, Enrolment, Exemption, FaceVerification, HeldHours, HeldStatus,
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


def waiting_decisions(session: Session, institution_id=None, trainee_id=None) -> list[dict]:
    """Classes (of one institution, or all) with held minutes or appeals waiting for an
    instructor's decision — of one trainee's enrolments when ``trainee_id`` is given:
    ``{"class", "held", "appeals"}`` by class code."""
    held = (select(HeldHours.class_id, func.count()).join(Enrolment, Enrolment.id == HeldHours.enrolment_id)
            .where(HeldHours.status == HeldStatus.PENDING).group_by(HeldHours.class_id))
    appeals = select(Appeal.class_id, func.count()).where(Appeal.status == AppealStatus.PENDING).group_by(Appeal.class_id)
    if trainee_id is not None:
        held, appeals = held.where(Enrolment.trainee_id == trainee_id), appeals.where(Appeal.trainee_id == trainee_id)
    counts: dict = {}
    for key, query in (("held", held), ("appeals", appeals)):
        for class_id, n in session.execute(query):
            counts.setdefault(class_id, {"held": 0, "appeals": 0})[key] = n
    classes = select(TrainingClass).where(TrainingClass.id.in_(counts)).order_by(TrainingClass.code)
    if institution_id is not None:
        classes = classes.where(TrainingClass.institution_id == institution_id)
    return [{"class": klass, **counts[klass.id]} for klass in session.scalars(classes)] if counts else []


def confirmations_waiting(session: Session) -> dict[str, int]:
    """Acts that move money waiting for a reviewer as the second person: exemptions and ID-card
    arrangements."""
    return {"exemptions": session.scalar(select(func.count()).select_from(Exemption)
                                         .where(Exemption.confirmed_at.is_(None))) or 0,
            "alternatives": session.scalar(select(func.count()).select_from(AlternativeVerification).where(
                AlternativeVerification.confirmed_at.is_(None), AlternativeVerification.ended_at.is_(None))) or 0}


def last_reconciliation(session: Session) -> AuditEntry | None:
    """The audit entry of the latest nightly reconciliation (its payload counts the differences)."""
    return session.scalar(select(AuditEntry).where(AuditEntry.action == "hours.reconciled")
                          .order_by(AuditEntry.seq.desc()).limit(1))
