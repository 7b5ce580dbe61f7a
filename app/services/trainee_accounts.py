"""Trainee accounts: every registered trainee gets a sign-in account linked to their record,
which the trainee activates with a one-time code their institution hands out, plus their ID number.

The code is shown once (on a printable slip) and only its keyed hash is stored; it is single-use,
expires after ``ACTIVATION_CODE_DAYS`` and is locked after ``ACTIVATION_MAX_FAILURES`` wrong
tries against the same ID number. Staff may reissue a code (audited); a reissued code also lets an
activated trainee set a new password.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import local_today
from app.errors.exceptions import ValidationError
from app.models import AccountActivation, Enrolment, Role, Trainee, User
from app.models.base import utcnow
from app.services._tx import transaction
from app.services.accounts import MIN_PASSWORD_LENGTH, hash_password
from app.services.audit import append_audit
from app.services.classes import get_class_or_404
from app.services.policy import can_act_for, can_act_for_trainee, require
from app.services.resident_id import mask_resident_id

# No 0/O, 1/I/L: the code is read off paper and typed on a phone.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 10
# Argon2 never produces this, so a pending account cannot be signed in to with any password.
_NO_PASSWORD = "!activation-pending"


@dataclass(frozen=True)
class ActivationSlip:
    """What is printed for one trainee: shown once, never stored in the clear."""

    name: str
    masked_id_number: str
    username: str
    code: str
    expires_on: date


def _digest(code: str) -> str:
    key = hashlib.sha256(b"account-activation:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, _normalise_code(code).encode(), hashlib.sha256).hexdigest()


def _normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _new_username(session: Session) -> str:
    while True:
        username = f"t{secrets.randbelow(10**9):09d}"
        if session.scalar(select(User.id).where(User.username == username)) is None:
            return username


def open_account(session: Session, trainee: Trainee) -> User:
    """The trainee's account, created (inactive, no password) when they have none yet."""
    if trainee.user_id is not None:
        return session.get(User, trainee.user_id)
    user = User(username=_new_username(session), display_name=trainee.name, role=Role.TRAINEE,
                password_hash=_NO_PASSWORD, active=False)
    session.add(user)
    session.flush()
    trainee.user_id = user.id
    return user


def _issue(session: Session, actor: User | None, trainee: Trainee, now: datetime) -> ActivationSlip:
    user = open_account(session, trainee)
    code = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    expires_at = now + timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])
    row = session.scalar(select(AccountActivation).where(AccountActivation.user_id == user.id))
    if row is None:
        row = AccountActivation(user_id=user.id)
        session.add(row)
    row.code_hash, row.expires_at, row.issued_at = _digest(code), expires_at, now
    row.failed_attempts, row.used_at, row.issued_by_id = 0, None, actor.id if actor else None
    append_audit(session, actor, "trainee.activation_code_issued", trainee,
                 {"username": user.username, "expires_at": expires_at.isoformat()})
    return ActivationSlip(trainee.name, mask_resident_id(trainee.id_number), user.username,
                          f"{code[:5]}-{code[5:]}", local_today(expires_at))


def issue_first_code(actor: User | None, trainee_id, now: datetime | None = None) -> ActivationSlip:
    """The first code of a trainee just registered by ``actor``; refused once one was issued
    (then `reissue_code`, which checks that ``actor`` may act for the trainee)."""
    with transaction() as session:
        trainee = session.get(Trainee, trainee_id)
        require(trainee is not None and (trainee.user_id is None or session.scalar(
            select(AccountActivation.id).where(AccountActivation.user_id == trainee.user_id)) is None))
        return _issue(session, actor, trainee, now or utcnow())


def reissue_code(actor: User, trainee_id, now: datetime | None = None) -> ActivationSlip:
    """A new code for the trainee; the old one stops working.

    :raise 403 (PermissionDeniedError): ``actor`` may not act for this trainee.
    """
    with transaction() as session:
        require(can_act_for_trainee(session, actor, trainee_id))
        trainee = session.get(Trainee, trainee_id)
        return _issue(session, actor, trainee, now or utcnow())


def issue_class_slips(actor: User, class_id, now: datetime | None = None) -> list[ActivationSlip]:
    """New codes for every trainee on the class roster whose account is not yet active.

    :raise 403 (PermissionDeniedError): ``actor`` may not act for the class's institution.
    """
    with transaction() as session:
        klass = get_class_or_404(session, class_id)
        require(can_act_for(actor, klass.institution_id))
        trainees = session.scalars(
            select(Trainee).join(Enrolment, Enrolment.trainee_id == Trainee.id)
            .outerjoin(User, User.id == Trainee.user_id)
            .where(Enrolment.class_id == klass.id, (User.id.is_(None)) | (User.active.is_(False)))
            .order_by(Trainee.name))
        return [_issue(session, actor, trainee, now or utcnow()) for trainee in trainees]


def account_state(session: Session, trainee: Trainee) -> str:
    """"active", "pending" (a code was issued, not yet used) or "none", for staff pages."""
    user = session.get(User, trainee.user_id) if trainee.user_id else None
    if user is not None and user.active:
        return "active"
    issued = user is not None and session.scalar(
        select(AccountActivation.id).where(AccountActivation.user_id == user.id)) is not None
    return "pending" if issued else "none"


def _password_problem(password: str, confirm: str, id_number: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Choose a password of at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if password.upper() == id_number:
        return _("Do not use your ID number as your password.")
    if password != confirm:
        return _("The two passwords differ.")
    return None


def activate_account(id_number: str, code: str, password: str, confirm: str,
                     now: datetime | None = None) -> User:
    """Check the code against the trainee with this ID number and set their password.

    Raises:
        ValidationError: the ID number and code do not match (the failure is counted), the code
            was used, expired or locked, or the password is unsuitable.
    """
    now, id_number = now or utcnow(), id_number.strip().upper()
    if problem := _password_problem(password, confirm, id_number):
        raise ValidationError(problem, errors={"password": problem})
    mismatch = _("The ID number and activation code do not match, or the code was already used.")
    with transaction() as session:
        row, user = _pending_activation(session, id_number)
        if row is None:
            raise ValidationError(mismatch, errors={"code": mismatch})
        if row.failed_attempts >= current_app.config["ACTIVATION_MAX_FAILURES"]:
            locked = _("Too many wrong codes: ask your training institution for a new one.")
            raise ValidationError(locked, errors={"code": locked})
        matched = hmac.compare_digest(row.code_hash, _digest(code))
        if not matched:
            row.failed_attempts += 1
        elif row.expires_at <= now:
            expired = _("This code has expired: ask your training institution for a new one.")
            raise ValidationError(expired, errors={"code": expired})
        else:
            user.password_hash, user.active, row.used_at = hash_password(password), True, now
            append_audit(session, user, "account.activated", user, {"username": user.username})
    if not matched:
        raise ValidationError(mismatch, errors={"code": mismatch})
    return user


def _pending_activation(session: Session, id_number: str) -> tuple[AccountActivation | None, User | None]:
    user = session.scalar(select(User).join(Trainee, Trainee.user_id == User.id)
                          .where(Trainee.id_number == id_number))
    if user is None:
        return None, None
    row = session.scalar(select(AccountActivation).where(AccountActivation.user_id == user.id,
                                                         AccountActivation.used_at.is_(None)))
    return row, user
