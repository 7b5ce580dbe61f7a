"""Certificates and exemptions (R10, 双证互通): a trainee's skill certificates, and exemptions
(免修) that lower the hours an enrolment needs, with the reason and the certificate kept.

A certificate's number must have its kind's national format (skill-level certificates: one
letter and 21 digits; special-operation certificates: ``T`` and the holder's resident ID number).
An exemption needs a certificate of the trainee's own for the class's own occupation, together
with the enrolment's other exemptions covers at most ``EXEMPTION_MAX_SHARE`` of the programme's
hours, and lowers nothing until a reviewer other than the granter confirms it.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.clock import local_today
from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.models import (Certificate, CertificateKind, Enrolment, Exemption, Occupation, SkillLevel, Trainee,
                        User)
from app.models.base import utcnow
from app.services import policy
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.policy import can_confirm_as_second_person

SERIAL_FORMATS = {
    CertificateKind.SKILL_LEVEL: (re.compile(r"^[A-Z][0-9]{21}$"),
                                  _l("A skill-level certificate number is one capital letter and 21 digits.")),
    CertificateKind.SPECIAL_OPERATION: (re.compile(r"^T[0-9]{17}[0-9X]$"),
                                        _l("A special-operation certificate number is T and the holder's "
                                           "18-character resident ID number.")),
}


def _check_serial(kind: CertificateKind, serial: str, trainee: Trainee, errors: dict) -> None:
    pattern, message = SERIAL_FORMATS[kind]
    if not pattern.match(serial):
        errors["serial"] = str(message)
    elif kind == CertificateKind.SPECIAL_OPERATION and serial[1:] != trainee.id_number:
        errors["serial"] = _("The certificate number is not made from this trainee's ID number.")


def add_certificate(actor: User, trainee_id, occupation_id, level: str, serial: str,
                    issued_on: date, issuer: str = "", kind: str = CertificateKind.SKILL_LEVEL,
                    now: datetime | None = None) -> Certificate:
    """Record a certificate a trainee holds; its issue date may not pass Beijing's day at ``now``.

    Raises:
        ValidationError: unknown level or kind, a number not in the kind's national format,
            issue date in the future.
        NotFoundError: unknown trainee or occupation. ConflictError: the serial is recorded.
    """
    errors = {}
    try:
        level = SkillLevel(level)
    except ValueError:
        errors["level"] = _("Choose a skill level.")
    try:
        kind = CertificateKind(kind)
    except ValueError:
        errors["kind"] = _("Choose the kind of certificate.")
    serial = (serial or "").strip().upper()
    if not serial:
        errors["serial"] = _("Required.")
    if issued_on > local_today(now):
        errors["issued_on"] = _("The issue date is in the future.")
    with transaction() as session:
        trainee = session.get(Trainee, trainee_id)
        if trainee is None or session.get(Occupation, occupation_id) is None:
            raise NotFoundError(_("No such trainee or occupation."))
        policy.require(policy.can_act_for_trainee(session, actor, trainee_id),
                       _("This trainee belongs to another institution."))
        if serial and "kind" not in errors:
            _check_serial(kind, serial, trainee, errors)
        if errors:
            raise ValidationError.of_fields(errors)
        if session.scalar(select(Certificate.id).where(Certificate.serial == serial)):
            raise ConflictError(_("Certificate %(serial)s is recorded already.", serial=serial),
                                code="duplicate_serial")
        certificate = Certificate(trainee_id=trainee_id, occupation_id=occupation_id, level=level, kind=kind,
                                  serial=serial, issued_on=issued_on, issuer=issuer.strip())
        session.add(certificate)
        session.flush()
        append_audit(session, actor, "certificate.recorded", certificate, {
            "trainee_id": str(trainee_id), "serial": serial, "level": level.value, "kind": kind.value,
            "issued_on": issued_on.isoformat()})
    return certificate


def exemption_cap(required_hours: int) -> int:
    """The most hours all exemptions of one enrolment may cover together (rounded down)."""
    share = Decimal(current_app.config["EXEMPTION_MAX_SHARE"])
    return int((required_hours * share).to_integral_value(rounding=ROUND_FLOOR))


def _exemption_errors(enrolment: Enrolment, certificate: Certificate, hours, reason: str) -> dict:
    programme, errors = enrolment.training_class.programme, {}
    room = exemption_cap(programme.required_hours) - enrolment.exempted_hours - enrolment.pending_exemption_hours
    if certificate.trainee_id != enrolment.trainee_id:
        errors["certificate_id"] = _("The certificate belongs to another trainee.")
    elif certificate.occupation_id != programme.occupation_id:
        errors["certificate_id"] = _("The certificate is for another occupation than the class's.")
    if not reason:
        errors["reason"] = _("Required.")
    if room < 1:
        errors["hours"] = _("No more hours can be exempted: exemptions may cover at most %(n)s of the "
                            "%(total)s hours.", n=exemption_cap(programme.required_hours),
                            total=programme.required_hours)
    elif not isinstance(hours, int) or not 1 <= hours <= room:
        errors["hours"] = _("Between 1 and %(n)s hours.", n=room)
    return errors


def grant_exemption(actor: User, enrolment_id, certificate_id, hours: int, reason: str) -> Exemption:
    """Exempt an enrolment from ``hours`` on the strength of the trainee's certificate; the
    exemption is pending (lowers nothing) until a reviewer confirms it.

    Raises:
        NotFoundError: unknown enrolment or certificate.
        ValidationError: the certificate is someone else's or for another occupation, no reason,
            or the hours are not between 1 and what the cap still allows.
    """
    reason = (reason or "").strip()
    with transaction() as session:
        enrolment = session.get(Enrolment, enrolment_id, with_for_update=True)  # one granter at a time
        certificate = session.get(Certificate, certificate_id)
        if enrolment is None or certificate is None:
            raise NotFoundError(_("No such enrolment or certificate."))
        policy.require(policy.can_grant_exemption(actor, enrolment),
                       _("This enrolment belongs to another institution's class."))
        errors = _exemption_errors(enrolment, certificate, hours, reason)
        if errors:
            raise ValidationError.of_fields(errors)
        exemption = Exemption(enrolment_id=enrolment.id, certificate_id=certificate.id,
                              hours=hours, reason=reason, granted_by_id=actor.id)
        session.add(exemption)
        session.flush()
        append_audit(session, actor, "enrolment.exempted", enrolment, {
            "hours": hours, "certificate": certificate.serial, "reason": reason,
            "exemption_id": str(exemption.id), "pending": True})
    return exemption


def confirm_exemption(actor: User, exemption_id) -> Exemption:
    """A reviewer other than the granter confirms a pending exemption, which then takes effect.

    Raises:
        NotFoundError: no such exemption. PermissionDeniedError: not a reviewer, or the granter.
        ConflictError: already confirmed.
    """
    with transaction() as session:
        exemption = session.get(Exemption, exemption_id, with_for_update=True)
        if exemption is None:
            raise NotFoundError(_("No such exemption."))
        if not can_confirm_as_second_person(actor, exemption.granted_by_id):
            raise PermissionDeniedError(_("Only a reviewer other than the person who granted it confirms an exemption."))
        if exemption.confirmed_at is not None:
            raise ConflictError(_("The exemption is confirmed already."), code="already_confirmed")
        exemption.confirmed_at, exemption.confirmed_by_id = utcnow(), actor.id
        append_audit(session, actor, "exemption.confirmed", exemption, {
            "enrolment_id": str(exemption.enrolment_id), "hours": exemption.hours,
            "granted_by_id": str(exemption.granted_by_id) if exemption.granted_by_id else None})
    return exemption
