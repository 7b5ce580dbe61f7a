"""Online study (R2, R4): the accrual state of a study interval and its face roll-calls.

A study interval is a `PresenceInterval` of an online session, opened and closed by a verified
face like a check-in. ``StudyState`` (one per such interval) holds the seconds counted from
heartbeats close enough together, the time of the last heartbeat, whether accrual is paused (a
failed or missed roll-call, until the next verified face) and when the next roll-call is due.
``verified_seconds`` is what was counted up to the last verified face (start, a passed
roll-call): a study closed without a final face is credited only that much. The heartbeat
pattern (``last_gap_ms``, ``regular_streak``, ``interactions``) feeds the ``risk_signals``.
``StudyRollCall`` is one roll-call: due, answered (passed or failed) or missed past its deadline;
each answer or miss is also a `FaceVerification` with its xAPI statement.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, JSONType, UTCDateTime, UUIDPrimaryKey


class RollCallOutcome(enum.StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    MISSED = "missed"


class StudyState(UUIDPrimaryKey, Base):
    """Accrual of one online study interval."""

    __tablename__ = "study_states"

    interval_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("presence_intervals.id"), unique=True)
    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    counted_seconds: Mapped[int] = mapped_column(default=0)
    last_heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeats: Mapped[int] = mapped_column(default=0)
    paused: Mapped[bool] = mapped_column(default=False)
    pause_reason: Mapped[str] = mapped_column(String(64), default="")
    next_roll_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    last_gap_ms: Mapped[int] = mapped_column(default=0, server_default="0")
    regular_streak: Mapped[int] = mapped_column(default=0, server_default="0")
    interactions: Mapped[int] = mapped_column(default=0, server_default="0")
    risk_signals: Mapped[list] = mapped_column(JSONType, default=list, server_default="[]")

    interval = relationship("PresenceInterval")


class StudyRollCall(UUIDPrimaryKey, Base):
    """One random face roll-call during study."""

    __tablename__ = "study_roll_calls"

    interval_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("presence_intervals.id"), index=True)
    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    local_day: Mapped[date]
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[RollCallOutcome] = mapped_column(enum_column(RollCallOutcome), default=RollCallOutcome.PENDING)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("face_verifications.id"))


class HeldStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class HeldHours(UUIDPrimaryKey, Base):
    """A credit held for review: its ledger entry is written, but its minutes count towards
    progress and subsidy only once an instructor of the class accepts them; a rejection appends
    the reversing entry. ``status`` changes once, from pending (a conditional update)."""

    __tablename__ = "held_hours"

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hours_ledger.id"), unique=True)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), index=True)
    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_classes.id"), index=True)
    interval_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("presence_intervals.id"))
    minutes: Mapped[int]
    reasons: Mapped[list] = mapped_column(JSONType, default=list)
    status: Mapped[HeldStatus] = mapped_column(enum_column(HeldStatus), default=HeldStatus.PENDING)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decision_statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class MakeUpClaim(UUIDPrimaryKey, Base):
    """Make-up study (补学) of a study interval whose minutes were not all credited: claimed by the
    trainee within the working-day window, attached to their next study of the same enrolment
    (``study_interval_id``), whose credit is capped at ``missing_minutes``. One per source
    interval (never made up twice)."""

    __tablename__ = "makeup_claims"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"))
    source_interval_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("presence_intervals.id"), unique=True)
    missing_minutes: Mapped[int]
    deadline: Mapped[date]             # the last Beijing day the make-up may be studied
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    study_interval_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("presence_intervals.id"), unique=True)


__all__ = ["HeldHours", "HeldStatus", "MakeUpClaim", "RollCallOutcome", "StudyRollCall", "StudyState"]
