"""Subsidy claims (R5, R6): one claim per class and version, one line per enrolment.

A line is computed only from the ledger (凡补必进、不进不补): it keeps the ids of the ledger
entries behind it, the standard and uplift applied, the rule in words and a trace id.
Preparing a claim again with nothing changed gives the same claim; a change makes a new version.
The bureau's workflow: prepared → submitted by the institution → reviewed line by line (each
accepted, or returned with its reason) → public notice (公示) for accepted lines → paid with a
payment reference; a claim whose lines were all returned is ``returned`` and may be submitted again.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, JSONType, UTCDateTime, UUIDPrimaryKey


class ClaimStatus(enum.StrEnum):
    """Where a claim is in the bureau's workflow."""

    PREPARED = "prepared"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    IN_NOTICE = "in_notice"
    PAID = "paid"


class SubsidyClaim(UUIDPrimaryKey, Base):
    """One version of a class's claim, with its totals and the digest of its lines."""

    __tablename__ = "subsidy_claims"
    __table_args__ = (UniqueConstraint("class_id", "version"),)

    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_classes.id"), index=True)
    version: Mapped[int]
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    prepared_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    eligible_count: Mapped[int]
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus), default=ClaimStatus.PREPARED,
                                                server_default=ClaimStatus.PREPARED.value)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    accepted_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    notice_from: Mapped[date | None]
    notice_until: Mapped[date | None]
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    payment_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")

    training_class = relationship("TrainingClass")
    prepared_by = relationship("User", foreign_keys=[prepared_by_id])
    lines = relationship("SubsidyClaimLine", back_populates="claim",
                         order_by="SubsidyClaimLine.position")


class SubsidyClaimLine(UUIDPrimaryKey, Base):
    """One trainee's line: eligible with an amount, or not with the reasons (amount 0)."""

    __tablename__ = "subsidy_claim_lines"

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subsidy_claims.id"), index=True)
    position: Mapped[int]
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), index=True)
    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    eligible: Mapped[bool]
    reasons: Mapped[list] = mapped_column(JSONType, default=list)
    net_minutes: Mapped[int]
    hour_minutes: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    standard_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subsidy_standards.id"))
    uplift: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    rule: Mapped[str] = mapped_column(Text)
    ledger_entry_ids: Mapped[list] = mapped_column(JSONType, default=list)
    trace_id: Mapped[str] = mapped_column(String(16), index=True)
    review: Mapped[str] = mapped_column(String(20), default="", server_default="")  # accepted / returned
    review_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    claim = relationship("SubsidyClaim", back_populates="lines")
    enrolment = relationship("Enrolment")
    trainee = relationship("Trainee")
    standard = relationship("SubsidyStandard")
