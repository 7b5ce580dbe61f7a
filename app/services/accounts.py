"""Accounts and sign-in: creating users, placing them in their institution, changing and
deactivating them, resetting passwords (administrators, audited), checking passwords (Argon2id),
and ending every session of an account (sign-out, password change) through its session version."""
from __future__ import annotations

import re
import uuid

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.models import Institution, Role, User
from app.models.base import utcnow
from app.queries.accounts import get_user, get_user_by_username
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.policy import can_manage_accounts, require

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MIN_PASSWORD_LENGTH = 8


def init_app(app: Flask) -> None:
    """Build the app's Argon2id hasher from ``PASSWORD_HASH_PROFILE`` (an argon2.profiles name:
    RFC_9106_LOW_MEMORY by default; the tests use CHEAPEST)."""
    params = getattr(profiles, app.config["PASSWORD_HASH_PROFILE"])
    app.extensions["password_hasher"] = PasswordHasher.from_parameters(params)


def _hasher() -> PasswordHasher:
    return current_app.extensions["password_hasher"]


def _dummy_hash() -> str:
    """A hash checked when the user name is unknown, so that answering takes as long either way."""
    if "password_dummy_hash" not in current_app.extensions:
        current_app.extensions["password_dummy_hash"] = _hasher().hash("not-a-real-password")
    return current_app.extensions["password_dummy_hash"]


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` in PHC string format."""
    return _hasher().hash(password)


def create_user(username: str, role: str | Role, password: str, display_name: str = "") -> User:
    """Create an account without a placement or an audit entry (test factories); accounts for
    people are made with `create_account`, which places instructors in their institution.

    Args:
        username: 3–64 characters of lower-case letters, digits, ``_ . -``.
        role: one of admin, reviewer, instructor, auditor, trainee.
        password: at least 8 characters.
    Raises:
        ValidationError: a malformed user name, unknown role or short password.
        ConflictError: the user name is taken.
    """
    username, role = _checked(username, role, password)
    with transaction() as session:
        return _insert(session, username, role, password, display_name)


def _checked(username: str, role, password: str) -> tuple[str, Role]:
    """The cleaned user name and role. :raise ValidationError: see `create_user`."""
    username = username.strip().lower()
    errors = {}
    if not _USERNAME.match(username):
        errors["username"] = _("A user name has 3 to 64 lower-case letters, digits, “_”, “.” or “-”.")
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = _("Choose a role from the list.")
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("A password has at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if errors:
        raise ValidationError.of_fields(errors)
    return username, role


def _insert(session, username: str, role: Role, password: str, display_name: str) -> User:
    if get_user_by_username(session, username):
        raise ConflictError(f"user name {username!r} is taken", code="username_taken")
    user = User(username=username, role=role, password_hash=hash_password(password),
                display_name=display_name or username)
    session.add(user)
    session.flush()
    return user


def _placement_problem(role: Role, institution_id) -> str | None:
    """Instructors belong to one institution; province-level roles and trainees to none."""
    if role == Role.INSTRUCTOR and institution_id is None:
        return _("An instructor belongs to an institution: choose one.")
    if role != Role.INSTRUCTOR and institution_id is not None:
        return _("Only instructors belong to an institution; this role reaches the whole province.")
    return None


def _institution_id(session, code_or_id) -> uuid.UUID | None:
    """The listed institution named by its code or id (None for none).

    :raise ValidationError: no such listed institution."""
    if code_or_id in (None, ""):
        return None
    try:
        found = session.get(Institution, uuid.UUID(str(code_or_id)))
    except ValueError:
        found = session.scalar(select(Institution).where(Institution.code == str(code_or_id).strip()))
    if found is None or not found.is_listed:
        raise ValidationError(_("No such listed institution."), errors={"institution": "unknown"})
    return found.id


def _account_view(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role": user.role.value,
            "institution_id": str(user.institution_id) if user.institution_id else None,
            "active": user.active}


def create_account(actor: User | None, username: str, role: str | Role, password: str,
                   institution=None, display_name: str = "") -> User:
    """Create an account placed in its institution (``institution``: a code or an id; required
    for instructors, refused for the province-level roles and trainees), audited. ``actor`` is
    an administrator, or None from the command line.

    Raises:
        PermissionDeniedError: the actor is not an administrator.
        ValidationError: a malformed field, or the placement does not fit the role.
        ConflictError: the user name is taken.
    """
    if actor is not None:
        require(can_manage_accounts(actor), _("Only administrators manage accounts."))
    username, role = _checked(username, role, password)
    with transaction() as session:
        institution_id = _institution_id(session, institution)
        if problem := _placement_problem(role, institution_id):
            raise ValidationError(problem, errors={"institution": problem})
        user = _insert(session, username, role, password, display_name)
        user.institution_id = institution_id
        append_audit(session, actor, "account.created", user, _account_view(user))
    return user


def update_account(actor: User, user_id, role: str | Role, institution, active: bool,
                   display_name: str | None = None) -> User:
    """Change an account's role, institution, active flag (and shown name), audited with what
    changed. An administrator cannot deactivate themself or change their own role.

    Raises:
        PermissionDeniedError: not an administrator, or the actor's own account.
        NotFoundError: no such account. ValidationError: unknown role, or the placement does
            not fit the role.
    """
    require(can_manage_accounts(actor), _("Only administrators manage accounts."))
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(_("Choose a role."), errors={"role": "unknown"}) from None
    with transaction() as session:
        user = _account_or_404(session, user_id)
        institution_id = _institution_id(session, institution)
        if problem := _placement_problem(role, institution_id):
            raise ValidationError(problem, errors={"institution": problem})
        if user.id == actor.id and (not active or role != user.role):
            raise PermissionDeniedError(_("You cannot deactivate your own account or change your own role."))
        before = _account_view(user)
        user.role, user.institution_id, user.active = role, institution_id, bool(active)
        if display_name is not None and display_name.strip():
            user.display_name = display_name.strip()[:100]
        after = _account_view(user)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            if {"role", "institution", "active"} & changes.keys():
                user.session_version += 1  # its reach changed: every session signs in again
            append_audit(session, actor, "account.updated", user, changes)
    return user


def reset_password(actor: User, user_id, password: str) -> User:
    """Set a new password for an account (administrators), audited without the password.

    Raises:
        PermissionDeniedError: not an administrator. NotFoundError: no such account.
        ValidationError: the password is too short.
    """
    require(can_manage_accounts(actor), _("Only administrators manage accounts."))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(_("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
                              errors={"password": "too_short"})
    with transaction() as session:
        user = _account_or_404(session, user_id)
        user.password_hash = hash_password(password)
        user.session_version += 1  # whoever held the old password is signed out everywhere
        append_audit(session, actor, "account.password_reset", user, {"username": user.username,
                                                                       "sessions_ended": True})
    return user


def _account_or_404(session, user_id) -> User:
    user = get_user(session, user_id)
    if user is None:
        raise NotFoundError(_("No such account."))
    return user


def authenticate(username: str, password: str) -> User | None:
    """The active account whose password matches, or None; upgrades outdated hashes."""
    with transaction() as session:
        user = get_user_by_username(session, username)
        hasher = _hasher()
        try:
            hasher.verify(user.password_hash if user else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
    return user


def load_signed_in_user(session, token: str) -> User | None:
    """The account a session cookie names (``<id>:<session version>``), or None when the version
    is not the account's current one: sign-out and password changes raise it, so every cookie
    issued before, replayed or not, is signed out."""
    user_id, _sep, version = (token or "").partition(":")
    user = get_user(session, user_id)
    if user is None or version != str(user.session_version):
        return None
    return user


def end_all_sessions(user_id) -> None:
    """Sign the account out everywhere (every cookie issued so far stops working)."""
    with transaction() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is not None:
            user.session_version += 1


def change_password(user_id, current: str, new: str) -> User:
    """Change one's own password after checking the current one; every session ends.

    Raises:
        ValidationError: the current password is wrong, or the new one is too short.
    """
    errors = {}
    if len(new or "") < MIN_PASSWORD_LENGTH:
        errors["new_password"] = _("At least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    with transaction() as session:
        user = session.get(User, user_id, with_for_update=True)
        try:
            _hasher().verify(user.password_hash, current or "")
        except (VerificationError, InvalidHashError):
            errors["current_password"] = _("The current password is wrong.")
        if errors:
            raise ValidationError("; ".join(errors.values()), errors=errors)
        user.password_hash = hash_password(new)
        user.session_version += 1
        append_audit(session, user, "user.password_changed", user, {"sessions_ended": True})
    return user
