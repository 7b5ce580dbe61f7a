"""Corrections of missed check-outs: when a trainee forgot to check out, the scheduler closes
the presence at the last verified face (close reason ``no_check_out``); the class's instructor
may then state when the trainee actually left, with a reason and evidence (the sign-in sheet,
a witness, a camera record).

The correction is a presence interval of its own (mode ``correction``) from the last verified
face to the stated time, credited under the programme's rules, with its statements and audit
entry: the original record stays as it was, and corrected minutes are counted separately.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors.exceptions import ConflictError, NotFoundError, ValidationError
from app.models import IntervalStatus, PresenceInterval, User, VerificationMode
from app.models.base import utcnow
from app.services import hours, xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.policy import can_act_for, require


def correct_missed_check_out(actor: User, interval_id, left_at: datetime, reason: str, evidence: str,
                             now: datetime | None = None) -> PresenceInterval:
    """Credit a trainee's presence from their last verified face to ``left_at``.

    Raises:
        NotFoundError: no such interval. PermissionDeniedError: not an instructor of the class's
            institution (or an admin). ConflictError: the interval did not close for want of a
            check-out, or was corrected already. ValidationError: no reason or evidence, or
            ``left_at`` not after the last verified face, after the session or in the future.
    """
    reason, evidence, now = (reason or "").strip(), (evidence or "").strip(), now or utcnow()
    with transaction() as session:
        missed = session.get(PresenceInterval, interval_id)
        if missed is None:
            raise NotFoundError(_("No such presence record."))
        klass, class_session = missed.enrolment.training_class, missed.class_session
        require(can_act_for(actor, klass.institution_id),
                _("Only the institution's own instructors may do this."))
        if missed.close_reason != hours.NO_CHECK_OUT:
            raise ConflictError(_("Only a presence closed for want of a check-out is corrected."),
                                code="not_missed_check_out")
        if session.scalar(select(PresenceInterval.id).where(PresenceInterval.corrects_interval_id == missed.id)):
            raise ConflictError(_("This missed check-out has been corrected already."), code="corrected_already")
        _check(missed, class_session.ends_at, left_at, reason, evidence, now)
        correction = PresenceInterval(
            enrolment_id=missed.enrolment_id, trainee_id=missed.trainee_id, session_id=missed.session_id,
            mode=VerificationMode.CORRECTION, status=IntervalStatus.OPEN, opened_at=missed.last_verified_at,
            last_verified_at=left_at, corrects_interval_id=missed.id, correction_reason=reason,
            correction_evidence=evidence)
        session.add(correction)
        session.flush()
        agent = xapi_records.trainee_agent(missed.trainee_id)
        ext = {"mode": VerificationMode.CORRECTION.value, "record-id": str(correction.id)}
        where = {"enrolment_id": missed.enrolment_id, "class_id": klass.id, "session_id": class_session.id}
        correction.check_in_statement_id = xapi_records.record(
            session, "checked-in", agent, at=correction.opened_at, extensions=ext, **where)
        statement_id = xapi_records.record(
            session, "checked-out", agent, at=left_at, extensions=ext, **where,
            result={"duration": xapi_records.duration((left_at - correction.opened_at).total_seconds())})
        entry = hours.close_interval(session, correction, left_at, actor, statement_id=statement_id,
                                     reason=hours.CORRECTED)
        append_audit(session, actor, "presence.corrected", correction, {
            "corrects_interval_id": str(missed.id), "trainee_id": str(missed.trainee_id),
            "left_at": left_at.isoformat(), "minutes": entry.minutes, "reason": reason, "evidence": evidence})
    return correction


def _check(missed: PresenceInterval, session_end: datetime, left_at: datetime, reason: str,
           evidence: str, now: datetime) -> None:
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the check-out is corrected.")
    if not evidence:
        errors["evidence"] = _("Name the evidence: the sign-in sheet, a witness or a camera record.")
    if left_at <= missed.last_verified_at:
        errors["left_at"] = _("The time must be after the last verified face.")
    elif left_at > session_end or left_at > now:
        errors["left_at"] = _("The time may not be after the end of the session or in the future.")
    if errors:
        raise ValidationError(" ".join(errors.values()), errors=errors)
