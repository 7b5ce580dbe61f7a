"""Accounts and sign-in: creating users, checking passwords (Argon2id), listing accounts, and
ending every session of an account (sign-out, password change) through its session version."""
from __future__ import annotations

import re

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from flask_babel import gettext as _

from app.errors.exceptions import ConflictError, ValidationError
from app.models import Role, User
from app.models.base import utcnow
from app.queries.accounts import get_user, get_user_by_username
from app.services._tx import transaction
from app.services.audit import append_audit

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
    """Create an account.

    Args:
        username: 3–64 characters of lower-case letters, digits, ``_ . -``.
        role: one of admin, reviewer, instructor, auditor, trainee.
        password: at least 8 characters.
    Raises:
        ValidationError: a malformed user name, unknown role or short password.
        ConflictError: the user name is taken.
    """
    username = username.strip().lower()
    errors = {}
    if not _USERNAME.match(username):
        errors["username"] = "3–64 lower-case letters, digits, '_', '.' or '-'"
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = f"one of {', '.join(r.value for r in Role)}"
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"at least {MIN_PASSWORD_LENGTH} characters"
    if errors:
        raise ValidationError("invalid account: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                              errors=errors)
    with transaction() as session:
        if get_user_by_username(session, username):
            raise ConflictError(f"user name {username!r} is taken", code="username_taken")
        user = User(username=username, role=role, password_hash=hash_password(password),
                    display_name=display_name or username)
        session.add(user)
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
