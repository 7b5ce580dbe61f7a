"""Training classes, opened by application (开班申请): sessions, instructors, the roster of
enrolments and the exemptions granted on them."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, Timestamps, UTCDateTime, UUIDPrimaryKey


class ClassStatus(enum.StrEnum):
    """draft → submitted → approved (or rejected) → running → completed (R7)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    RUNNING = "running"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"   # the institution withdrew its application before approval


class SessionKind(enum.StrEnum):
    """What a session teaches; hours are credited as theory or practice accordingly."""

    THEORY = "theory"
    PRACTICE = "practice"


class_instructors = Table(
    "class_instructors",
    Base.metadata,
    Column("class_id", ForeignKey("training_classes.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class TrainingClass(UUIDPrimaryKey, Timestamps, Base):
    """One class of a programme run by an institution, from application to completion."""

    __tablename__ = "training_classes"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id"), index=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    status: Mapped[ClassStatus] = mapped_column(enum_column(ClassStatus), default=ClassStatus.DRAFT)
    start_date: Mapped[date]
    end_date: Mapped[date]
    teaching_plan: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[str] = mapped_column(Text, default="")
    assessment_plan: Mapped[str] = mapped_column(Text, default="")
    drafted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str] = mapped_column(Text, default="")

    institution = relationship("Institution")
    programme = relationship("Programme")
    enrolments = relationship("Enrolment", back_populates="training_class")
    sessions = relationship("ClassSession", back_populates="training_class",
                            order_by="ClassSession.starts_at", cascade="all, delete-orphan")
    instructors = relationship("User", secondary=class_instructors, order_by="User.username")
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])


class ClassSession(UUIDPrimaryKey, Base):
    """One scheduled session of a class: when, theory or practice, where (or online)."""

    __tablename__ = "class_sessions"

    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_classes.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind))
    place: Mapped[str] = mapped_column(String(200), default="")
    online: Mapped[bool] = mapped_column(default=False)

    training_class = relationship("TrainingClass", back_populates="sessions")


class Enrolment(UUIDPrimaryKey, Timestamps, Base):
    """A trainee on a class roster; its id is the xAPI `context.registration`."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("class_id", "trainee_id"),)

    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_classes.id"))
    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)

    training_class = relationship("TrainingClass", back_populates="enrolments")
    trainee = relationship("Trainee")
    exemptions = relationship("Exemption", back_populates="enrolment")

    @property
    def exempted_hours(self) -> int:
        """Hours exempted by confirmed exemptions only: a pending one lowers nothing yet."""
        return sum(e.hours for e in self.exemptions if e.confirmed_at is not None)

    @property
    def pending_exemption_hours(self) -> int:
        return sum(e.hours for e in self.exemptions if e.confirmed_at is None)


class Exemption(UUIDPrimaryKey, Timestamps, Base):
    """Hours an enrolment need not attend (免修), granted on a certificate, with the reason."""

    __tablename__ = "exemptions"

    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), index=True)
    certificate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("certificates.id"))
    hours: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # second person (R10): pending until a reviewer other than the granter confirms it
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    enrolment = relationship("Enrolment", back_populates="exemptions")
    certificate = relationship("Certificate")
