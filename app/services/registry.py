"""Real-name registry (R1): registering and correcting trainee records, one per ID number.

Every change is audited; ID numbers are validated by the GB 11643 check digit, and birth date
and sex are derived from them, never typed in.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import local_today
from app.errors.exceptions import ConflictError, NotFoundError, ValidationError
from app.models import PERSON_CATEGORIES, Sex, Trainee, User
from app.models.registry import ENTERPRISE_WORKER
from app.services import policy
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.resident_id import (birth_date, check_digit, has_foreign_digits, mask_resident_id,
                                     normalise_id_number)
from app.services.trainee_accounts import open_account

#: Between the parts of a minority or foreign name: middle dots (·, Japanese ・ and its
#: half-width form), the full stop, hyphen and space of names written in Latin letters.
_NAME_SEPARATORS = frozenset("·・･.- ")
_NAME_LENGTH = (2, 50)


def _is_name_letter(char: str) -> bool:
    """A Han character of any block (unified ideographs, Extensions A to I, compatibility
    ideographs), 〇, or a Latin letter: judged by the character's Unicode name, so a block
    added to Unicode later is covered without a list of ranges."""
    name = unicodedata.name(char, "")
    return (name.startswith(("CJK UNIFIED IDEOGRAPH-", "CJK COMPATIBILITY IDEOGRAPH-"))
            or char == "\u3007"
            or (unicodedata.category(char) in ("Lu", "Ll") and name.startswith("LATIN ")))


def name_problem(name: str) -> str | None:
    """What is wrong with a legal name, in words for the office; None when it may be stored."""
    low, high = _NAME_LENGTH
    if len(name) < low:
        return _("A legal name has at least %(n)s characters.", n=low)
    if len(name) > high:
        return _("A legal name has at most %(n)s characters; this one has %(count)s.",
                 n=high, count=len(name))
    for char in name:
        if not _is_name_letter(char) and char not in _NAME_SEPARATORS:
            return _("“%(char)s” (U+%(code)04X) cannot be part of a legal name: use Chinese "
                     "characters, Latin letters and the middle dot ·.", char=char, code=ord(char))
    if name[0] in _NAME_SEPARATORS or name[-1] in _NAME_SEPARATORS:
        return _("A legal name begins and ends with a letter, not with “%(char)s”.",
                 char=name[0] if name[0] in _NAME_SEPARATORS else name[-1])
    if any(a in _NAME_SEPARATORS and b in _NAME_SEPARATORS for a, b in zip(name, name[1:])):
        return _("A legal name has one separator between its parts, not two in a row.")
    return None
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ID_SHAPE = re.compile(r"^[1-9][0-9]{16}[0-9X]$")  # ASCII digits only
#: A bank card or social-security card financial account: 12 to 30 ASCII digits (no check digit
#: is tested: not every bank's numbers follow the Luhn rule).
_ACCOUNT = re.compile(r"^[0-9]{12,30}$")
_BANK_LENGTH = (2, 50)


def payee_problems(bank: str, account: str) -> dict[str, str]:
    """Field problems of payee details (cleaned): both empty, or a bank name and an account."""
    errors = {}
    if not bank and not account:
        return errors
    if not _BANK_LENGTH[0] <= len(bank) <= _BANK_LENGTH[1]:
        errors["payee_bank"] = _("Name the bank of the account (2 to 50 characters).")
    if not _ACCOUNT.match(account):
        errors["payee_account"] = _("A bank or social-security card account has 12 to 30 digits.")
    return errors


def mask_account(account: str) -> str:
    """A payee account with all but its last four digits hidden (empty stays empty)."""
    return "*" * (len(account) - 4) + account[-4:] if len(account) > 4 else account


@dataclass(frozen=True)
class TraineeInput:
    """What an office types or imports for one trainee."""

    name: str
    id_number: str
    phone: str
    category: str
    employer: str = ""
    payee_bank: str = ""
    payee_account: str = ""

    def cleaned(self) -> "TraineeInput":
        return TraineeInput(name=self.name.strip(), id_number=normalise_id_number(self.id_number),
                            phone=re.sub(r"[\s-]", "", self.phone), category=self.category.strip(),
                            employer=self.employer.strip(), payee_bank=self.payee_bank.strip(),
                            payee_account=re.sub(r"[\s-]", "", normalise_id_number(self.payee_account)))


def id_number_problem(number: str, today: date | None = None) -> str | None:
    """Why ``number`` is not a valid resident ID, in words for the office; None when valid."""
    if has_foreign_digits(number):
        return _("The ID number has digits of another script (for example Arabic-Indic); type it with the "
                 "digits 0–9 and X.")
    if not _ID_SHAPE.match(number):
        return _("An ID number has 18 characters: 17 digits and a digit or X.")
    born = birth_date(number)
    if born is None:
        return _("The birth date %(digits)s in the ID number is not a real date.", digits=number[6:14])
    if born > (today or local_today()):
        return _("The birth date in the ID number is in the future.")
    if check_digit(number[:17]) != number[17]:
        return _("The check digit is wrong: the last character should be %(digit)s.",
                 digit=check_digit(number[:17]))
    return None


def validate_trainee(data: TraineeInput) -> dict[str, str]:
    """Field problems of ``data`` (already cleaned); empty when it may be stored."""
    errors = {}
    if problem := name_problem(data.name):
        errors["name"] = problem
    if problem := id_number_problem(data.id_number):
        errors["id_number"] = problem
    if not _MOBILE.match(data.phone):
        errors["phone"] = _("Enter an 11-digit mainland mobile number.")
    if data.category not in PERSON_CATEGORIES:
        errors["category"] = _("Choose a person category from the list.")
    elif data.category == ENTERPRISE_WORKER and not data.employer:
        errors["employer"] = _("Enterprise workers must name their employer.")
    return {**errors, **payee_problems(data.payee_bank, data.payee_account)}


def _raise_if_invalid(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError.of_fields(errors)


def _audit_view(trainee: Trainee) -> dict:
    """What the audit payload keeps of a trainee: the ID masked, since the log is widely read."""
    return {"name": trainee.name, "id_number": mask_resident_id(trainee.id_number),
            "phone": trainee.phone, "category": trainee.category, "employer": trainee.employer,
            "payee_bank": trainee.payee_bank, "payee_account": mask_account(trainee.payee_account)}


def get_trainee_or_404(session: Session, trainee_id, actor: User | None = None,
                       permission=policy.can_read_trainee) -> Trainee:
    """The trainee with this id, when ``actor`` (if given) has ``permission`` on it (a policy
    predicate ``(session, actor, trainee)``; reading by default).

    :raise 404 (NotFoundError): unknown id.
    :raise 403 (PermissionDeniedError): the actor may not read (or act on) this trainee.
    """
    trainee = session.get(Trainee, trainee_id)
    if trainee is None:
        raise NotFoundError(_("No such trainee."))
    if actor is not None:
        policy.require(permission(session, actor, trainee),
                       _("This trainee belongs to another institution."))
    return trainee


def can_manage_trainee(session: Session, actor: User, trainee: Trainee) -> bool:
    """`policy.can_act_for_trainee` in the shape `get_trainee_or_404` takes."""
    return policy.can_act_for_trainee(session, actor, trainee.id)


def register_trainee(actor: User | None, data: TraineeInput) -> Trainee:
    """Create the real-name record of a trainee.

    Raises:
        ValidationError: a field is wrong (``errors`` names each one).
        ConflictError: a record with this ID number exists (code ``duplicate_id_number``).
    """
    data = data.cleaned()
    _raise_if_invalid(validate_trainee(data))
    with transaction() as session:
        if session.scalar(select(Trainee.id).where(Trainee.id_number == data.id_number)):
            raise ConflictError(_("A trainee with ID number %(number)s is already registered.",
                                  number=mask_resident_id(data.id_number)),
                                code="duplicate_id_number", errors={"id_number": "duplicate"})
        return add_trainee(session, actor, data)


def add_trainee(session: Session, actor: User | None, data: TraineeInput) -> Trainee:
    """Insert a validated, cleaned, new trainee with their (not yet activated) account and audit
    it, in the caller's transaction."""
    trainee = Trainee(name=data.name, id_number=data.id_number, phone=data.phone,
                      category=data.category, employer=data.employer, payee_bank=data.payee_bank,
                      payee_account=data.payee_account, birth_date=birth_date(data.id_number),
                      sex=Sex.MALE if int(data.id_number[16]) % 2 else Sex.FEMALE,
                      registered_by_institution_id=actor.institution_id if actor is not None else None)
    session.add(trainee)
    session.flush()
    open_account(session, trainee)
    append_audit(session, actor, "trainee.registered", trainee, _audit_view(trainee))
    return trainee


def update_trainee(actor: User | None, trainee_id, phone: str, category: str,
                   employer: str = "", payee: tuple[str, str] | None = None) -> Trainee:
    """Correct a trainee's contact, category and (given ``payee`` = (bank, account)) payee
    details; name and ID number are fixed once registered.

    Raises:
        NotFoundError: no such trainee. PermissionDeniedError: not the trainee's institution.
        ValidationError: a field is wrong.
    """
    with transaction() as session:
        trainee = get_trainee_or_404(session, trainee_id, actor, can_manage_trainee)
        bank, account = payee if payee is not None else (trainee.payee_bank, trainee.payee_account)
        data = TraineeInput(trainee.name, trainee.id_number, phone, category, employer, bank, account).cleaned()
        _raise_if_invalid(validate_trainee(data))
        before = _audit_view(trainee)
        trainee.phone, trainee.category, trainee.employer = data.phone, data.category, data.employer
        trainee.payee_bank, trainee.payee_account = data.payee_bank, data.payee_account
        after = _audit_view(trainee)
        append_audit(session, actor, "trainee.updated", trainee,
                     {k: [before[k], after[k]] for k in after if before[k] != after[k]})
    return trainee
