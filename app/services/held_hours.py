"""Held hours and their review queue (issue 16): risky credits wait for an instructor.

`hours.credit_interval` writes a risky credit (a risky study, or an interval whose check-in or
check-out scored at or above ``RISK_HOLD_SCORE``, `app.services.risk`) to the ledger as usual
and holds it (`HeldHours`, with its reasons in words for the trainee); held minutes do not
count towards progress or subsidy (`hours.progress`). An instructor of the class (``policy.can_act_for``) accepts them —
they count from then on — or rejects them, which appends the reversing entry. Either way with a
reason, an audit entry and an xAPI statement, in one commit. Each decision is a conditional
update from *pending*, so of two instructors deciding the same item at once exactly one stands;
the other is told it was decided already.

The face evidence of an item (the sealed frames of its interval's checks, `face_images`) is kept
whatever the image retention while the item waits — and, before the item exists, while its
interval is open with a reason to hold it already known (a risky check-in, a roll-call failed
then passed): `held_evidence`. Once decided, frames the retention period does not cover go.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (Enrolment, FaceVerification, HeldHours, HeldStatus, HoursEntry, IntervalStatus,
                        PresenceInterval, Purpose, Role, StudyRollCall, StudyState, TrainingClass, User)
from app.models.base import utcnow
from app.queries import biometrics as bio_queries
from app.services import face_images, hours, risk, xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.policy import can_act_for, can_view_held_evidence, require

#: Why hours are held, in words (shown to the trainee and in the queue's filter).
REASONS = {
    "roll_call_failed_then_passed": _l("A face roll-call failed or was missed, and a later one passed."),
    "heartbeats_too_regular": _l("The study page's signals came at machine-regular intervals."),
    "no_interaction": _l("No keyboard, mouse or touch activity was seen during the study."),
    **risk.REASON_WORDS,  # a risky on-site or kiosk check (issue 15)
}


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


def _class_for(session: Session, actor: User, class_id) -> TrainingClass:
    klass = session.get(TrainingClass, class_id)
    if klass is None:
        raise NotFoundError(_("No such class."))
    require(actor.role in (Role.INSTRUCTOR, Role.ADMIN) and can_act_for(actor, klass.institution_id),
            _("Only the instructors of the class's institution review its held hours."))
    return klass


def _interval_evidence(session: Session, interval: PresenceInterval) -> list:
    """The face verifications of an interval: its check-in, every roll-call answer or miss while
    it was open, and its check-out."""
    query = select(FaceVerification.id).where(
        FaceVerification.enrolment_id == interval.enrolment_id, FaceVerification.purpose == Purpose.ROLL_CALL,
        FaceVerification.at >= interval.opened_at)
    if interval.closed_at is not None:
        query = query.where(FaceVerification.at <= interval.closed_at)
    calls = session.scalars(query.order_by(FaceVerification.at)).all()
    ids = [interval.check_in_verification_id, *calls, interval.check_out_verification_id]
    return [v for v in ids if v is not None]


def _evidence_ids(session: Session, held: HeldHours) -> list:
    """The face verifications of a held item's interval (`_interval_evidence`)."""
    interval = session.get(PresenceInterval, held.interval_id) if held.interval_id else None
    return [] if interval is None else _interval_evidence(session, interval)


def _evidence(session: Session, held: HeldHours, trainee_id) -> list[dict]:
    """Each evidence verification with how many sealed frames are kept for it."""
    rows = []
    for verification_id in _evidence_ids(session, held):
        verification = session.get(FaceVerification, verification_id)
        rows.append({"verification": verification,
                     "frames": len(face_images.kept(trainee_id, verification_id))})
    return rows


def held_evidence(session: Session, trainee_id=None) -> frozenset[str]:
    """The verification ids (as text) whose frames are evidence of hours held for review (of one
    trainee, or everyone's): those of pending held items, and those of open intervals that
    already carry a reason to hold their credit (`hours.risky_check_reasons`, the study's
    signals). Their frames are kept whatever the retention period until the decision."""
    pending = select(HeldHours).where(HeldHours.status == HeldStatus.PENDING)
    open_ = select(PresenceInterval).where(PresenceInterval.status == IntervalStatus.OPEN)
    if trainee_id is not None:
        pending = pending.join(Enrolment, Enrolment.id == HeldHours.enrolment_id).where(
            Enrolment.trainee_id == trainee_id)
        open_ = open_.where(PresenceInterval.trainee_id == trainee_id)
    ids = [v for held in session.scalars(pending) for v in _evidence_ids(session, held)]
    for interval in session.scalars(open_):
        study = session.scalar(select(StudyState).where(StudyState.interval_id == interval.id))
        if (study is not None and hours.hold_reasons(study)) or hours.risky_check_reasons(session, interval):
            ids += _interval_evidence(session, interval)
    return frozenset(str(v) for v in ids)


def keep_frames(trainee_id, verification_id, frames) -> int:
    """Keep a recorded check's frames (`face_images.retain`): held evidence whatever the retention
    period when the check is part of hours held or about to be held (`held_evidence`)."""
    held = trainee_id is not None and verification_id is not None and bool(frames) and (
        str(verification_id) in held_evidence(db.session, trainee_id))
    db.session.rollback()
    return face_images.retain(trainee_id, verification_id, frames, held=held)


def pending_evidence() -> frozenset[str]:
    """`held_evidence` of everyone (for the purge job): kept until the decision, whatever the
    retention period (then the retention rules apply)."""
    return held_evidence(db.session)


