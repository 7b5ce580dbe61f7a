"""Final assessment and completion (R7, 结业考核): record or correct an enrolment's theory and
practical results, issue its completion certificate (结业证书) once, and mark a class completed.

Results are recorded by an instructor of the class or an administrator. A correction replaces
the result only with a reason; the earlier result goes into the audit payload. Every result is
also an xAPI statement (passed/failed, ``context.registration`` = the enrolment) in the same
transaction. A certificate is issued only after the class's last session has ended, to a trainee
with verified minutes (exemptions alone never earn one), complete hours (``hours.progress``) and
a passed assessment; its serial is ``<institution code>-<year>-<5-digit sequence of that institution and year>``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import local_today
from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.models import (Assessment, ClassStatus, CompletionCertificate, Enrolment,
                        EvaluationOrganisation, Institution, TrainingClass, User)
from app.models.base import utcnow
from app.services import hours, xapi_records
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services import policy
from app.services.classes import get_class_or_404

ASSESSABLE = (ClassStatus.APPROVED, ClassStatus.RUNNING, ClassStatus.COMPLETED)
SCORE_STEP = Decimal("0.1")


def is_class_staff(actor: User, klass: TrainingClass) -> bool:
    """An administrator, or an instructor of the class's institution named on the class."""
    return policy.is_class_instructor(actor, klass)


@dataclass(frozen=True)
class AssessmentInput:
    """A result as entered: scores 0–100 (strings, ints or Decimals), date, organisation."""

    theory_score: object
    practical_score: object
    assessed_on: date | None
    evaluation_organisation_id: object
    reason: str = ""


def _score(value, field: str, errors: dict) -> Decimal | None:
    try:
        score = Decimal(str(value).strip()).quantize(SCORE_STEP)
    except (InvalidOperation, ValueError):
        errors[field] = _("Enter a score from 0 to 100.")
        return None
    if not Decimal(0) <= score <= Decimal(100):
        errors[field] = _("Enter a score from 0 to 100.")
        return None
    return score


def _snapshot(a: Assessment) -> dict:
    return {"theory_score": str(a.theory_score), "practical_score": str(a.practical_score),
            "pass_mark": [str(a.theory_pass_mark), str(a.practical_pass_mark)], "passed": a.passed,
            "assessed_on": a.assessed_on.isoformat(),
            "evaluation_organisation_id": str(a.evaluation_organisation_id),
            "recorded_by_id": str(a.recorded_by_id) if a.recorded_by_id else None,
            "statement_id": str(a.statement_id) if a.statement_id else None}


def _statement(session: Session, enrolment: Enrolment, a: Assessment, organisation) -> None:
    mean = (a.theory_score + a.practical_score) / 2
    a.statement_id = xapi_records.record(
        session, "passed" if a.passed else "failed", xapi_records.trainee_agent(enrolment.trainee_id),
        at=a.recorded_at, enrolment_id=enrolment.id, class_id=enrolment.class_id,
        extensions={"theory-score": float(a.theory_score), "practical-score": float(a.practical_score),
                    "evaluation-organisation": organisation.code, "record-id": str(a.id)},
        result={"success": a.passed, "completion": True,
                "score": {"min": 0, "max": 100, "raw": float(mean), "scaled": float(mean / 100)}})


def _check_input(session: Session, data: AssessmentInput,
                 now: datetime) -> tuple[Decimal, Decimal, EvaluationOrganisation]:
    errors = {}
    theory = _score(data.theory_score, "theory_score", errors)
    practical = _score(data.practical_score, "practical_score", errors)
    if data.assessed_on is None:
        errors["assessed_on"] = _("Required.")
    elif data.assessed_on > local_today(now):
        errors["assessed_on"] = _("The date is in the future.")
    try:
        organisation = session.get(EvaluationOrganisation, uuid.UUID(str(data.evaluation_organisation_id)))
    except ValueError:
        organisation = None
    if organisation is None or not organisation.is_listed:
        errors["evaluation_organisation_id"] = _("Choose a listed evaluation organisation.")
    if errors:
        raise ValidationError.of_fields(errors)
    return theory, practical, organisation


def record_assessment(actor: User, enrolment_id, data: AssessmentInput,
                      now: datetime | None = None) -> Assessment:
    """Record an enrolment's final assessment, or correct it (a reason is then required).
    ``now`` (default: the current instant) decides Beijing's "today", which the date may not pass.

    Raises:
        NotFoundError: no such enrolment. PermissionDeniedError: not the class's instructor or
            an admin. ConflictError: the class is not approved, running or completed.
        ValidationError: a score outside 0–100, no date, an unlisted organisation, or a
            correction without a reason.
    """
    reason, now = (data.reason or "").strip(), now or utcnow()
    with transaction() as session:
        enrolment = session.get(Enrolment, enrolment_id, with_for_update=True)  # one recorder at a time
        if enrolment is None:
            raise NotFoundError(_("No such enrolment."))
        klass = enrolment.training_class
        if not is_class_staff(actor, klass):
            raise PermissionDeniedError(_("Only the class's instructors or an administrator record results."))
        if klass.status not in ASSESSABLE:
            raise ConflictError(_("Only an approved, running or completed class is assessed."), code="wrong_state")
        theory, practical, organisation = _check_input(session, data, now)
        existing = session.scalar(select(Assessment).where(Assessment.enrolment_id == enrolment.id))
        if existing is not None and not reason:
            raise ValidationError(_("Say why the result is corrected."), errors={"reason": _("Required.")})
        earlier = _snapshot(existing) if existing is not None else None
        mark = Decimal(current_app.config["ASSESSMENT_PASS_MARK"]).quantize(SCORE_STEP)
        a = existing or Assessment(enrolment_id=enrolment.id)
        a.theory_score, a.practical_score, a.theory_pass_mark, a.practical_pass_mark = theory, practical, mark, mark
        a.passed = theory >= mark and practical >= mark
        a.assessed_on, a.evaluation_organisation_id = data.assessed_on, organisation.id
        a.recorded_by_id, a.recorded_at, a.correction_reason = actor.id, now, reason
        session.add(a)
        session.flush()
        _statement(session, enrolment, a, organisation)
        payload = {"enrolment_id": str(enrolment.id), **_snapshot(a)}
        if earlier is not None:
            payload.update(reason=reason, earlier=earlier)
        append_audit(session, actor, "assessment.corrected" if earlier else "assessment.recorded", a, payload)
    return a


