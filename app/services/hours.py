"""Cumulative flexible hours (R4, R5): credit a closed presence interval to the append-only
ledger under the programme's rules, reverse an entry (instructors, with a reason), and report
an enrolment's progress.

Rules per programme (`hour_rules`: the version in force on the credited Beijing day, or the
config defaults): only presence inside the session window counts; minutes are rounded down to
the counting unit (1 minute, or one standard hour); a daily cap (default 8 h) per enrolment and
Beijing day, net of reversals. Each credit keeps the rule version it used (``hour_rule_id`` and
the ``rule`` it applied).

One person's day has 24 hours: across all of a trainee's enrolments, the minutes credited on one
Beijing day (the session's day; for online study, the day it was done) never exceed ``PERSON_DAILY_CAP_MINUTES``, net of
reversals; the credit holds the trainee's lock (`trainee_lock`), so two credits of one person are
capped one after the other. Online study is credited only what was counted up to a verified face:
all of it when a verified face ended it, else up to the last verified face (start, passed roll-call).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import LOCAL_TZ
from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.models import (ClassSession, Enrolment, EntryType, FaceVerification, HeldHours, HeldStatus,
                        HoursEntry, IntervalStatus, MakeUpClaim, PresenceInterval, SessionKind, StudyState, User,
                        VerificationMode)
from app.models.base import utcnow
from app.services import risk, xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.hour_rules import rules_for
from app.services.policy import can_act_for, is_staff_actor
from app.services.trainee_lock import lock_trainee


NO_CHECK_OUT = "no_check_out"
CORRECTED = "corrected"
# why an interval or its ledger entry closed without a check-out, in words for the pages
CLOSE_REASONS = {
    NO_CHECK_OUT: _l("No check-out: closed by the system after the session, counted up to the last "
                     "verified face"),
    CORRECTED: _l("Missed check-out corrected by an instructor (reason and evidence on record)"),
}


def close_reason_words(code: str) -> str:
    """The words for a close reason code; other text (a reversal's reason) as written."""
    return str(CLOSE_REASONS[code]) if code in CLOSE_REASONS else code


def verified_minutes(opened: datetime, closed: datetime, class_session: ClassSession) -> int:
    """Whole minutes of [opened, closed] inside the session window."""
    start, end = max(opened, class_session.starts_at), min(closed, class_session.ends_at)
    return max(0, int((end - start).total_seconds()) // 60)


def _day_total(session: Session, enrolment_id, day) -> int:
    return session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
        HoursEntry.enrolment_id == enrolment_id, HoursEntry.local_day == day)) or 0


def person_day_total(session: Session, trainee_id, day) -> int:
    """Net minutes credited to one trainee on one Beijing day, across all their enrolments."""
    return session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).join(
        Enrolment, Enrolment.id == HoursEntry.enrolment_id).where(
        Enrolment.trainee_id == trainee_id, HoursEntry.local_day == day)) or 0


def _study_minutes(study: StudyState, interval: PresenceInterval) -> int:
    """Counted study minutes that lie between verified faces."""
    ended_by_face = interval.check_out_verification_id is not None
    return (study.counted_seconds if ended_by_face else study.verified_seconds) // 60


