"""The bureau's subsidy claim workflow: the institution submits a prepared claim, a reviewer
decides every eligible line at once (accepted, or returned with the reason), accepted lines go
into public notice (公示) for ``SUBSIDY_NOTICE_WORKING_DAYS`` working days, and once the notice
is over the claim is marked paid with the payment reference.

Every step checks who acts and in which state, and writes its audit entry and its xAPI statement
(actor = the staff account, object = the claim) in the same commit.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.clock import local_today
from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.models import ClaimStatus, Role, SubsidyClaim, User
from app.models.base import utcnow
from app.queries import subsidy as queries
from app.services import xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.holidays import is_working_day
from app.services.policy import can_act_for, require

ACCEPT, RETURN = "accepted", "returned"
PAYERS = (Role.REVIEWER, Role.ADMIN)


def working_days_after(start: date, days: int) -> date:
    """The ``days``-th working day after ``start``: weekends and public holidays skipped, weekend
    days worked instead (调休) counted (`holidays.is_working_day`)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def _claim(session: Session, claim_id) -> SubsidyClaim:
    claim = session.get(SubsidyClaim, claim_id, with_for_update=True)
    if claim is None:
        raise NotFoundError(_("No such claim."))
    return claim


def _state(claim: SubsidyClaim, *allowed: ClaimStatus) -> None:
    if claim.status not in allowed:
        raise ConflictError(_("The claim is not at this step (it is %(status)s).", status=status_label(claim.status)),
                            code="wrong_state")


def _record(session: Session, actor: User, verb: str, claim: SubsidyClaim, now: datetime, action: str,
            payload: dict, result: dict | None = None) -> None:
    xapi_records.record(session, verb, xapi_records.staff_agent(actor.id), at=now, class_id=claim.class_id,
                        object_=xapi_records.claim_activity(claim.id), result=result,
                        extensions={"record-id": str(claim.id)})
    append_audit(session, actor, action, claim, {"version": claim.version, **payload})


def submit_claim(actor: User, claim_id, now: datetime | None = None) -> SubsidyClaim:
    """The institution submits its newest prepared (or returned) claim to the bureau.

    Raises:
        NotFoundError: no such claim. PermissionDeniedError: not staff of the class's institution.
        ConflictError: not the newest version, not prepared or returned, or no eligible line.
    """
    now = now or utcnow()
    with transaction() as session:
        claim = _claim(session, claim_id)
        require(can_act_for(actor, claim.training_class.institution_id),
                _("Only the institution's own staff submit its claims."))
        _state(claim, ClaimStatus.PREPARED, ClaimStatus.RETURNED)
        if queries.get_latest_claim(session, claim.class_id).id != claim.id:
            raise ConflictError(_("A newer version of this claim exists: submit that one."), code="not_latest")
        if not claim.eligible_count:
            raise ConflictError(_("The claim has no eligible line."), code="nothing_to_claim")
        claim.status, claim.submitted_at, claim.submitted_by_id = ClaimStatus.SUBMITTED, now, actor.id
        for line in claim.lines:
            line.review, line.review_reason = "", ""
        _record(session, actor, "submitted-claim", claim, now, "subsidy.claim_submitted",
                {"total": f"{claim.total_amount:.2f}", "eligible": claim.eligible_count})
    return claim


