"""Accounts that sign in to the web pages, each with exactly one role."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamps, UTCDateTime, UUIDPrimaryKey


class Role(enum.StrEnum):
    """What an account may do; navigation and `role_required` follow it."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    INSTRUCTOR = "instructor"
    AUDITOR = "auditor"
    TRAINEE = "trainee"


def enum_column(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """A portable enum column: VARCHAR holding the member values, checked by SQLAlchemy."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class User(UUIDPrimaryKey, Timestamps, UserMixin, Base):
    """A person who signs in: staff of an institution or the bureau, or a trainee."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institutions.id"))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # raised on sign-out and password change: every cookie carrying an older one is signed out
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    institution = relationship("Institution")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in for inactive accounts
        return self.active

    def get_id(self) -> str:
        """What the session cookie keeps: the id and the session version (see `load_signed_in_user`)."""
        return f"{self.id}:{self.session_version}"


class AccountActivation(UUIDPrimaryKey, Timestamps, Base):
    """The one-time code with which a trainee activates (or re-activates) their account.

    Only a keyed hash of the code is kept; a reissue replaces it and resets the failure count.
    """

    __tablename__ = "account_activations"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
