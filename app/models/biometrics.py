"""Face data under PIPL rules: separate, versioned, withdrawable consent; encrypted templates;
duplicate-face flags; and the recorded alternative for people who refuse face recognition."""
from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, JSONType, Timestamps, UTCDateTime, UUIDPrimaryKey


class ConsentMethod(enum.StrEnum):
    """How consent or its withdrawal was given."""

    ON_SCREEN = "on_screen"  # the trainee ticked the consent on the enrolment page
    PAPER = "paper"          # a signed form, recorded by staff


class ConsentText(UUIDPrimaryKey, Timestamps, Base):
    """One version of the consent text shown before face enrolment."""

    __tablename__ = "consent_texts"

    version: Mapped[str] = mapped_column(String(20), unique=True)
    body: Mapped[str] = mapped_column(Text)
    retention_days: Mapped[int]


class Consent(UUIDPrimaryKey, Timestamps, Base):
    """A trainee's consent to face processing under one text version; withdrawable."""

    __tablename__ = "consents"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    consent_text_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_texts.id"))
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # the signed form's reference when staff record consent (or its withdrawal) on paper
    paper_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reference: Mapped[str] = mapped_column(String(100), default="", server_default="")

    consent_text = relationship("ConsentText")

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class AlternativeVerification(UUIDPrimaryKey, Timestamps, Base):
    """A trainee who refuses face recognition is verified by an instructor checking the ID card;
    this records that arrangement and why, and is reported separately."""

    __tablename__ = "alternative_verifications"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # counts only once a reviewer other than the arranger confirms it
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class FaceTemplate(UUIDPrimaryKey, Timestamps, Base):
    """A trainee's enrolled face template, encrypted at rest (AES-GCM) and tagged with the
    encoder that made it and the detector whose landmarks aligned its faces (``retinaface`` or
    ``hog``: probes are compared only with templates of their own pipeline; rows older than the
    column are ``hog``, see its migration); deleted when consent is withdrawn."""

    __tablename__ = "face_templates"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), unique=True)
    encoder: Mapped[str] = mapped_column(String(32))
    detector: Mapped[str] = mapped_column(String(16), server_default="hog")
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    captures: Mapped[int]


class DuplicateFaceFlag(UUIDPrimaryKey, Timestamps, Base):
    """An enrolment whose face is close to trainees under other IDs (R1), for review: refused
    (``refused``: within the duplicate threshold) or kept but listed (within the looser review
    threshold). ``matched_trainee_id`` and ``score`` are the nearest; ``candidates`` the nearest
    few, closest first: ``[{"trainee_id", "distance"}]``."""

    __tablename__ = "duplicate_face_flags"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    matched_trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"))
    score: Mapped[float]
    refused: Mapped[bool] = mapped_column(default=True)
    candidates: Mapped[list | None] = mapped_column(JSONType)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
