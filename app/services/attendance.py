"""Face-verified check-in and check-out (R2, R4): personal 1:1 and kiosk 1:N checks, presence
intervals, lock-outs, and the instructor's alternative (ID-card) check.

Frames are analysed by `app.services.face_checks` (challenges, liveness, the match) before the
write transaction, so the CPU work does not hold the write lock. The transaction then takes the trainee's lock,
consumes the nonce, re-checks every rule and records the outcome: an accepted check opens or
closes the interval (and credits hours); a refusal is recorded as a failed verification with its
reason code. Either way an audit entry and xAPI statements are written in the same commit, and
the caller gets an `Attempt` (refusals are results, not exceptions, because they must be stored).
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import (AlternativeVerification, CheckInChallenge, CheckInLock, ClassSession, ClassStatus,
                        Enrolment, IntervalStatus, Kiosk, PresenceInterval, Purpose, Trainee, TrainingClass, User,
                        VerificationMode)
from app.models.base import utcnow
from app.queries import biometrics as bio_queries
from app.services import face_checks, held_hours, hours, kiosk_lock, replay, study, xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.classes import start_class
from app.services.face_check_record import (Attempt, active_lock, is_locked_out, maybe_lock, record_verification,
                                            refused)
from app.services.face_checks import FaceEvidence, clock_skewed, consume_challenge, paced_evidence, parse_purpose
from app.services.policy import can_act_for, can_act_for_trainee, is_staff_actor, is_trainee
from app.services.refusals import Refusal, refusal_message
from app.services.trainee_lock import lock_trainee

# -- sessions now --------------------------------------------------------------------------------

def _tolerance(session: Session, klass: TrainingClass) -> timedelta:
    return timedelta(minutes=hours.rules_for(session, klass.programme_id).tolerance)


def _in_window(session: Session, cs: ClassSession, now: datetime, purpose: Purpose) -> bool:
    tol = _tolerance(session, cs.training_class)
    if purpose == Purpose.CHECK_IN:
        return cs.starts_at - tol <= now <= cs.ends_at
    return cs.starts_at - tol <= now <= cs.ends_at + tol


def find_session(session: Session, trainee_id, now: datetime, purpose: Purpose, site: str | None = None,
                 institution_id=None, online: bool = False
                 ) -> tuple[Enrolment | None, ClassSession | None, str, set[TrainingClass]]:
    """The trainee's session now (on site, or online ones when ``online``), or a refusal reason
    (a `REASONS` code), and the approved classes a check-in now would open; reads only (the
    check itself goes through `_current_session`, the check-in page's outlook through
    `app.services.check_outlook`)."""
    day = timedelta(hours=14)
    query = (select(Enrolment, ClassSession).join(ClassSession, ClassSession.class_id == Enrolment.class_id)
             .where(Enrolment.trainee_id == trainee_id, ClassSession.online.is_(online),
                    ClassSession.starts_at <= now + day, ClassSession.ends_at >= now - day)
             .order_by(ClassSession.starts_at))
    candidates = [(e, cs) for e, cs in session.execute(query).all() if _in_window(session, cs, now, purpose)]
    if institution_id is not None:
        candidates = [(e, cs) for e, cs in candidates if e.training_class.institution_id == institution_id]
    if not candidates:
        return None, None, Refusal.OUTSIDE_WINDOW, set()
    opening = set()
    running = [(e, cs) for e, cs in candidates if e.training_class.status == ClassStatus.RUNNING]
    if not running:
        # day one: the session's window is open, so the approved class opens now, whether or
        # not the scheduler has started it yet
        running = [(e, cs) for e, cs in candidates if e.training_class.status == ClassStatus.APPROVED]
        opening = {e.training_class for e, _cs in running}
    if not running:
        return None, None, Refusal.CLASS_NOT_RUNNING, set()
    if site is not None:
        here = [(e, cs) for e, cs in running if cs.place == site]
        if not here:
            return None, None, Refusal.WRONG_SITE, set()
        running = here
    enrolment, cs = running[0]
    return enrolment, cs, "", opening


def _current_session(session: Session, trainee_id, now: datetime, purpose: Purpose,
                     site: str | None = None, institution_id=None,
                     online: bool = False) -> tuple[Enrolment | None, ClassSession | None, str]:
    """`find_session`, opening the approved classes it names (in the caller's transaction)."""
    enrolment, cs, reason, opening = find_session(session, trainee_id, now, purpose, site, institution_id, online)
    for klass in opening:
        start_class(session, klass, now)
    return enrolment, cs, reason


def _kiosk_roster(session: Session, kiosk: Kiosk, now: datetime) -> list[uuid.UUID]:
    """Trainees enrolled in running classes of the kiosk's institution with a session at its
    site now (± tolerance)."""
    query = (select(Enrolment.trainee_id, ClassSession).join(ClassSession, ClassSession.class_id == Enrolment.class_id)
             .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
             .where(TrainingClass.status == ClassStatus.RUNNING, TrainingClass.institution_id == kiosk.institution_id,
                    ClassSession.place == kiosk.site, ClassSession.starts_at <= now + timedelta(hours=2),
                    ClassSession.ends_at >= now - timedelta(hours=2)))
    return sorted({tid for tid, cs in session.execute(query).all()
                   if _in_window(session, cs, now, Purpose.CHECK_OUT)})


# -- the unit of work ---------------------------------------------------------------------------

def _apply(session: Session, *, now, purpose: Purpose, mode: VerificationMode, face: FaceEvidence, trainee_id,
           enrolment, cs, kiosk, challenge, actor, device, reason: str) -> Attempt:
    """Check presence rules, then record the verification and open or close the interval."""
    open_interval = None
    if not reason and trainee_id is not None:
        open_interval = session.scalar(select(PresenceInterval).where(PresenceInterval.open_slot == trainee_id))
        if purpose == Purpose.CHECK_IN and open_interval is not None:
            reason = Refusal.ALREADY_CHECKED_IN if open_interval.session_id == cs.id else Refusal.PRESENT_ELSEWHERE
        elif purpose == Purpose.CHECK_OUT:
            if open_interval is None:
                reason = Refusal.NOT_CHECKED_IN
            else:
                enrolment, cs = open_interval.enrolment, open_interval.class_session
    interval = None
    if not reason and purpose == Purpose.CHECK_IN:
        interval = PresenceInterval(enrolment_id=enrolment.id, trainee_id=trainee_id, session_id=cs.id, mode=mode,
                                    status=IntervalStatus.OPEN, open_slot=trainee_id, opened_at=now,
                                    last_verified_at=now)
        try:
            with session.begin_nested():
                session.add(interval)
                session.flush()
        except IntegrityError:  # a concurrent check-in won the open slot (the unique backstop)
            reason, interval = Refusal.ALREADY_CHECKED_IN, None
    verification = record_verification(session, now=now, purpose=purpose, mode=mode, face=face, reason=reason,
                                       trainee_id=trainee_id, enrolment=enrolment, cs=cs, kiosk=kiosk,
                                       challenge=challenge, actor=actor, device=device)
    if reason:
        if trainee_id is not None and mode == VerificationMode.PERSONAL:
            maybe_lock(session, trainee_id, now)
        return refused(reason, purpose, verification, trainee_id, face)
    replay.store(session, trainee_id, face.prints, "check")
    agent = xapi_records.trainee_agent(trainee_id)
    ext = {"face-distance": face.distance, "device": device or "", "mode": mode.value,
           "liveness": {"passed": face.liveness_passed, "reason": face.liveness_reason},
           "record-id": str(verification.id)}
    if purpose == Purpose.CHECK_IN:
        interval.check_in_verification_id = verification.id
        interval.check_in_statement_id = xapi_records.record(
            session, "checked-in", agent, at=now, enrolment_id=enrolment.id, class_id=enrolment.class_id,
            session_id=cs.id, extensions=ext)
        append_audit(session, actor, "presence.opened", interval, {
            "trainee_id": str(trainee_id), "session_id": str(cs.id), "mode": mode.value,
            "verification_id": str(verification.id)})
        if cs.online:
            study.open_state(session, interval, now)
            return Attempt(True, "", str(_("Study started.")), purpose.value, verification.id, interval.id,
                           trainee_id=trainee_id, distance=face.distance)
        return Attempt(True, "", str(_("Checked in.")), purpose.value, verification.id, interval.id,
                       trainee_id=trainee_id, distance=face.distance)
    interval = open_interval
    statement_id = xapi_records.record(
        session, "checked-out", agent, at=now, enrolment_id=enrolment.id, class_id=enrolment.class_id,
        session_id=cs.id, extensions=ext,
        result={"duration": xapi_records.duration((now - interval.opened_at).total_seconds())})
    interval.last_verified_at = now
    entry = hours.close_interval(session, interval, now, actor, verification.id, statement_id)
    append_audit(session, actor, "presence.closed", interval, {
        "trainee_id": str(trainee_id), "session_id": str(cs.id), "minutes": entry.minutes,
        "verification_id": str(verification.id)})
    return Attempt(True, "", str(_("Checked out: %(m)s minutes credited.", m=entry.minutes)), purpose.value,
                   verification.id, interval.id, entry.minutes, trainee_id=trainee_id, distance=face.distance)


def check_personal(actor: User, purpose: str, nonce: str, frames: Sequence[bytes], device: str = "",
                   online: bool = False, captured_at: datetime | None = None) -> Attempt:
    """Check the signed-in trainee in or out (1:1 against their own template).

    Args:
        actor: the trainee's account. purpose: ``check_in`` or ``check_out``.
        nonce: from `start_check`: a server-paced challenge whose frames were streamed to
            `stream_frame` (``frames`` sent here are not analysed); anything else is refused as
            ``challenge_not_paced``.
        device: the client's description (user agent), stored with the verification.
        online: a check-in starts online study (an online session of the trainee's classes now)
            instead of presence on site; a check-out ends whichever interval is open.
        captured_at: the client's capture time, if sent: too far from the server's clock and the
            check is refused (``clock_skew``); it is never used as the time of anything.

    Returns:
        An `Attempt`; refused ones are stored as failed verifications.

    Raises:
        ValidationError: wrong purpose or frame count. NotFoundError: no trainee record.
        UnavailableError: face models or keys unusable.
    """
    purpose = parse_purpose(purpose)
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        raise NotFoundError(_("Your account is not linked to a trainee record."), code="no_trainee_record")
    trainee_id = trainee.id
    locked = active_lock(db.session, trainee_id) is not None
    skewed = clock_skewed(captured_at)
    face = (None if locked or skewed else paced_evidence(nonce, trainee_id)) or FaceEvidence(trainee_id=trainee_id)
    now = utcnow()
    with transaction() as session:
        lock_trainee(session, trainee_id)
        challenge, reason = consume_challenge(session, nonce, purpose, now, trainee_id=trainee_id)
        if not reason and active_lock(session, trainee_id) is not None:
            reason = Refusal.LOCKED_OUT
        if not reason and not challenge.paced:
            reason = Refusal.CHALLENGE_NOT_PACED
        reason = reason or (Refusal.CLOCK_SKEW if skewed else face.refusal)
        enrolment = cs = None
        if not reason and purpose == Purpose.CHECK_IN:
            enrolment, cs, reason = _current_session(session, trainee_id, now, purpose, online=online)
        attempt = _apply(session, now=now, purpose=purpose, mode=VerificationMode.PERSONAL, face=face,
                         trainee_id=trainee_id, enrolment=enrolment, cs=cs, kiosk=None, challenge=challenge,
                         actor=actor, device=device, reason=reason)
    held_hours.keep_frames(trainee_id, attempt.verification_id, face.frames)
    return attempt


def _uuid_or_none(value) -> uuid.UUID | None:
    """A form field's class id as a UUID; a malformed one names no class (refused, never a 500)."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def check_at_kiosk(kiosk: Kiosk, purpose: str, nonce: str, frames: Sequence[bytes], device: str = "",
                   class_id=None, captured_at: datetime | None = None) -> Attempt:
    """Check in or out whoever stands at the kiosk (1:N over the rosters of the classes running
    at the kiosk's site now). ``class_id``, when sent, must have its session at this site. Only a
    server-paced challenge is accepted (its frames were streamed to `stream_frame`; ``frames``
    sent here are not analysed): anything else is refused as ``challenge_not_paced``.

    Returns and raises as `check_personal`.
    """
    purpose = parse_purpose(purpose)
    skewed = clock_skewed(captured_at)
    face = None if skewed else paced_evidence(nonce, roster=_kiosk_roster(db.session, kiosk, utcnow()))
    now = utcnow()
    with transaction() as session:
        kiosk = session.get(Kiosk, kiosk.id)
        trainee_id = face.trainee_id if face else None
        lock_trainee(session, trainee_id)
        challenge, reason = consume_challenge(session, nonce, purpose, now, kiosk=kiosk)
        if not reason and not challenge.paced:
            reason = Refusal.CHALLENGE_NOT_PACED
        face = face or FaceEvidence()
        reason = reason or (Refusal.CLOCK_SKEW if skewed else "")
        enrolment = cs = None
        # before the face's refusal: at another site the roster searched is empty, which would
        # otherwise be reported as "no session now" instead of the wrong site
        if not reason and class_id is not None:
            wanted = _uuid_or_none(class_id)
            klass = session.get(TrainingClass, wanted) if wanted else None
            if klass is None or not any(s.place == kiosk.site for s in klass.sessions
                                        if _in_window(session, s, now, purpose)):
                reason = Refusal.WRONG_SITE
        reason = reason or face.refusal or (Refusal.KIOSK_LOCKED if kiosk_lock.is_locked(session, trainee_id) else "")
        if not reason and purpose == Purpose.CHECK_IN:
            enrolment, cs, reason = _current_session(session, trainee_id, now, purpose, site=kiosk.site,
                                                     institution_id=kiosk.institution_id)
        attempt = _apply(session, now=now, purpose=purpose, mode=VerificationMode.KIOSK, face=face,
                         trainee_id=trainee_id, enrolment=enrolment, cs=cs, kiosk=kiosk, challenge=challenge,
                         actor=None, device=device, reason=reason)
        if not attempt.accepted:
            kiosk_lock.note_refusal(session, attempt.verification_id, face.candidate_id, now)
    held_hours.keep_frames(attempt.trainee_id, attempt.verification_id, face.frames)
    return attempt


def start_check(actor: User | None, purpose: str, kiosk: Kiosk | None = None,
                camera_label: str | None = None) -> CheckInChallenge:
    """Start a server-paced check for the signed-in trainee or a kiosk (the page then streams
    frames to `stream_frame`): ``check_in`` or ``check_out`` (on site, or starting and ending online
    study), or, for a trainee, ``roll_call`` (answered with `study.answer_roll_call`). Abandoned
    challenges with a face seen count toward the lock-out. ``camera_label``: the page's camera
    name, a risk signal only (`app.services.risk`).

    Raises:
        ValidationError: unknown purpose. PermissionDeniedError: neither a trainee nor a kiosk.
        NotFoundError: no trainee record. ConflictError: locked out (``locked_out``), or too many
            checks started recently (``challenge_rate``).
    """
    purpose = parse_purpose(purpose)
    if purpose == Purpose.ROLL_CALL and kiosk is not None:
        raise ValidationError(_("Purpose must be check_in or check_out."), code="invalid_purpose")
    trainee_id = None if kiosk is not None else _trainee_of(actor)
    now = utcnow()
    if trainee_id is not None:
        with transaction() as session:  # the lock, if due, is kept even though the start is refused
            lock_trainee(session, trainee_id)
            maybe_lock(session, trainee_id, now)
            locked = active_lock(session, trainee_id) is not None
        if locked:
            raise ConflictError(refusal_message(Refusal.LOCKED_OUT), code=Refusal.LOCKED_OUT.value)
    with transaction() as session:
        return face_checks.start_paced(session, purpose, now, trainee_id=trainee_id, kiosk=kiosk,
                                       camera_label=camera_label)


def _trainee_of(actor: User | None):
    if actor is None or not is_trainee(actor):
        raise PermissionDeniedError(_("Only trainees check themselves in."))
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        raise NotFoundError(_("Your account is not linked to a trainee record."), code="no_trainee_record")
    return trainee.id


def stream_frame(actor: User | None, nonce: str, data: bytes, kiosk: Kiosk | None = None) -> dict:
    """One frame of a paced check (see `face_checks.take_frame`)."""
    if kiosk is not None:
        return face_checks.take_frame(nonce, data, kiosk=kiosk)
    return face_checks.take_frame(nonce, data, trainee_id=_trainee_of(actor))


def check_alternative(actor: User, trainee_id, purpose: str, note: str = "") -> Attempt:
    """An instructor checks a trainee in or out by the ID card, for trainees with that
    arrangement, confirmed by a reviewer (no face processed). Counted separately as ``alternative``.

    Raises:
        PermissionDeniedError: not an instructor or admin. ValidationError: bad purpose.
        NotFoundError: no such trainee.
    """
    if not is_staff_actor(actor):
        raise PermissionDeniedError(_("Only instructors record ID-card verifications."))
    purpose = parse_purpose(purpose)
    now = utcnow()
    face = FaceEvidence(trainee_id=trainee_id)
    with transaction() as session:
        if session.get(Trainee, trainee_id) is None:
            raise NotFoundError(_("No such trainee."))
        if not can_act_for_trainee(session, actor, trainee_id):
            raise PermissionDeniedError(_("Only the institution's own instructors may do this."))
        lock_trainee(session, trainee_id)
        arranged = session.scalar(select(AlternativeVerification.confirmed_at).where(
            AlternativeVerification.trainee_id == trainee_id, AlternativeVerification.ended_at.is_(None)))
        reason = "" if arranged else Refusal.NO_ARRANGEMENT  # none, or not yet confirmed by a reviewer
        enrolment = cs = None
        if not reason and purpose == Purpose.CHECK_IN:
            enrolment, cs, reason = _current_session(session, trainee_id, now, purpose)
            if enrolment is not None and not can_act_for(actor, enrolment.training_class.institution_id):
                raise PermissionDeniedError(_("Only the institution's own instructors may do this."))
        if purpose == Purpose.CHECK_OUT:  # the open presence may be in another institution's class
            open_interval = session.scalar(select(PresenceInterval).where(PresenceInterval.open_slot == trainee_id))
            if open_interval is not None and not can_act_for(
                    actor, open_interval.enrolment.training_class.institution_id):
                raise PermissionDeniedError(_("Only the institution's own instructors may do this."))
        return _apply(session, now=now, purpose=purpose, mode=VerificationMode.ALTERNATIVE, face=face,
                      trainee_id=trainee_id, enrolment=enrolment, cs=cs, kiosk=None, challenge=None,
                      actor=actor, device=(note or "ID card")[:200], reason=reason)


def unlock_trainee(actor: User, trainee_id, reason: str) -> CheckInLock:
    """Lift a trainee's lock-out (instructors and admins), audited with the reason.

    Raises:
        PermissionDeniedError: wrong role, or a trainee of another institution. ValidationError: no
            reason. NotFoundError: not locked.
    """
    if not is_staff_actor(actor):
        raise PermissionDeniedError(_("Only instructors unlock check-in."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the lock is lifted."), errors={"reason": _("Required.")})
    with transaction() as session:
        if not can_act_for_trainee(session, actor, trainee_id):
            raise PermissionDeniedError(_("Only the institution's own instructors may do this."))
        lock = active_lock(session, trainee_id)
        if lock is None:
            raise NotFoundError(_("The trainee is not locked out."), code="not_locked")
        lock.unlocked_at, lock.unlocked_by_id, lock.unlock_reason = utcnow(), actor.id, reason
        append_audit(session, actor, "attendance.unlocked", lock, {"trainee_id": str(trainee_id), "reason": reason})
    return lock


def record_past_kiosk_check(session: Session, *, at: datetime, purpose: Purpose, enrolment: Enrolment,
                            cs: ClassSession, kiosk: Kiosk, distance: float, threshold: float) -> Attempt:
    """Write an accepted kiosk check at ``at`` with its interval, ledger credit, statements and
    audit entries exactly as a live one, in the caller's transaction, for the demo seed's
    finished class (`app.services.demo_history`); no face is processed."""
    face = FaceEvidence(liveness_passed=True, liveness_reason="blink", distance=distance, threshold=threshold,
                        trainee_id=enrolment.trainee_id)
    return _apply(session, now=at, purpose=purpose, mode=VerificationMode.KIOSK, face=face,
                  trainee_id=enrolment.trainee_id, enrolment=enrolment, cs=cs, kiosk=kiosk, challenge=None,
                  actor=None, device=f"kiosk-{kiosk.site}", reason="")


# ``Attempt`` and ``is_locked_out`` are re-exported for the API and the pages.
__all__ = ["Attempt", "check_alternative", "check_at_kiosk", "check_personal", "find_session", "is_locked_out",
           "record_past_kiosk_check", "start_check", "stream_frame", "unlock_trainee"]
