"""Make-up study (补学): minutes of an online study that were not credited (a failed or missed
roll-call paused accrual, a segment was lost, the study ended without a final face) may be made
up by studying again, under roll-calls like any study, within ``MAKEUP_WORKING_DAYS`` working days
(`working_days`) of the Beijing day of the study.

The trainee claims the make-up of one of their own closed study intervals (`claim`); the claim
holds the missing minutes (the interval's minutes inside its session window less what its
credit gave) and the last day it may be studied. The trainee's next study of the same enrolment
on or before that day takes the claim (`attach`, at the study's start), and its credit is capped
at the missing minutes and marked as the make-up of the source interval
(`hours.credit_interval`). A source interval is made up at most once (a unique column).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import LOCAL_TZ, local_today
from app.errors.exceptions import ConflictError, NotFoundError
from app.extensions import db
from app.models import (EntryType, HoursEntry, IntervalStatus, MakeUpClaim, PresenceInterval, StudyState, User)
from app.models.base import utcnow
from app.queries import biometrics as bio_queries
from app.services import hours
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.trainee_lock import lock_trainee
from app.services.working_days import working_days_after


@dataclass(frozen=True)
class Missing:
    """A study interval of the trainee with minutes not credited, and until when it may be made up."""

    interval: PresenceInterval
    minutes: int
    deadline: date


def missing(session: Session, interval: PresenceInterval) -> Missing | None:
    """The interval's uncredited minutes and make-up deadline; None unless it is a closed online
    study, not itself a make-up, of which some minutes were not credited."""
    if interval.status != IntervalStatus.CLOSED or session.scalar(
            select(StudyState.id).where(StudyState.interval_id == interval.id)) is None:
        return None
    if session.scalar(select(MakeUpClaim.id).where(MakeUpClaim.study_interval_id == interval.id)):
        return None  # a make-up is not made up in its turn
    credited = session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
        HoursEntry.interval_id == interval.id, HoursEntry.entry_type == EntryType.CREDIT)) or 0
    minutes = hours.verified_minutes(interval.opened_at, interval.closed_at, interval.class_session) - credited
    if minutes <= 0:
        return None
    day = interval.opened_at.astimezone(LOCAL_TZ).date()
    return Missing(interval, minutes, working_days_after(day, int(current_app.config["MAKEUP_WORKING_DAYS"])))


def _trainee_id(actor: User):
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        raise NotFoundError(_("Your account is not linked to a trainee record."), code="no_trainee_record")
    return trainee.id


def claim(actor: User, interval_id, now: datetime | None = None) -> MakeUpClaim:
    """Claim the make-up of one of the signed-in trainee's study intervals.

    Raises:
        NotFoundError: no trainee record, or not an interval of theirs. ConflictError: nothing
            to make up (``nothing_missing``), the window closed (``makeup_window_closed``), or
            claimed already (``already_claimed``).
    """
    trainee_id = _trainee_id(actor)
    now = now or utcnow()
    with transaction() as session:
        lock_trainee(session, trainee_id)
        interval = session.get(PresenceInterval, interval_id)
        if interval is None or interval.trainee_id != trainee_id:
            raise NotFoundError(_("No such study of yours."))
        if session.scalar(select(MakeUpClaim.id).where(MakeUpClaim.source_interval_id == interval.id)):
            raise ConflictError(_("This study is being made up or was made up already."), code="already_claimed")
        gap = missing(session, interval)
        if gap is None:
            raise ConflictError(_("All the minutes of this study were credited: there is nothing to make up."),
                                code="nothing_missing")
        if local_today(now) > gap.deadline:
            raise ConflictError(_("Make-up study was possible until %(day)s (%(n)s working days after the study).",
                                  day=gap.deadline.isoformat(), n=current_app.config["MAKEUP_WORKING_DAYS"]),
                                code="makeup_window_closed")
        made = MakeUpClaim(trainee_id=trainee_id, enrolment_id=interval.enrolment_id, source_interval_id=interval.id,
                           missing_minutes=gap.minutes, deadline=gap.deadline, claimed_at=now)
        try:
            with session.begin_nested():
                session.add(made)
                session.flush()
        except IntegrityError:  # a concurrent claim of the same interval won (the unique backstop)
            raise ConflictError(_("This study is being made up or was made up already."),
                                code="already_claimed") from None
        append_audit(session, actor, "study.makeup_claimed", made, {
            "source_interval_id": str(interval.id), "missing_minutes": gap.minutes,
            "deadline": gap.deadline.isoformat()})
    return made


def attach(session: Session, interval: PresenceInterval, now: datetime) -> MakeUpClaim | None:
    """At the start of a study: take the trainee's oldest open claim of the same enrolment whose
    deadline has not passed (in the caller's transaction)."""
    made = session.scalar(select(MakeUpClaim).where(
        MakeUpClaim.trainee_id == interval.trainee_id, MakeUpClaim.enrolment_id == interval.enrolment_id,
        MakeUpClaim.study_interval_id.is_(None), MakeUpClaim.deadline >= local_today(now))
        .order_by(MakeUpClaim.claimed_at).limit(1))
    if made is None:
        return None
    made.study_interval_id = interval.id
    session.flush()
    append_audit(session, None, "study.makeup_started", made, {
        "source_interval_id": str(made.source_interval_id), "study_interval_id": str(interval.id)})
    return made


def for_trainee(actor: User) -> tuple[list[Missing], list[MakeUpClaim]]:
    """The signed-in trainee's studies that may be made up now, and their claims (read-only)."""
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        return [], []
    claims = list(db.session.scalars(select(MakeUpClaim).where(MakeUpClaim.trainee_id == trainee.id)
                                     .order_by(MakeUpClaim.claimed_at.desc())))
    claimed = {c.source_interval_id for c in claims}
    today = local_today()
    intervals = db.session.scalars(select(PresenceInterval).join(
        StudyState, StudyState.interval_id == PresenceInterval.id).where(
        PresenceInterval.trainee_id == trainee.id, PresenceInterval.status == IntervalStatus.CLOSED)
        .order_by(PresenceInterval.opened_at.desc()))
    open_ = [gap for i in intervals if i.id not in claimed
             and (gap := missing(db.session, i)) is not None and gap.deadline >= today]
    return open_, claims
