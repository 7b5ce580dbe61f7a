"""Accounts and sign-in: creating users, checking passwords (Argon2id), listing accounts."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors.exceptions import ConflictError, ValidationError
from app.models import Role, User
from app.models.base import utcnow
from app.queries.accounts import get_user_by_username
from app.services._tx import transaction

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verified when the user name is unknown, so that answering takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` in PHC string format."""
    return _hasher.hash(password)


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
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
    return user