def review_claim(actor: User, claim_id, decisions: dict[str, tuple[str, str]],
                 now: datetime | None = None) -> SubsidyClaim:
    """Decide every eligible line at once: ``decisions`` maps each line id to (``accepted`` or
    ``returned``, reason); a returned line needs its reason. Accepted lines enter the public
    notice; with none accepted the claim is returned to the institution.

    Raises:
        PermissionDeniedError: not a reviewer, or a reviewer of the claim's own institution.
        ConflictError: the claim is not submitted. ValidationError: a line undecided, an unknown
            decision or a return without its reason (nothing is changed then).
    """
    if actor.role != Role.REVIEWER:
        raise PermissionDeniedError(_("Only reviewers of the bureau review claims."))
    now = now or utcnow()
    with transaction() as session:
        claim = _claim(session, claim_id)
        if actor.institution_id is not None and actor.institution_id == claim.training_class.institution_id:
            raise PermissionDeniedError(_("You may not review a claim of your own institution."))
        _state(claim, ClaimStatus.SUBMITTED)
        eligible = [line for line in claim.lines if line.eligible]
        errors = {}
        for line in eligible:
            decision, reason = decisions.get(str(line.id), ("", ""))
            if decision not in (ACCEPT, RETURN):
                errors[str(line.id)] = _("Accept or return the line of %(name)s.", name=line.trainee.name)
            elif decision == RETURN and not (reason or "").strip():
                errors[str(line.id)] = _("Say why the line of %(name)s is returned.", name=line.trainee.name)
        if errors:
            raise ValidationError(" ".join(errors.values()), errors=errors)
        for line in eligible:
            decision, reason = decisions[str(line.id)]
            line.review, line.review_reason = decision, (reason or "").strip() if decision == RETURN else ""
        accepted = [line for line in eligible if line.review == ACCEPT]
        claim.reviewed_at, claim.reviewed_by_id = now, actor.id
        claim.accepted_amount = sum((line.amount for line in accepted), Decimal("0.00"))
        if accepted:
            claim.status, claim.notice_from = ClaimStatus.IN_NOTICE, local_today(now)
            claim.notice_until = working_days_after(claim.notice_from,
                                                    current_app.config["SUBSIDY_NOTICE_WORKING_DAYS"])
        else:
            claim.status = ClaimStatus.RETURNED
        _record(session, actor, "reviewed-claim", claim, now, "subsidy.claim_reviewed", {
            "status": claim.status.value, "accepted_amount": f"{claim.accepted_amount:.2f}",
            "accepted": [line.trace_id for line in accepted],
            "returned": {line.trace_id: line.review_reason for line in eligible if line.review == RETURN},
            "notice_until": claim.notice_until.isoformat() if claim.notice_until else None},
            result={"success": bool(accepted), "response": f"{claim.accepted_amount:.2f}"})
    return claim


def mark_paid(actor: User, claim_id, reference: str, now: datetime | None = None) -> SubsidyClaim:
    """Record the payment of a claim's accepted lines once its public notice is over.

    Raises:
        PermissionDeniedError: not a reviewer or an administrator. ConflictError: not in notice, or
            the notice not over yet. ValidationError: no payment reference.
    """
    if actor.role not in PAYERS:
        raise PermissionDeniedError(_("Only the bureau marks claims paid."))
    now, reference = now or utcnow(), (reference or "").strip()
    if not reference or len(reference) > 100:
        raise ValidationError(_("Enter the payment reference (up to 100 characters)."),
                              errors={"reference": _("Required.")})
    with transaction() as session:
        claim = _claim(session, claim_id)
        _state(claim, ClaimStatus.IN_NOTICE)
        if local_today(now) <= claim.notice_until:
            raise ConflictError(_("The public notice runs until %(day)s; pay after it.",
                                  day=claim.notice_until.isoformat()), code="notice_running")
        claim.status, claim.paid_at, claim.paid_by_id = ClaimStatus.PAID, now, actor.id
        claim.payment_reference = reference
        _record(session, actor, "paid-claim", claim, now, "subsidy.claim_paid",
                {"amount": f"{claim.accepted_amount:.2f}", "reference": reference},
                result={"success": True, "response": reference})
    return claim


STATUS_LABELS = {
    ClaimStatus.PREPARED: _l("prepared, not submitted"), ClaimStatus.SUBMITTED: _l("submitted, under review"),
    ClaimStatus.RETURNED: _l("returned to the institution"), ClaimStatus.IN_NOTICE: _l("accepted, in public notice"),
    ClaimStatus.PAID: _l("paid"),
}


def status_label(status: ClaimStatus) -> str:
    """The claim status in words."""
    return str(STATUS_LABELS[status])
