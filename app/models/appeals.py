"""Make-up and appeals (补签, 申诉): a trainee asks for minutes a failed or missed check lost.

An ``Appeal`` names the trainee's own enrolment, a session of its class, the span claimed, a
reason category and the trainee's words. An instructor of the class approves it after an ID-card
check or a witnessed face check (``method``) or rejects it, with a note. An approval opens and
closes a presence interval of mode ``appeal`` over the span and credits it under the usual rules;
the appeal is that interval's evidence (``interval_id``), and its minutes are reported separately.
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, UTCDateTime, UUIDPrimaryKey


class AppealStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Appeal(UUIDPrimaryKey, Base):
    """One make-up request for a missed check-in, check-out or roll-call."""

    __tablename__ = "appeals"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), index=True)
    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_classes.id"), index=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("class_sessions.id"))
    missed: Mapped[str] = mapped_column(String(20))          # check_in / check_out / roll_call
    category: Mapped[str] = mapped_column(String(20))        # network / device / lighting / face
    statement: Mapped[str] = mapped_column(Text)
    claimed_from: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_to: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[AppealStatus] = mapped_column(enum_column(AppealStatus), default=AppealStatus.PENDING)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(String(20), default="")   # id_card / witnessed_face
    decision_note: Mapped[str] = mapped_column(Text, default="")
    interval_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("presence_intervals.id"))
    # the witnessed face check: the paced challenge an instructor started for it, and the
    # verification it produced (the evidence of an approval by witnessed face check)
    witness_challenge_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("check_in_challenges.id"))
    witness_verification_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("face_verifications.id"))

    class_session = relationship("ClassSession")
    trainee = relationship("Trainee")


__all__ = ["Appeal", "AppealStatus"]
