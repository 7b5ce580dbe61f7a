"""Certificates and exemptions (R10, 双证互通): a trainee's skill certificates, and exemptions
(免修) that lower the hours an enrolment needs, with the reason and the certificate kept."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.clock import local_today
from app.errors.exceptions import ConflictError, NotFoundError, ValidationError
from app.models import Certificate, Enrolment, Exemption, Occupation, SkillLevel, Trainee, User
from app.services import policy
from app.services._tx import transaction
from app.services.audit import append_audit


def add_certificate(actor: User, trainee_id, occupation_id, level: str, serial: str,
                    issued_on: date, issuer: str = "", now: datetime | None = None) -> Certificate:
    """Record a certificate a trainee holds; its issue date may not pass Beijing's day at ``now``.

    Raises:
        ValidationError: unknown level, empty serial, issue date in the future.
        NotFoundError: unknown trainee or occupation. ConflictError: the serial is recorded.
    """
    errors = {}
    try:
        level = SkillLevel(level)
    except ValueError:
        errors["level"] = _("Choose a skill level.")
    serial = (serial or "").strip()
    if not serial:
        errors["serial"] = _("Required.")
    if issued_on > local_today(now):
        errors["issued_on"] = _("The issue date is in the future.")
    if errors:
        raise ValidationError("; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors)
    with transaction() as session:
        if session.get(Trainee, trainee_id) is None or session.get(Occupation, occupation_id) is None:
            raise NotFoundError(_("No such trainee or occupation."))
        policy.require(policy.can_act_for_trainee(session, actor, trainee_id),
                       _("This trainee belongs to another institution."))
        if session.scalar(select(Certificate.id).where(Certificate.serial == serial)):
            raise ConflictError(_("Certificate %(serial)s is recorded already.", serial=serial),
                                code="duplicate_serial")
        certificate = Certificate(trainee_id=trainee_id, occupation_id=occupation_id, level=level,
                                  serial=serial, issued_on=issued_on, issuer=issuer.strip())
        session.add(certificate)
        session.flush()
        append_audit(session, actor, "certificate.recorded", certificate, {
            "trainee_id": str(trainee_id), "serial": serial, "level": level.value,
            "issued_on": issued_on.isoformat()})
    return certificate


def grant_exemption(actor: User, enrolment_id, certificate_id, hours: int, reason: str) -> Exemption:
    """Exempt an enrolment from ``hours`` on the strength of the trainee's certificate.

    Raises:
        NotFoundError: unknown enrolment or certificate.
        ValidationError: the certificate is someone else's, no reason, or the hours are not
            between 1 and what the enrolment still requires.
    """
    reason = (reason or "").strip()
    with transaction() as session:
        enrolment = session.get(Enrolment, enrolment_id)
        certificate = session.get(Certificate, certificate_id)
        if enrolment is None or certificate is None:
            raise NotFoundError(_("No such enrolment or certificate."))
        policy.require(policy.can_grant_exemption(actor, enrolment),
                       _("This enrolment belongs to another institution's class."))
        remaining = enrolment.training_class.programme.required_hours - enrolment.exempted_hours
        errors = {}
        if certificate.trainee_id != enrolment.trainee_id:
            errors["certificate_id"] = _("The certificate belongs to another trainee.")
        if not reason:
            errors["reason"] = _("Required.")
        if not isinstance(hours, int) or not 1 <= hours <= remaining:
            errors["hours"] = _("Between 1 and %(n)s hours.", n=remaining)
        if errors:
            raise ValidationError("; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors)
        exemption = Exemption(enrolment_id=enrolment.id, certificate_id=certificate.id,
                              hours=hours, reason=reason, granted_by_id=actor.id)
        session.add(exemption)
        session.flush()
        append_audit(session, actor, "enrolment.exempted", enrolment, {
            "hours": hours, "certificate": certificate.serial, "reason": reason})
    return exemption
