"""Final assessment (结业考核) and completion certificates (结业证书) of enrolments (R7)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamps, UTCDateTime, UUIDPrimaryKey


class Assessment(UUIDPrimaryKey, Timestamps, Base):
    """The theory and practical results of one enrolment, with the pass marks applied.

    A correction replaces the result in place; the earlier result is kept in the audit log.
    """

    __tablename__ = "assessments"

    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), unique=True)
    theory_score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    practical_score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    theory_pass_mark: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    practical_pass_mark: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    passed: Mapped[bool]
    assessed_on: Mapped[date]
    evaluation_organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evaluation_organisations.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    correction_reason: Mapped[str] = mapped_column(Text, default="")
    statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    enrolment = relationship("Enrolment")
    evaluation_organisation = relationship("EvaluationOrganisation")
    recorded_by = relationship("User")


class CompletionCertificate(UUIDPrimaryKey, Timestamps, Base):
    """The completion certificate of an enrolment, issued once; serial ``CODE-YYYY-NNNNN``."""

    __tablename__ = "completion_certificates"

    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), unique=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    issued_on: Mapped[date]
    issued_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    enrolment = relationship("Enrolment")
