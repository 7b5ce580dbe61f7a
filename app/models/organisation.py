"""Catalogue status shared by every listed entry, and the training institutions
(职业院校、技工院校) that run classes."""
from __future__ import annotations

import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.accounts import enum_column
from app.models.base import Base, Timestamps, UUIDPrimaryKey


class ListingStatus(enum.StrEnum):
    """Catalogue status (动态公布、违规清退): a revoked entry stops new classes but keeps history."""

    LISTED = "listed"
    REVOKED = "revoked"


class Listed:
    """Mixin: a catalogue entry's status and the reason it was revoked."""

    status: Mapped[ListingStatus] = mapped_column(
        enum_column(ListingStatus), default=ListingStatus.LISTED)
    status_reason: Mapped[str] = mapped_column(String(500), default="")

    @property
    def is_listed(self) -> bool:
        return self.status == ListingStatus.LISTED


class Institution(UUIDPrimaryKey, Timestamps, Listed, Base):
    """A college or technical school approved to deliver subsidised training."""

    __tablename__ = "institutions"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