def credit_interval(session: Session, interval: PresenceInterval, actor: User | None,
                    reason: str = "") -> HoursEntry:
    """Append the ledger entry of a closed interval in the caller's transaction (zero minutes
    are written too, with the rule that made them zero, and ``reason`` when it did not close by a
    check-out) and its xAPI statement."""
    lock_trainee(session, interval.trainee_id)
    klass = interval.enrolment.training_class
    class_session = interval.class_session
    study = session.scalar(select(StudyState).where(StudyState.interval_id == interval.id))
    # study never crosses Beijing midnight, so it counts on the day it was done; on-site
    # presence counts on its session's day
    day = (interval.opened_at if study is not None else class_session.starts_at).astimezone(LOCAL_TZ).date()
    rules = rules_for(session, klass.programme_id, day, share_lock=True)
    raw = verified_minutes(interval.opened_at, interval.closed_at, class_session)
    study_minutes = None
    if study is not None:  # online study: only the time counted from heartbeats and roll-calls
        study_minutes = _study_minutes(study, interval)
        raw = min(raw, study_minutes)
    rounded = raw // rules.unit * rules.unit
    room = max(0, rules.daily_cap - _day_total(session, interval.enrolment_id, day))
    person_cap = int(current_app.config["PERSON_DAILY_CAP_MINUTES"])
    person_room = max(0, person_cap - person_day_total(session, interval.trainee_id, day))
    minutes = min(rounded, room, person_room) // rules.unit * rules.unit
    applied = {**rules.as_dict(), "raw_minutes": raw, "rounded_minutes": rounded,
               "capped": minutes < rounded, "person_daily_cap_minutes": person_cap,
               "person_capped": person_room < min(rounded, room)}
    if study is not None:
        applied["study_counted_minutes"] = study_minutes
        applied["study_risk_signals"] = list(study.risk_signals or [])
        minutes = _makeup_cap(session, interval, minutes, applied) // rules.unit * rules.unit
    now = utcnow()
    entry = HoursEntry(at=now, enrolment_id=interval.enrolment_id, entry_type=EntryType.CREDIT,
                       minutes=minutes, kind=class_session.kind.value, mode=interval.mode,
                       local_day=day, interval_id=interval.id, rule=applied, reason=reason,
                       actor_id=actor.id if actor else None, hour_rule_id=rules.rule_id)
    entry.statement_id = xapi_records.record(
        session, "credited", xapi_records.trainee_agent(interval.trainee_id), at=now,
        enrolment_id=interval.enrolment_id, class_id=klass.id, session_id=class_session.id,
        extensions={"minutes": minutes, "rule": applied, "mode": interval.mode.value,
                    "record-id": str(interval.id)},
        result={"duration": xapi_records.duration(minutes * 60), "completion": True})
    session.add(entry)
    session.flush()
    append_audit(session, actor, "hours.credited", entry, {
        "enrolment_id": str(entry.enrolment_id), "interval_id": str(interval.id),
        "minutes": minutes, "kind": entry.kind, "mode": entry.mode.value, "rule": applied})
    reasons = hold_reasons(study) if study is not None else []
    reasons += [r for r in risky_check_reasons(session, interval) if r not in reasons]
    if reasons and minutes > 0:
        held = HeldHours(entry_id=entry.id, enrolment_id=entry.enrolment_id, class_id=klass.id,
                         interval_id=interval.id, minutes=minutes, reasons=reasons, status=HeldStatus.PENDING,
                         held_at=now, decision_reason="")
        session.add(held)
        session.flush()
        append_audit(session, actor, "hours.held", held, {"entry_id": str(entry.id), "minutes": minutes,
                                                          "reasons": reasons})
    return entry


def _makeup_cap(session: Session, interval: PresenceInterval, minutes: int, applied: dict) -> int:
    """A make-up study (`makeup`) is credited at most the minutes it makes up, marked in ``applied``."""
    made = session.scalar(select(MakeUpClaim).where(MakeUpClaim.study_interval_id == interval.id))
    if made is None:
        return minutes
    applied.update(makeup_of_interval_id=str(made.source_interval_id), makeup_missing_minutes=made.missing_minutes)
    return min(minutes, made.missing_minutes)
def risky_check_reasons(session: Session, interval: PresenceInterval) -> list[str]:
    """The risk reasons (`app.services.risk`) of the interval's check-in and check-out when
    either scored at or above ``RISK_HOLD_SCORE``: its minutes wait for an instructor."""
    ids = [i for i in (interval.check_in_verification_id, interval.check_out_verification_id) if i is not None]
    hold_score = current_app.config["RISK_HOLD_SCORE"]
    reasons: list[str] = []
    for verification in session.scalars(select(FaceVerification).where(FaceVerification.id.in_(ids))):
        if risk.is_held(verification.risk_score, hold_score):
            reasons += [r for r in verification.risk_reasons or [] if r not in reasons]
    return reasons


def hold_reasons(study: StudyState) -> list[str]:
    """Why a study's credit must wait for an instructor: its risk signals (a roll-call failed or
    missed and then passed, a machine-regular heartbeat, no interaction)."""
    return list(study.risk_signals or [])