def evidence_frame(actor: User, class_id, held_id, verification_id, n: int) -> bytes:
    """One sealed evidence frame of a held item, unsealed for the class's instructor.

    Raises:
        NotFoundError: no such class, held item of the class, evidence verification or frame.
        PermissionDeniedError: not an instructor named on the class (`policy.can_view_held_evidence`).
    """
    session = db.session
    klass = session.get(TrainingClass, class_id)
    if klass is None:
        raise NotFoundError(_("No such class."))
    require(can_view_held_evidence(actor, klass), _("Only the instructors of the class see the face evidence."))
    held = session.get(HeldHours, held_id)
    if held is None or held.class_id != klass.id or verification_id not in _evidence_ids(session, held):
        raise NotFoundError(_("No such held item."))
    enrolment = session.get(Enrolment, held.enrolment_id)
    frames = face_images.kept(enrolment.trainee_id, verification_id)
    if not 0 <= n < len(frames):
        raise NotFoundError(_("This picture is no longer kept."))
    return frames[n]


def queue(actor: User, class_id, reason: str | None = None, status: str = "pending") -> list[dict]:
    """The class's held items with their evidence: minutes, reasons, the roll-calls of the
    interval with their face distances, the sealed frames kept (counted; shown only to the
    class's instructors, `evidence_frame`), and the trainee (read-only).

    Raises:
        NotFoundError: no such class. PermissionDeniedError: not an instructor of its institution.
    """
    session = db.session
    klass = _class_for(session, actor, class_id)
    frames_visible = can_view_held_evidence(actor, klass)
    query = select(HeldHours, HoursEntry, Enrolment).join(HoursEntry, HoursEntry.id == HeldHours.entry_id).join(
        Enrolment, Enrolment.id == HeldHours.enrolment_id).where(HeldHours.class_id == class_id)
    if status:
        query = query.where(HeldHours.status == status)
    items = []
    for held, entry, enrolment in session.execute(query.order_by(HeldHours.held_at)).all():
        if reason and reason not in (held.reasons or []):
            continue
        calls = session.execute(select(StudyRollCall, FaceVerification).outerjoin(
            FaceVerification, FaceVerification.id == StudyRollCall.verification_id).where(
            StudyRollCall.interval_id == held.interval_id).order_by(StudyRollCall.due_at)).all()
        items.append({"held": held, "entry": entry, "trainee": enrolment.trainee,
                      "reasons": [reason_text(r) for r in held.reasons or []],
                      "roll_calls": [{"due_at": c.due_at, "outcome": c.outcome.value,
                                      "distance": v.distance if v is not None else None,
                                      "liveness": v.liveness_reason if v is not None else ""} for c, v in calls],
                      "evidence": _evidence(session, held, enrolment.trainee_id) if frames_visible else []})
    return items


def decide(actor: User, held_ids: Sequence, accept: bool, reason: str) -> int:
    """Accept or reject held items of one or more classes, all or none, with a reason.

    Returns:
        How many items were decided.

    Raises:
        ValidationError: no reason or no item. NotFoundError: an unknown item.
        PermissionDeniedError: an item of a class the actor may not act for.
        ConflictError (``already_decided``): an item was decided already (nothing is changed).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the hours are accepted or rejected."), errors={"reason": _("Required.")})
    if not held_ids:
        raise ValidationError(_("Choose at least one held item."))
    with transaction() as session:
        decided = [_decide_one(session, actor, held_id, accept, reason) for held_id in held_ids]
    for trainee_id, evidence in decided:  # the frames kept for the review go (audited)
        face_images.forget_decided(trainee_id, evidence, keep=held_evidence(db.session, trainee_id))
    db.session.rollback()
    return len(held_ids)


def _decide_one(session: Session, actor: User, held_id, accept: bool, reason: str) -> tuple:
    """Decide one item; returns (trainee id, its evidence verification ids) for the frames to go."""
    held = session.get(HeldHours, held_id)
    if held is None:
        raise NotFoundError(_("No such held item."))
    _class_for(session, actor, held.class_id)
    now = utcnow()
    status = HeldStatus.ACCEPTED if accept else HeldStatus.REJECTED
    won = session.execute(update(HeldHours).where(HeldHours.id == held.id, HeldHours.status == HeldStatus.PENDING)
                          .values(status=status, decided_at=now, decided_by_id=actor.id, decision_reason=reason)
                          .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise ConflictError(_("These held hours were decided already by someone else."), code="already_decided")
    entry = session.get(HoursEntry, held.entry_id)
    enrolment = session.get(Enrolment, held.enrolment_id)
    if accept:
        statement_id = xapi_records.record(
            session, "accepted-held", xapi_records.trainee_agent(enrolment.trainee_id), at=now,
            enrolment_id=enrolment.id, class_id=enrolment.class_id,
            extensions={"minutes": held.minutes, "reason": reason, "record-id": str(entry.id)},
            result={"duration": xapi_records.duration(held.minutes * 60), "success": True})
    else:
        statement_id = hours.append_reversal(session, entry, enrolment, actor, reason).statement_id
    session.execute(update(HeldHours).where(HeldHours.id == held.id).values(decision_statement_id=statement_id)
                    .execution_options(synchronize_session=False))
    append_audit(session, actor, "hours.held_accepted" if accept else "hours.held_rejected", held, {
        "entry_id": str(entry.id), "minutes": held.minutes, "reasons": held.reasons, "reason": reason,
        "statement_id": str(statement_id)})
    return enrolment.trainee_id, _evidence_ids(session, held)


def mine(actor: User) -> list[dict]:
    """The signed-in trainee's held items, with the reasons in words (read-only)."""
    trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        return []
    rows = db.session.scalars(select(HeldHours).join(Enrolment, Enrolment.id == HeldHours.enrolment_id)
                              .where(Enrolment.trainee_id == trainee.id).order_by(HeldHours.held_at.desc())).all()
    return [{"held": h, "reasons": [reason_text(r) for r in h.reasons or []]} for h in rows]
