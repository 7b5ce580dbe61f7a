"""Online study (R2, R4): heartbeats, secret random face roll-calls and paused accrual.

Study starts and ends like a check-in and check-out, server-paced (``attendance.check_personal`` with
``online=True`` for the start; any verified check-out ends it): a verified face opens a
`PresenceInterval` of an online session and its `StudyState`. While the page is visible and the
trainee active, it sends a heartbeat about every 30 s; the seconds between two heartbeats count
only when they are at most ``STUDY_HEARTBEAT_MAX_GAP_SECONDS`` apart, the page said it was
visible and active, and accrual is not paused. What the page says is a claim, not evidence:
counted seconds are credited only between verified faces (``verified_seconds`` at the last
passed roll-call, or everything when a verified face ends the study), and a heartbeat pattern
that is too regular, or without any interaction, is kept as a risk signal.

The server decides the roll-calls, per study interval (so per enrolment): one in each window of
``60 / N`` minutes of the interval (N: the roll-call rate of the programme's hour rule,
default ``STUDY_ROLL_CALLS_PER_HOUR``), at a time uniformly random within the
window, taken from an HMAC of the interval and window under a key derived from ``SECRET_KEY``
(outside the database; the time is never sent to the page). A heartbeat that finds one due opens
it and tells the page, which alerts the trainee, who answers within ``STUDY_ROLL_CALL_SECONDS``
with the same server-paced face check as an on-site check-in (prompts one at a time, frames
streamed as captured; a one-burst or replayed answer is refused). A failed answer, or none by the deadline (noticed at the next
heartbeat, roll-call answer or by the scheduler), pauses accrual until the next verified face.
Every answer and every miss is a `FaceVerification` with its xAPI statement and audit entry,
written in the same commit. Study never crosses Beijing midnight: the first heartbeat of a new
day closes it at midnight (credited up to the last verified face). At the end only the counted
minutes are credited, under the programme's and the person's daily caps (`hours.credit_interval`).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, NotFoundError
from app.extensions import db
from app.models import (IntervalStatus, PresenceInterval, Purpose, RollCallOutcome, StudyRollCall,
                        StudyState, User, VerificationMode)
from app.models.base import utcnow
from app.queries import biometrics as bio_queries
from app.services import face_checks, held_hours, hour_rules, hours, makeup, replay, xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.classes import LOCAL_TZ
from app.services.face_check_record import (Attempt, active_lock, is_locked_out, maybe_lock, record_verification,
                                            refused)
from app.services.refusals import Refusal, refusal_message
from app.services.trainee_lock import lock_trainee


def _cfg(name: str) -> int:
    return int(current_app.config[name])


#: A heartbeat gap within this share of the previous one (at least 50 ms) counts as "regular";
#: this many regular gaps in a row is a risk signal (the page jitters its beats on purpose).
REGULAR_SHARE = 50
REGULAR_STREAK = 20


def _window_seconds(interval: PresenceInterval) -> int:
    """One roll-call window: an hour over the rate of the programme's rule on the study's day."""
    rate = hour_rules.roll_calls_per_hour(db.session, interval.enrolment.training_class.programme_id,
                                          interval.opened_at.astimezone(LOCAL_TZ).date())
    return max(60, 3600 // max(1, rate))


def roll_call_time(interval: PresenceInterval, window: int) -> datetime:
    """The secret time of the roll-call in window ``window`` (0, 1, …) of a study interval:
    uniformly random within the window, from an HMAC under a key derived from ``SECRET_KEY``."""
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"skilltrace:roll-call-times",
                   hashlib.sha256).digest()
    digest = hmac.new(key, f"{interval.id}:{window}".encode(), hashlib.sha256).digest()
    size = _window_seconds(interval)
    return interval.opened_at + timedelta(seconds=window * size + int.from_bytes(digest[:8], "big") % size)


def _next_roll_call(interval: PresenceInterval, after: datetime) -> datetime:
    """The roll-call of the window after the one ``after`` falls in."""
    return roll_call_time(interval, int((after - interval.opened_at).total_seconds()) // _window_seconds(interval) + 1)


def _day_end(interval: PresenceInterval) -> datetime:
    """Beijing midnight after the interval opened: study is counted and credited day by day."""
    day = interval.opened_at.astimezone(LOCAL_TZ).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


def open_state(session: Session, interval: PresenceInterval, now: datetime) -> StudyState:
    """The accrual state of a study interval just opened (in the caller's transaction)."""
    state = StudyState(interval_id=interval.id, trainee_id=interval.trainee_id, counted_seconds=0,
                       last_heartbeat_at=now, heartbeats=0, paused=False, pause_reason="",
                       next_roll_call_at=roll_call_time(interval, 0), verified_seconds=0,
                       last_gap_ms=0, regular_streak=0, interactions=0, risk_signals=[])
    session.add(state)
    session.flush()
    makeup.attach(session, interval, now)
    append_audit(session, None, "study.started", state, {"interval_id": str(interval.id),
                                                         "trainee_id": str(interval.trainee_id)})
    return state


def _open_study(session: Session, trainee_id) -> tuple[PresenceInterval | None, StudyState | None]:
    row = session.execute(select(PresenceInterval, StudyState).join(
        StudyState, StudyState.interval_id == PresenceInterval.id).where(
        PresenceInterval.open_slot == trainee_id)).first()
    return (row[0], row[1]) if row else (None, None)


def _pending(session: Session, interval_id) -> StudyRollCall | None:
    return session.scalar(select(StudyRollCall).where(StudyRollCall.interval_id == interval_id,
                                                      StudyRollCall.outcome == RollCallOutcome.PENDING))


def _expire(session: Session, interval: PresenceInterval, state: StudyState, now: datetime) -> StudyRollCall | None:
    """Mark a pending roll-call past its deadline as missed: a refused verification with its
    statement and audit entry, and accrual paused. Returns the missed roll-call, if any."""
    pending = _pending(session, interval.id)
    if pending is None or now <= pending.deadline:
        return None
    verification = record_verification(
        session, now=now, purpose=Purpose.ROLL_CALL, mode=VerificationMode.PERSONAL, face=face_checks.FaceEvidence(),
        reason=Refusal.ROLL_CALL_MISSED, trainee_id=interval.trainee_id, enrolment=interval.enrolment,
        cs=interval.class_session, kiosk=None, challenge=None, actor=None, device="")
    pending.outcome, pending.resolved_at, pending.verification_id = RollCallOutcome.MISSED, now, verification.id
    state.paused, state.pause_reason = True, Refusal.ROLL_CALL_MISSED
    append_audit(session, None, "study.roll_call_missed", pending, {
        "interval_id": str(interval.id), "deadline": pending.deadline.isoformat(),
        "verification_id": str(verification.id)})
    return pending


def _status(state: StudyState, pending: StudyRollCall | None, missed: bool = False) -> dict:
    return {"counted_seconds": state.counted_seconds, "counted_minutes": state.counted_seconds // 60,
            "paused": state.paused, "pause_reason": state.pause_reason,
            "pause_message": refusal_message(state.pause_reason) if state.pause_reason else "",
            "face_required": state.paused or pending is not None,
            "verified_minutes": state.verified_seconds // 60,
            "roll_call": ({"id": str(pending.id), "deadline": pending.deadline.isoformat(),
                           "seconds_left": max(0, int((pending.deadline - utcnow()).total_seconds()))}
                          if pending is not None else None),
            "roll_call_missed": missed}


def _trainee_id(actor: User):
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        raise NotFoundError(_("Your account is not linked to a trainee record."), code="no_trainee_record")
    return trainee.id


def _note_pattern(session: Session, state: StudyState, now: datetime, interactions: int) -> None:
    """Keep the heartbeat pattern: a run of too regular gaps, or many beats without any
    interaction, becomes a risk signal (kept on the state, audited once, shown to reviewers)."""
    gap_ms = int((now - state.last_heartbeat_at).total_seconds() * 1000)
    tolerance = max(50, state.last_gap_ms // REGULAR_SHARE)
    regular = state.last_gap_ms > 0 and abs(gap_ms - state.last_gap_ms) <= tolerance
    state.regular_streak = state.regular_streak + 1 if regular else 0
    state.last_gap_ms = gap_ms
    state.interactions += min(max(0, interactions), 10_000)
    signals = []
    if state.regular_streak >= REGULAR_STREAK:
        signals.append("heartbeats_too_regular")
    if state.heartbeats >= REGULAR_STREAK and state.interactions == 0:
        signals.append("no_interaction")
    new = [signal for signal in signals if signal not in (state.risk_signals or [])]
    if new:
        state.risk_signals = [*(state.risk_signals or []), *new]
        append_audit(session, None, "study.risk_signal", state, {
            "interval_id": str(state.interval_id), "signals": new, "heartbeats": state.heartbeats})


def _close_without_face(session: Session, interval: PresenceInterval, state: StudyState,
                        closed_at: datetime, reason: str, now: datetime):
    """Close a study no verified face ended (idle, or a new Beijing day) at ``closed_at``: it is
    credited only what was counted up to the last verified face."""
    _expire(session, interval, state, now)
    statement_id = xapi_records.record(
        session, "checked-out", xapi_records.trainee_agent(interval.trainee_id), at=now,
        enrolment_id=interval.enrolment_id, class_id=interval.enrolment.class_id,
        session_id=interval.session_id, extensions={"reason": reason, "record-id": str(interval.id)},
        result={"duration": xapi_records.duration((closed_at - interval.opened_at).total_seconds())})
    entry = hours.close_interval(session, interval, closed_at, None, statement_id=statement_id)
    append_audit(session, None, "study.closed_idle" if reason == "study_idle_timeout" else "study.closed_day_end",
                 interval, {"closed_at": closed_at.isoformat(), "minutes": entry.minutes, "reason": reason})
    return entry


def heartbeat(actor: User, visible: bool = True, active: bool = True, interactions: int = 0,
              now: datetime | None = None) -> dict:
    """One heartbeat of the signed-in trainee's study page: count the time since the previous
    one if it qualifies, notice a missed roll-call, open a roll-call when one is due, and close
    the study at Beijing midnight.

    Returns:
        The study status: counted seconds, paused and why, and the pending roll-call if any; or,
        when the day ended, ``{"studying": False, "ended": "day_ended", "message", ...}``.

    Raises:
        NotFoundError: no trainee record. ConflictError (``not_studying``): no open study.
    """
    trainee_id = _trainee_id(actor)
    now = now or utcnow()
    with transaction() as session:
        lock_trainee(session, trainee_id)
        interval, state = _open_study(session, trainee_id)
        if state is None:
            raise ConflictError(refusal_message(Refusal.NOT_STUDYING), code=Refusal.NOT_STUDYING.value)
        was_paused = state.paused
        missed = _expire(session, interval, state, now)
        day_end = _day_end(interval)
        end = min(now, day_end, missed.deadline if missed is not None else now)
        gap = (now - state.last_heartbeat_at).total_seconds()
        counted = 0
        if (not was_paused and visible and active and 0 < gap <= _cfg("STUDY_HEARTBEAT_MAX_GAP_SECONDS")):
            counted = max(0, int((end - state.last_heartbeat_at).total_seconds()))
            state.counted_seconds += counted
        _note_pattern(session, state, now, interactions)
        state.last_heartbeat_at = max(state.last_heartbeat_at, now)
        state.heartbeats += 1
        if now >= day_end:
            entry = _close_without_face(session, interval, state, day_end, "study_day_ended", now)
            return {"studying": False, "ended": "day_ended", "counted_now": counted,
                    "minutes_credited": entry.minutes, "message": str(_(
                        "A new day has begun: today's study was ended at midnight and %(m)s minutes were "
                        "credited. Start again with a face check to keep studying.", m=entry.minutes))}
        pending = _pending(session, interval.id)
        if (pending is None and not state.paused and state.next_roll_call_at is not None
                and state.next_roll_call_at <= now):
            pending = StudyRollCall(interval_id=interval.id, trainee_id=trainee_id,
                                    local_day=now.astimezone(LOCAL_TZ).date(), due_at=state.next_roll_call_at,
                                    deadline=now + timedelta(seconds=_cfg("STUDY_ROLL_CALL_SECONDS")))
            session.add(pending)
            session.flush()
            state.next_roll_call_at = _next_roll_call(interval, state.next_roll_call_at)
            append_audit(session, None, "study.roll_call_due", pending, {
                "interval_id": str(interval.id), "deadline": pending.deadline.isoformat()})
        return {**_status(state, pending, missed is not None), "studying": True, "counted_now": counted}


def answer_roll_call(actor: User, nonce: str, device: str = "", captured_at: datetime | None = None) -> Attempt:
    """Answer a roll-call (or, while paused, verify the face to resume) with a server-paced
    ``roll_call`` challenge (`attendance.start_check`; its frames were streamed as captured). In
    time and accepted: the roll-call passes and accrual goes on. After the roll-call's deadline it
    counts as missed, and an accepted face only resumes accrual from now (the span is held for
    review). Refused: the roll-call fails and accrual pauses. Either way a verification with its
    statement and audit entry is stored; a one-burst challenge is refused (``challenge_not_paced``).

    Raises:
        NotFoundError: no trainee record. UnavailableError: face models or keys unusable.
    """
    trainee_id = _trainee_id(actor)
    locked = is_locked_out(trainee_id)
    skewed = face_checks.clock_skewed(captured_at)  # as for check-in: refused, never used as a time
    face = ((None if locked or skewed else face_checks.paced_evidence(nonce, trainee_id))
            or face_checks.FaceEvidence(trainee_id=trainee_id))
    now = utcnow()
    with transaction() as session:
        lock_trainee(session, trainee_id)
        challenge, reason = face_checks.consume_challenge(session, nonce, Purpose.ROLL_CALL, now, trainee_id=trainee_id)
        if not reason and active_lock(session, trainee_id) is not None:
            reason = Refusal.LOCKED_OUT
        if not reason and not challenge.paced:
            reason = Refusal.CHALLENGE_NOT_PACED
        reason = reason or (Refusal.CLOCK_SKEW if skewed else face.refusal)
        interval, state = _open_study(session, trainee_id)
        if state is None:
            reason = reason or Refusal.NOT_STUDYING
        pending = late = None
        if state is not None:
            late = _expire(session, interval, state, now)
            pending = _pending(session, interval.id)
        verification = record_verification(
            session, now=now, purpose=Purpose.ROLL_CALL, mode=VerificationMode.PERSONAL, face=face, reason=reason,
            trainee_id=trainee_id, enrolment=interval.enrolment if interval else None,
            cs=interval.class_session if interval else None, kiosk=None, challenge=challenge, actor=actor,
            device=device)
        if state is not None:
            if pending is not None:
                pending.outcome = RollCallOutcome.FAILED if reason else RollCallOutcome.PASSED
                pending.resolved_at, pending.verification_id = now, verification.id
            if reason:
                state.paused, state.pause_reason = True, Refusal.ROLL_CALL_FAILED
            else:
                if state.paused:  # accrual resumes from this verified face
                    state.last_heartbeat_at = now
                if state.pause_reason in (Refusal.ROLL_CALL_FAILED, Refusal.ROLL_CALL_MISSED):  # held for review
                    state.risk_signals = sorted({*(state.risk_signals or []), "roll_call_failed_then_passed"})
                if state.next_roll_call_at is not None and state.next_roll_call_at <= now:
                    state.next_roll_call_at = _next_roll_call(interval, now)
                state.paused, state.pause_reason = False, ""
                state.verified_seconds = state.counted_seconds
                interval.last_verified_at = now
                replay.store(session, trainee_id, face.prints, "check")  # this answer can't be replayed
            append_audit(session, actor, "study.roll_call_answered", state, {
                "interval_id": str(interval.id), "roll_call_id": str(pending.id) if pending else None,
                "accepted": not reason, "reason": reason, "verification_id": str(verification.id)})
        if reason:
            maybe_lock(session, trainee_id, now)
            attempt = refused(reason, Purpose.ROLL_CALL, verification, trainee_id, face)
        else:
            message = (_("The roll-call was answered after its deadline, so it counts as missed. Your face is "
                         "verified: study time counts again from now, and your instructor will review this study.")
                       if late is not None else _("Face verified: study time counts again."))
            attempt = Attempt(True, "", str(message), Purpose.ROLL_CALL.value, verification.id, interval.id,
                              trainee_id=trainee_id, distance=face.distance)
    held_hours.keep_frames(trainee_id, attempt.verification_id, face.frames)
    return attempt


def status(actor: User) -> dict | None:
    """The signed-in trainee's open study, or None."""
    trainee_id = _trainee_id(actor)
    interval, state = _open_study(db.session, trainee_id)
    if state is None:
        return None
    return {**_status(state, _pending(db.session, interval.id)), "interval_id": str(interval.id),
            "opened_at": interval.opened_at.isoformat()}


def close_idle_study(now: datetime | None = None) -> int:
    """Close study intervals without a heartbeat for ``STUDY_IDLE_CLOSE_MINUTES`` at their last
    heartbeat (or Beijing midnight, if earlier) and credit what was counted up to the last
    verified face (for the scheduler; idempotent)."""
    now = now or utcnow()
    limit = now - timedelta(minutes=_cfg("STUDY_IDLE_CLOSE_MINUTES"))
    closed = 0
    with transaction() as session:
        rows = session.execute(select(PresenceInterval, StudyState).join(
            StudyState, StudyState.interval_id == PresenceInterval.id).where(
            PresenceInterval.status == IntervalStatus.OPEN, StudyState.last_heartbeat_at < limit)).all()
        for interval, state in rows:
            lock_trainee(session, interval.trainee_id)
            closed_at = min(max(interval.opened_at, state.last_heartbeat_at), _day_end(interval))
            _close_without_face(session, interval, state, closed_at, "study_idle_timeout", now)
            closed += 1
    return closed
