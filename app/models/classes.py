"""Training classes (opened by application, 开班申请) and the trainees enrolled in them."""
from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, Timestamps, UUIDPrimaryKey


class ClassStatus(enum.StrEnum):
    """draft → submitted → approved (or rejected) → running → completed (R7)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    RUNNING = "running"
    COMPLETED = "completed"


class TrainingClass(UUIDPrimaryKey, Timestamps, Base):
    """One class of a programme run by an institution."""

    __tablename__ = "training_classes"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id"))
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"))
    status: Mapped[ClassStatus] = mapped_column(enum_column(ClassStatus), default=ClassStatus.DRAFT)
    start_date: Mapped[date]
    end_date: Mapped[date]

    institution = relationship("Institution")
    programme = relationship("Programme")
    enrolments = relationship("Enrolment", back_populates="training_class")


class Enrolment(UUIDPrimaryKey, Timestamps, Base):
    """A trainee on a class roster; its id is the xAPI `context.registration`."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("class_id", "trainee_id"),)

    class_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_classes.id"))
    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"))

    training_class = relationship("TrainingClass", back_populates="enrolments")
    trainee = relationship("Trainee")