def close_interval(session: Session, interval: PresenceInterval, closed_at: datetime,
                   actor: User | None, verification_id=None, statement_id=None,
                   reason: str = "") -> HoursEntry:
    """Close an open interval at ``closed_at`` and credit it, in the caller's transaction;
    ``reason`` ("" for a check-out, or a `CLOSE_REASONS` code) goes on the interval and the entry."""
    interval.closed_at, interval.status, interval.open_slot = closed_at, IntervalStatus.CLOSED, None
    interval.check_out_verification_id = verification_id
    interval.check_out_statement_id = statement_id
    interval.close_reason = reason
    session.flush()
    return credit_interval(session, interval, actor, reason)


def close_stale_intervals(now: datetime | None = None, grace_minutes: int | None = None) -> int:
    """Close intervals whose session ended more than the tolerance ago, crediting only up to the
    last verified face, with the reason ``no_check_out`` on the interval, its ledger entry and its
    "checked-out" statement (for the scheduler; idempotent). Returns how many were closed."""
    now = now or utcnow()
    closed = 0
    with transaction() as session:
        rows = session.execute(select(PresenceInterval, ClassSession).join(
            ClassSession, ClassSession.id == PresenceInterval.session_id).where(
            PresenceInterval.status == IntervalStatus.OPEN)).all()
        for interval, class_session in rows:
            grace = grace_minutes if grace_minutes is not None else rules_for(
                session, interval.enrolment.training_class.programme_id).tolerance
            if class_session.ends_at + timedelta(minutes=grace) <= now:
                closed_at = interval.last_verified_at
                study = session.scalar(select(StudyState).where(StudyState.interval_id == interval.id))
                if study is not None:  # online study: counted up to the last heartbeat
                    closed_at = max(closed_at, study.last_heartbeat_at)
                # the check-out the trainee did not make, said as such (reconciled like any other)
                statement_id = xapi_records.record(
                    session, "checked-out", xapi_records.trainee_agent(interval.trainee_id), at=closed_at,
                    enrolment_id=interval.enrolment_id, class_id=class_session.class_id,
                    session_id=class_session.id,
                    extensions={"mode": interval.mode.value, "reason": NO_CHECK_OUT, "record-id": str(interval.id)},
                    result={"duration": xapi_records.duration((closed_at - interval.opened_at).total_seconds())})
                entry = close_interval(session, interval, closed_at, None, statement_id=statement_id,
                                       reason=NO_CHECK_OUT)
                append_audit(session, None, "presence.closed_by_scheduler", interval, {
                    "closed_at": closed_at.isoformat(), "minutes": entry.minutes, "reason": NO_CHECK_OUT})
                closed += 1
    return closed


def reverse_entry(actor: User, entry_id, reason: str) -> HoursEntry:
    """Reverse a credit with a reversing entry (never an update).

    Raises:
        PermissionDeniedError: not an instructor of the institution (or an admin).
        NotFoundError: no such entry. ValidationError: no reason.
        ConflictError: the entry is a reversal itself, or was reversed already.
    """
    reason = (reason or "").strip()
    if not is_staff_actor(actor):
        raise PermissionDeniedError(_("Only instructors correct hours."))
    if not reason:
        raise ValidationError(_("Say why the hours are reversed."), errors={"reason": _("Required.")})
    with transaction() as session:
        entry = session.get(HoursEntry, entry_id)
        if entry is None:
            raise NotFoundError(_("No such ledger entry."))
        enrolment = session.get(Enrolment, entry.enrolment_id)
        if not can_act_for(actor, enrolment.training_class.institution_id):
            raise PermissionDeniedError(_("Only the institution's own instructors correct its hours."))
        if entry.entry_type != EntryType.CREDIT:
            raise ConflictError(_("A reversal cannot be reversed."), code="is_reversal")
        if session.scalar(select(HoursEntry.id).where(HoursEntry.reverses_id == entry.id)):
            raise ConflictError(_("This entry was reversed already."), code="already_reversed")
        if session.scalar(select(HeldHours.id).where(HeldHours.entry_id == entry.id,
                                                     HeldHours.status == HeldStatus.PENDING)):
            raise ConflictError(_("These hours are held for review: accept or reject them in the review queue."),
                                code="held_for_review")
        reversal = append_reversal(session, entry, enrolment, actor, reason)
    return reversal


