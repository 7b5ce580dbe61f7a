"""Builders of valid records for tests, going through the services like real callers."""
from __future__ import annotations

from app.models import Role, User
from app.services.accounts import create_user

PASSWORD = "correct-horse-9"


def make_user(role: Role | str = Role.TRAINEE, username: str | None = None,
              password: str = PASSWORD) -> User:
    """An active account with ``role``; the user name defaults to the role's name."""
    role = Role(role)
    return create_user(username or role.value, role, password)