def sessions_to_come(klass: TrainingClass, now: datetime | None = None) -> int:
    """How many of the class's sessions have not ended yet."""
    now = now or utcnow()
    return sum(1 for s in klass.sessions if s.ends_at > now)


def _refuse_early(klass: TrainingClass, message: str, now: datetime | None = None) -> None:
    remaining = sessions_to_come(klass, now)
    if remaining:
        raise ConflictError(message % {"n": remaining}, code="sessions_remaining")


def _next_serial(session: Session, klass: TrainingClass, year: int) -> str:
    prefix = f"{klass.institution.code}-{year}-"
    issued = session.scalar(select(func.count(CompletionCertificate.id))
                            .where(CompletionCertificate.serial.startswith(prefix, autoescape=True))) or 0
    return f"{prefix}{issued + 1:05d}"


def issue_certificate(actor: User, enrolment_id, now: datetime | None = None) -> CompletionCertificate:
    """Issue the enrolment's completion certificate, dated Beijing's day at ``now`` (default: the
    current instant); issuing again returns the one issued.

    Raises:
        NotFoundError: no such enrolment. PermissionDeniedError: not the class's instructor or
            an admin. ConflictError: a session still to come (``sessions_remaining``), no verified
            minutes (``no_verified_minutes``), hours incomplete (``hours_incomplete``) or the
            assessment missing or failed (``not_passed``).
    """
    with transaction() as session:
        enrolment = session.get(Enrolment, enrolment_id)
        if enrolment is None:
            raise NotFoundError(_("No such enrolment."))
        klass = enrolment.training_class
        if not is_class_staff(actor, klass):
            raise PermissionDeniedError(_("Only the class's instructors or an administrator issue certificates."))
        # serials are numbered per institution: one issuer at a time (PostgreSQL row lock)
        session.execute(select(Institution.id).where(Institution.id == klass.institution_id).with_for_update())
        issued = session.scalar(select(CompletionCertificate).where(
            CompletionCertificate.enrolment_id == enrolment.id))
        if issued is not None:
            return issued
        _refuse_early(klass, _("%(n)s sessions of the class are still to come: the completion certificate "
                               "is issued after the last one."), now)
        progress = hours.progress(session, enrolment)
        if progress.net <= 0:
            raise ConflictError(_("The trainee has no verified minutes: exemptions alone earn no completion "
                                  "certificate."), code="no_verified_minutes")
        if progress.net < progress.needed:
            raise ConflictError(_("The hours are not complete."), code="hours_incomplete")
        if progress.practical_short:
            raise ConflictError(_("The practice hours are short of the programme's practical share."),
                                code="practice_short")
        assessment = session.scalar(select(Assessment).where(Assessment.enrolment_id == enrolment.id))
        if assessment is None or not assessment.passed:
            raise ConflictError(_("The assessment is not passed."), code="not_passed")
        day = local_today(now)
        certificate = CompletionCertificate(enrolment_id=enrolment.id, issued_on=day, issued_by_id=actor.id,
                                            serial=_next_serial(session, klass, day.year))
        session.add(certificate)
        session.flush()
        append_audit(session, actor, "completion.certificate_issued", certificate, {
            "enrolment_id": str(enrolment.id), "serial": certificate.serial, "issued_on": day.isoformat()})
    return certificate


def complete_class(actor: User, class_id) -> TrainingClass:
    """Mark a running (or approved) class completed once every enrolment is assessed.

    Raises:
        PermissionDeniedError: not the class's instructor or an admin.
        ConflictError: wrong state (``wrong_state``), a session still to come
            (``sessions_remaining``) or unassessed enrolments (``not_assessed``).
    """
    with transaction() as session:
        klass = get_class_or_404(session, class_id)
        if not is_class_staff(actor, klass):
            raise PermissionDeniedError(_("Only the class's instructors or an administrator complete it."))
        if klass.status not in (ClassStatus.APPROVED, ClassStatus.RUNNING):
            raise ConflictError(_("Only an approved or running class can be completed."), code="wrong_state")
        _refuse_early(klass, _("%(n)s sessions of the class are still to come: it is completed after the last one."))
        assessed = set(session.scalars(select(Assessment.enrolment_id).join(
            Enrolment, Enrolment.id == Assessment.enrolment_id).where(Enrolment.class_id == klass.id)))
        missing = [e for e in klass.enrolments if e.id not in assessed]
        if missing or not klass.enrolments:
            raise ConflictError(_("%(n)s enrolments are not assessed yet.", n=len(missing)), code="not_assessed")
        klass.status = ClassStatus.COMPLETED
        append_audit(session, actor, "class.completed", klass, {"enrolments": len(klass.enrolments)})
    return klass
