"""The catalogues (R6, R8): occupations, the urgent-shortage list, programmes and their subsidy
standards, evaluation organisations and institutions; listing and revoking entries.

Standards and the shortage list are versioned by effective date, so a claim for training on a
given day uses the figures in force that day.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, NotFoundError, ValidationError
from app.models import (DeliveryMode, EvaluationOrganisation, Institution, ListingStatus,
                        Occupation, Programme, ShortageListing, SkillLevel, SubsidyStandard,
                        TrainingCategory, User)
from app.services._tx import transaction
from app.services.audit import append_audit

LISTED_KINDS = {
    "occupation": Occupation,
    "programme": Programme,
    "evaluation_organisation": EvaluationOrganisation,
    "institution": Institution,
}


def _require(value: str, field: str, errors: dict) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = _("Required.")
    return value


def _enum(enum_cls, value, field: str, errors: dict):
    try:
        return enum_cls(value)
    except ValueError:
        errors[field] = _("Choose one of: %(values)s", values=", ".join(m.value for m in enum_cls))
        return None


def _money(value, field: str, errors: dict) -> Decimal | None:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors[field] = _("Enter an amount in yuan, e.g. 1200.00.")
        return None
    if amount <= 0:
        errors[field] = _("The amount must be positive.")
    return amount


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError.of_fields(errors)


def _unique_code(session: Session, model, code: str) -> None:
    if session.scalar(select(model.id).where(model.code == code)):
        raise ConflictError(_("The code %(code)s is taken.", code=code), code="duplicate_code",
                            errors={"code": "duplicate"})


def create_listed_entry(actor: User, kind: str, code: str, name: str):
    """Create an occupation, evaluation organisation or institution (listed).

    Raises:
        ValidationError: unknown kind or empty code/name. ConflictError: the code is taken.
    """
    errors = {}
    if kind not in LISTED_KINDS or kind == "programme":
        errors["kind"] = _("Unknown catalogue.")
    code, name = _require(code, "code", errors), _require(name, "name", errors)
    _raise(errors)
    model = LISTED_KINDS[kind]
    with transaction() as session:
        _unique_code(session, model, code)
        entry = model(code=code, name=name)
        session.add(entry)
        session.flush()
        append_audit(session, actor, f"{kind}.listed", entry, {"code": code, "name": name})
    return entry


def set_listing_status(actor: User, kind: str, entry_id: uuid.UUID, listed: bool, reason: str):
    """Revoke (清退) or re-list a catalogue entry; the reason is required and kept.

    Raises:
        NotFoundError: no such entry. ValidationError: no reason given.
    """
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason."), errors={"reason": _("Required.")})
    model = LISTED_KINDS.get(kind)
    with transaction() as session:
        entry = session.get(model, entry_id) if model else None
        if entry is None:
            raise NotFoundError(_("No such catalogue entry."))
        entry.status = ListingStatus.LISTED if listed else ListingStatus.REVOKED
        entry.status_reason = reason.strip()
        append_audit(session, actor, f"{kind}.{'relisted' if listed else 'revoked'}", entry,
                     {"reason": entry.status_reason})
    return entry


def create_programme(actor: User, *, code: str, name: str, occupation_id, level: str,
                     category: str, theory_hours: int, practice_hours: int, delivery_mode: str,
                     subsidy_amount, subsidy_from: date) -> Programme:
    """List a programme with its first subsidy standard.

    Raises:
        ValidationError: a field is wrong, or the occupation is unknown or revoked.
        ConflictError: the code is taken.
    """
    errors = {}
    code, name = _require(code, "code", errors), _require(name, "name", errors)
    level = _enum(SkillLevel, level, "level", errors)
    category = _enum(TrainingCategory, category, "category", errors)
    mode = _enum(DeliveryMode, delivery_mode, "delivery_mode", errors)
    amount = _money(subsidy_amount, "subsidy_amount", errors)
    for field, hours in (("theory_hours", theory_hours), ("practice_hours", practice_hours)):
        if not isinstance(hours, int) or not 0 <= hours <= 2000:
            errors[field] = _("Hours must be a whole number from 0 to 2000.")
    if not errors and theory_hours + practice_hours == 0:
        errors["theory_hours"] = _("A programme needs some hours.")
    with transaction() as session:
        occupation = session.get(Occupation, occupation_id) if occupation_id else None
        if occupation is None or not occupation.is_listed:
            errors["occupation_id"] = _("Choose a listed occupation.")
        _raise(errors)
        _unique_code(session, Programme, code)
        programme = Programme(code=code, name=name, occupation_id=occupation.id, level=level,
                              category=category, theory_hours=theory_hours,
                              practice_hours=practice_hours, delivery_mode=mode)
        session.add(programme)
        session.flush()
        session.add(SubsidyStandard(programme_id=programme.id, amount=amount,
                                    effective_from=subsidy_from))
        append_audit(session, actor, "programme.listed", programme, {
            "code": code, "name": name, "occupation": occupation.code, "level": level.value,
            "category": category.value, "theory_hours": theory_hours,
            "practice_hours": practice_hours, "delivery_mode": mode.value,
            "subsidy": str(amount), "subsidy_from": subsidy_from.isoformat()})
    return programme


def add_subsidy_standard(actor: User, programme_id, amount, effective_from: date) -> SubsidyStandard:
    """A new standard for a programme from ``effective_from`` on (动态调整)."""
    errors = {}
    value = _money(amount, "amount", errors)
    _raise(errors)
    with transaction() as session:
        programme = session.get(Programme, programme_id)
        if programme is None:
            raise NotFoundError(_("No such programme."))
        if session.scalar(select(SubsidyStandard.id).where(
                SubsidyStandard.programme_id == programme.id,
                SubsidyStandard.effective_from == effective_from)):
            raise ConflictError(_("A standard from that date exists already."))
        standard = SubsidyStandard(programme_id=programme.id, amount=value,
                                   effective_from=effective_from)
        session.add(standard)
        session.flush()
        append_audit(session, actor, "programme.standard_added", programme,
                     {"amount": str(value), "effective_from": effective_from.isoformat()})
    return standard


def add_shortage_listing(actor: User, occupation_id, effective_from: date,
                         effective_to: date | None = None, note: str = "") -> ShortageListing:
    """Put an occupation on the urgent-shortage list for a period (open-ended when no end)."""
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError(_("The end date is before the start date."),
                              errors={"effective_to": _("before the start date")})
    with transaction() as session:
        occupation = session.get(Occupation, occupation_id)
        if occupation is None:
            raise NotFoundError(_("No such occupation."))
        listing = ShortageListing(occupation_id=occupation.id, effective_from=effective_from,
                                  effective_to=effective_to, note=note.strip())
        session.add(listing)
        session.flush()
        append_audit(session, actor, "shortage.listed", listing, {
            "occupation": occupation.code, "from": effective_from.isoformat(),
            "to": effective_to.isoformat() if effective_to else None})
    return listing


def standard_on(session: Session, programme_id, day: date) -> SubsidyStandard | None:
    """The subsidy standard of a programme in force on ``day`` (latest effective_from ≤ day)."""
    return session.scalar(
        select(SubsidyStandard).where(SubsidyStandard.programme_id == programme_id,
                                      SubsidyStandard.effective_from <= day)
        .order_by(SubsidyStandard.effective_from.desc()).limit(1))


def shortage_listing_on(session: Session, occupation_id, day: date) -> ShortageListing | None:
    """The urgent-shortage listing (R6) of the occupation in force on ``day``, first and last
    day included, or None: the one test the subsidy uplift uses."""
    if occupation_id is None:
        return None
    return session.scalar(
        select(ShortageListing).where(
            ShortageListing.occupation_id == occupation_id,
            ShortageListing.effective_from <= day,
            or_(ShortageListing.effective_to.is_(None), ShortageListing.effective_to >= day))
        .order_by(ShortageListing.effective_from).limit(1))


CLOSED_REASONS = {
    "institution_revoked": _l("The institution is not listed (or was revoked): no new classes or subsidy lines."),
    "programme_revoked": _l("The programme is not listed (or was revoked): no new classes or subsidy lines."),
    "occupation_revoked": _l("The programme's occupation was revoked: no new classes or subsidy lines."),
}


def closed_for_new_classes(institution: Institution | None, programme: Programme | None) -> str | None:
    """Why no new class (nor subsidy line) may be made of ``programme`` at ``institution`` (R8,
    违规清退): a code of `CLOSED_REASONS`, or None when both, and the programme's occupation, are listed."""
    if institution is None or not institution.is_listed:
        return "institution_revoked"
    if programme is None or not programme.is_listed:
        return "programme_revoked"
    if programme.occupation is not None and not programme.occupation.is_listed:
        return "occupation_revoked"
    return None


def is_open_for_new_classes(institution: Institution | None, programme: Programme | None) -> bool:
    """The one R8 check, used at drafting, submission, approval and claim preparation."""
    return closed_for_new_classes(institution, programme) is None
