"""Make-up and appeals (补签, 申诉): the trainee files, an instructor of the class decides.

A trainee files for their own enrolment only, for a session of its class, over a span inside the
session window that is over, with a reason category and their words. The span may not overlap
any interval of the same person (online or on site), checked again at approval under the
trainee's lock, so nothing is credited twice. An instructor who may act for the class's
institution approves after an ID-card check or a witnessed face check, or rejects, with a note;
each decision is a conditional update from *pending*, so exactly one decision stands. A witnessed
face check is a real one: the instructor starts a server-paced check of the trainee on their own
device (`start_witnessed_check`, `witness_frame`); the approval consumes it, records it as a face
verification 1:1 against the trainee's template linked to the appeal, and approves only if it
passed (a failed one is kept as evidence and the appeal stays pending). An approval
opens and closes a presence interval of mode ``appeal`` over the span (statements and audit as a
check-in and check-out) and credits it under the programme's and the person's daily caps.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (Appeal, AppealStatus, CheckInChallenge, ClassSession, Enrolment, IntervalStatus, PresenceInterval, Purpose, Role, User, VerificationMode)
from app.models.base import utcnow
from app.queries import biometrics as bio_queries
from app.services import face_checks, hours, xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.face_check_record import record_verification
from app.services.policy import can_act_for, require
from app.services.refusals import refusal_message
from app.services.trainee_lock import lock_trainee

MISSED = {"check_in": _l("a check-in"), "check_out": _l("a check-out"), "roll_call": _l("a face roll-call")}
CATEGORIES = {"network": _l("network trouble"), "device": _l("device trouble"), "lighting": _l("lighting"),
              "face": _l("my face kept failing")}
METHODS = {"id_card": _l("ID-card check"), "witnessed_face": _l("witnessed face check")}


def file_appeal(actor: User, enrolment_id, session_id, missed: str, category: str, statement: str,
                claimed_from: datetime, claimed_to: datetime) -> Appeal:
    """File an appeal for the signed-in trainee's own enrolment.

    Raises:
        NotFoundError: no trainee record, or the enrolment or session is not the trainee's
            (someone else's enrolment is refused the same way). ValidationError: bad fields,
            a span outside the session or not over yet. ConflictError (``overlaps``): the span
            overlaps the person's presence already recorded.
    """
    statement = (statement or "").strip()
    if missed not in MISSED or category not in CATEGORIES or not statement:
        raise ValidationError(_("Say what was missed, why, and in your own words what happened."))
    if claimed_from >= claimed_to:
        raise ValidationError(_("The end of the span must come after its start."))
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        raise NotFoundError(_("Your account is not linked to a trainee record."), code="no_trainee_record")
    now = utcnow()
    with transaction() as session:
        lock_trainee(session, trainee.id)
        enrolment = session.get(Enrolment, enrolment_id)
        cs = session.get(ClassSession, session_id)
        if enrolment is None or enrolment.trainee_id != trainee.id or cs is None or cs.class_id != enrolment.class_id:
            raise NotFoundError(_("No such enrolment or session of yours."))
        if not (cs.starts_at <= claimed_from and claimed_to <= cs.ends_at and claimed_to <= now):
            raise ValidationError(_("The span must lie inside the session, and the session part must be over."))
        _refuse_overlap(session, trainee.id, claimed_from, claimed_to)
        appeal = Appeal(trainee_id=trainee.id, enrolment_id=enrolment.id, class_id=enrolment.class_id,
                        session_id=cs.id, missed=missed, category=category, statement=statement[:2000],
                        claimed_from=claimed_from, claimed_to=claimed_to, status=AppealStatus.PENDING,
                        filed_at=now, method="", decision_note="")
        session.add(appeal)
        session.flush()
        append_audit(session, actor, "appeal.filed", appeal, {
            "enrolment_id": str(enrolment.id), "session_id": str(cs.id), "missed": missed, "category": category,
            "from": claimed_from.isoformat(), "to": claimed_to.isoformat()})
    return appeal


def _refuse_overlap(session: Session, trainee_id, start: datetime, end: datetime) -> None:
    overlapping = session.scalar(select(func.count()).select_from(PresenceInterval).where(
        PresenceInterval.trainee_id == trainee_id, PresenceInterval.opened_at < end,
        func.coalesce(PresenceInterval.closed_at, utcnow()) > start))
    if overlapping:
        raise ConflictError(_("You were already recorded as present during part of this time: "
                              "only time not recorded anywhere can be made up."), code="overlaps")


def _decidable(session: Session, actor: User, appeal_id) -> tuple[Appeal, Enrolment]:
    """The appeal and its enrolment, for an instructor (or admin) of the class's institution."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFoundError(_("No such appeal."))
    enrolment = session.get(Enrolment, appeal.enrolment_id)
    require(actor.role in (Role.INSTRUCTOR, Role.ADMIN)
            and can_act_for(actor, enrolment.training_class.institution_id),
            _("Only the instructors of the class's institution decide its appeals."))
    return appeal, enrolment


def start_witnessed_check(actor: User, appeal_id) -> CheckInChallenge:
    """Start the paced face check of the appeal's trainee, watched by the instructor on their own
    device; the appeal remembers it, so only this check can approve it.

    Raises:
        NotFoundError / PermissionDeniedError as `decide_appeal`. ConflictError: decided already,
            or too many checks started lately (``challenge_rate``).
    """
    with transaction() as session:
        appeal, _enrolment = _decidable(session, actor, appeal_id)
        if appeal.status != AppealStatus.PENDING:
            raise ConflictError(_("This appeal was decided already."), code="already_decided")
        challenge = face_checks.start_paced(session, Purpose.WITNESS, utcnow(), trainee_id=appeal.trainee_id)
        appeal.witness_challenge_id = challenge.id
        append_audit(session, actor, "appeal.witness_started", appeal, {"challenge_id": str(challenge.id)})
    return challenge


def witness_frame(actor: User, appeal_id, nonce: str, data: bytes) -> dict:
    """One frame of the appeal's witnessed check (see `face_checks.take_frame`).

    Raises:
        NotFoundError: not the check started for this appeal. PermissionDeniedError: as above.
    """
    appeal, _enrolment = _decidable(db.session, actor, appeal_id)
    challenge = db.session.get(CheckInChallenge, appeal.witness_challenge_id) if appeal.witness_challenge_id else None
    trainee_id = appeal.trainee_id
    db.session.rollback()
    if challenge is None or challenge.nonce != (nonce or "")[:64]:
        raise NotFoundError(_("This face check was not started for this appeal. Start it again."),
                            code="unknown_nonce")
    return face_checks.take_frame(nonce, data, trainee_id=trainee_id)


def decide_appeal(actor: User, appeal_id, approve: bool, method: str, note: str, nonce: str = "",
                  device: str = "") -> Appeal:
    """Approve (after an ID-card check, or a witnessed face check: ``nonce`` of the paced check
    started by `start_witnessed_check`) or reject an appeal.

    A witnessed check is recorded as a face verification of the trainee, linked to the appeal,
    whether it passed or not; only a passed one approves.

    Returns:
        The appeal; an approved one names its credited interval.

    Raises:
        NotFoundError: no such appeal. PermissionDeniedError: not an instructor of the class's
            institution. ValidationError: no note, or an approval without a method.
        ConflictError: decided already (``already_decided``), the span now overlaps presence, or
            the witnessed check is not this appeal's or did not pass (``witness_failed``).
    """
    note = (note or "").strip()
    if not note or (approve and method not in METHODS):
        raise ValidationError(_("Say how you checked the trainee (ID card or witnessed face check) and why."))
    witnessed = approve and method == "witnessed_face"
    face = _witness_evidence(appeal_id, nonce) if witnessed else None
    with transaction() as session:
        appeal, enrolment = _decidable(session, actor, appeal_id)
        lock_trainee(session, appeal.trainee_id)
        now = utcnow()
        refusal = _witness(session, actor, appeal, enrolment, nonce, face, device, now) if witnessed else ""
        if not refusal:
            _decide(session, actor, appeal, enrolment, approve, method, note, now)
    if refusal:
        raise ConflictError(_("The witnessed face check did not pass: %(why)s Nothing was approved.",
                              why=refusal_message(refusal)), code="witness_failed")
    db.session.expire_all()
    return db.session.get(Appeal, appeal_id)


def _witness_evidence(appeal_id, nonce: str) -> face_checks.FaceEvidence:
    """The face decision of the witnessed check, computed before the transaction."""
    appeal = db.session.get(Appeal, appeal_id)
    trainee_id = appeal.trainee_id if appeal is not None else None
    db.session.rollback()
    face = face_checks.paced_evidence(nonce, trainee_id) if trainee_id is not None else None
    if face is None:
        raise ValidationError(_("Run the witnessed face check with the trainee in front of you first."),
                              code="no_witness_check")
    return face


def _witness(session: Session, actor: User, appeal: Appeal, enrolment: Enrolment, nonce: str,
             face: face_checks.FaceEvidence, device: str, now: datetime) -> str:
    """Consume the appeal's witnessed check and record it as a verification linked to the appeal;
    the refusal code, or "" when it passed."""
    challenge, reason = face_checks.consume_challenge(session, nonce, Purpose.WITNESS, now,
                                                      trainee_id=appeal.trainee_id)
    if challenge is None or challenge.id != appeal.witness_challenge_id:
        raise NotFoundError(_("This face check was not started for this appeal. Start it again."),
                            code="unknown_nonce")
    if appeal.status != AppealStatus.PENDING:
        raise ConflictError(_("This appeal was decided already."), code="already_decided")
    reason = reason or face.refusal
    verification = record_verification(
        session, now=now, purpose=Purpose.WITNESS, mode=VerificationMode.APPEAL, face=face, reason=reason,
        trainee_id=appeal.trainee_id, enrolment=enrolment, cs=session.get(ClassSession, appeal.session_id),
        kiosk=None, challenge=challenge, actor=actor, device=device)
    appeal.witness_verification_id = verification.id
    if reason:
        append_audit(session, actor, "appeal.witness_failed", appeal, {
            "verification_id": str(verification.id), "reason": reason})
    return reason


def _decide(session: Session, actor: User, appeal: Appeal, enrolment: Enrolment, approve: bool, method: str,
            note: str, now: datetime) -> None:
    """The one decision of a pending appeal (a conditional update), and an approval's credit."""
    won = session.execute(update(Appeal).where(Appeal.id == appeal.id, Appeal.status == AppealStatus.PENDING)
                          .values(status=AppealStatus.APPROVED if approve else AppealStatus.REJECTED,
                                  decided_at=now, decided_by_id=actor.id, method=method if approve else "",
                                  decision_note=note).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise ConflictError(_("This appeal was decided already."), code="already_decided")
    minutes = None
    if approve:
        _refuse_overlap(session, appeal.trainee_id, appeal.claimed_from, appeal.claimed_to)
        interval, minutes = _credit(session, actor, appeal, enrolment, method, now)
        session.execute(update(Appeal).where(Appeal.id == appeal.id).values(interval_id=interval.id)
                        .execution_options(synchronize_session=False))
    append_audit(session, actor, "appeal.approved" if approve else "appeal.rejected", appeal, {
        "method": method if approve else "", "note": note, "minutes": minutes,
        "witness_verification_id": str(appeal.witness_verification_id) if appeal.witness_verification_id else None})


def _credit(session: Session, actor: User, appeal: Appeal, enrolment: Enrolment, method: str, now: datetime):
    """The interval of an approved appeal, opened and closed over its span, and its credit."""
    agent = xapi_records.trainee_agent(appeal.trainee_id)
    ext = {"mode": VerificationMode.APPEAL.value, "reason": f"appeal:{method}", "record-id": str(appeal.id)}
    interval = PresenceInterval(enrolment_id=enrolment.id, trainee_id=appeal.trainee_id, session_id=appeal.session_id,
                                mode=VerificationMode.APPEAL, status=IntervalStatus.CLOSED, open_slot=None,
                                opened_at=appeal.claimed_from, last_verified_at=appeal.claimed_to,
                                closed_at=appeal.claimed_to)
    common = {"enrolment_id": enrolment.id, "class_id": enrolment.class_id, "session_id": appeal.session_id}
    interval.check_in_statement_id = xapi_records.record(session, "checked-in", agent, at=now, extensions=ext,
                                                         **common)
    interval.check_out_statement_id = xapi_records.record(
        session, "checked-out", agent, at=now, extensions=ext, **common,
        result={"duration": xapi_records.duration((appeal.claimed_to - appeal.claimed_from).total_seconds())})
    session.add(interval)
    session.flush()
    append_audit(session, actor, "presence.made_up", interval, {
        "appeal_id": str(appeal.id), "from": appeal.claimed_from.isoformat(), "to": appeal.claimed_to.isoformat()})
    entry = hours.credit_interval(session, interval, actor)
    return interval, entry.minutes


def mine(actor: User) -> list[Appeal]:
    """The signed-in trainee's appeals, newest first (read-only)."""
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        return []
    return list(db.session.scalars(select(Appeal).where(Appeal.trainee_id == trainee.id)
                                   .order_by(Appeal.filed_at.desc())))


def for_class(actor: User, klass) -> list[Appeal]:
    """A class's appeals, pending first (read-only; instructors of its institution)."""
    require(actor.role in (Role.INSTRUCTOR, Role.ADMIN) and can_act_for(actor, klass.institution_id),
            _("Only the instructors of the class's institution decide its appeals."))
    return list(db.session.scalars(select(Appeal).where(Appeal.class_id == klass.id)
                                   .order_by(Appeal.status.desc(), Appeal.filed_at)))