def append_reversal(session: Session, entry: HoursEntry, enrolment: Enrolment, actor: User,
                    reason: str) -> HoursEntry:
    """Append the reversing entry of ``entry`` with its statement and audit entry, in the
    caller's transaction (the caller has checked who may and that it is not reversed yet)."""
    now = utcnow()
    reversal = HoursEntry(at=now, enrolment_id=entry.enrolment_id, entry_type=EntryType.REVERSAL,
                          minutes=-entry.minutes, kind=entry.kind, mode=entry.mode,
                          local_day=entry.local_day, reverses_id=entry.id, rule={},
                          reason=reason, actor_id=actor.id)
    reversal.statement_id = xapi_records.record(
        session, "reversed", xapi_records.trainee_agent(enrolment.trainee_id), at=now,
        enrolment_id=enrolment.id, class_id=enrolment.class_id,
        extensions={"minutes": -entry.minutes, "reason": reason, "record-id": str(entry.id)},
        result={"duration": xapi_records.duration(entry.minutes * 60)})
    session.add(reversal)
    session.flush()
    append_audit(session, actor, "hours.reversed", reversal, {
        "reverses_id": str(entry.id), "minutes": -entry.minutes, "reason": reason})
    return reversal


@dataclass(frozen=True)
class Progress:
    """An enrolment's hours, in minutes: credited − reversed − held for review, against
    required − exempted; ``practical`` of the net was practice, against ``practical_needed``
    (the rule's practical share of what is needed)."""

    credited: int
    reversed: int
    required: int
    exempted: int
    alternative: int
    hour_length: int
    corrected: int = 0  # minutes from instructors' corrections of missed check-outs
    held: int = 0
    appealed: int = 0
    practical: int = 0
    practical_percent: int = 0

    @property
    def net(self) -> int:
        """Credited minutes that count: neither reversed nor held for review."""
        return self.credited - self.reversed - self.held

    @property
    def needed(self) -> int:
        return max(0, self.required - self.exempted)

    @property
    def practical_needed(self) -> int:
        """Practice minutes needed: the rule's share of what is needed, rounded up."""
        return -(-self.needed * self.practical_percent // 100)

    @property
    def practical_short(self) -> bool:
        return self.practical < self.practical_needed

    @property
    def complete(self) -> bool:
        return self.net >= self.needed and not self.practical_short


def progress(session: Session, enrolment: Enrolment) -> Progress:
    """The enrolment's progress (read-only; alternative-verified and appealed minutes are
    counted within the net and reported separately; practice minutes net of their reversals and
    holds)."""
    rows = session.execute(select(HoursEntry.entry_type, HoursEntry.mode, HoursEntry.kind, func.sum(HoursEntry.minutes))
                           .where(HoursEntry.enrolment_id == enrolment.id)
                           .group_by(HoursEntry.entry_type, HoursEntry.mode, HoursEntry.kind)).all()
    credited = sum(m for t, _m, _k, m in rows if t == EntryType.CREDIT)
    reversed_ = -sum(m for t, _m, _k, m in rows if t == EntryType.REVERSAL)
    alternative = sum(m for _t, mode, _k, m in rows if mode == VerificationMode.ALTERNATIVE)
    corrected = sum(m for _t, mode, _k, m in rows if mode == VerificationMode.CORRECTION)
    appealed = sum(m for _t, mode, _k, m in rows if mode == VerificationMode.APPEAL)
    held_rows = session.execute(select(HoursEntry.kind, func.sum(HeldHours.minutes))
                                .join(HoursEntry, HoursEntry.id == HeldHours.entry_id)
                                .where(HeldHours.enrolment_id == enrolment.id, HeldHours.status == HeldStatus.PENDING)
                                .group_by(HoursEntry.kind)).all()
    held = sum(m for _k, m in held_rows)
    practical = (sum(m for _t, _m, kind, m in rows if kind == SessionKind.PRACTICE)
                 - sum(m for kind, m in held_rows if kind == SessionKind.PRACTICE))
    programme = enrolment.training_class.programme
    rules = rules_for(session, programme.id)
    return Progress(credited, reversed_, programme.required_hours * rules.hour_length,
                    enrolment.exempted_hours * rules.hour_length, alternative, rules.hour_length,
                    corrected, held, appealed, practical, rules.practical_percent)
