"""Reads of user accounts."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import User


def get_user_by_username(session: Session, username: str) -> User | None:
    """The account with this user name (compared in lower case), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get_user(session: Session, user_id: str | uuid.UUID) -> User | None:
    """The account with this id, or None when the id is unknown or malformed."""
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        return None
    return session.get(User, key)


def list_users(session: Session) -> list[User]:
    """Every account, by role then user name."""
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def count_users(session: Session) -> int:
    """How many accounts exist."""
    return session.scalar(select(func.count()).select_from(User))
