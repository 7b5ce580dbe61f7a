"""Face-verified attendance (R2, R4): kiosks, one-time check-in challenges, every face
verification, presence intervals, lock-outs after repeated failures, per-programme hour rules and
the append-only hours ledger.

One trainee can hold at most one open presence interval: ``PresenceInterval.open_slot`` carries
the trainee's id while the interval is open and NULL once it is closed, under a UNIQUE
constraint, so two concurrent check-ins cannot both open one (NULLs do not collide, on SQLite as
on PostgreSQL). The ledger refuses UPDATE and DELETE through the ORM and, below it, by database
triggers (``app/models/ledger_guard.py``); corrections are reversing entries.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, Text, UniqueConstraint, Uuid, event, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import enum_column
from app.models.base import Base, JSONType, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from app.models.ledger_guard import attach_guard


class Purpose(enum.StrEnum):
    """What a challenge or a verification is for."""

    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    ROLL_CALL = "roll_call"
    WITNESS = "witness"            # a face check an instructor watches, to approve an appeal


class VerificationMode(enum.StrEnum):
    """How the person was verified: own device 1:1, kiosk 1:N, or the instructor-witnessed
    ID-card check for people who refuse face recognition (counted separately)."""

    PERSONAL = "personal"
    KIOSK = "kiosk"
    ALTERNATIVE = "alternative"
    # an instructor's correction of a missed check-out, with reason and evidence (counted separately)
    CORRECTION = "correction"
    APPEAL = "appeal"              # minutes made up by an approved appeal (counted separately)


class Decision(enum.StrEnum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


class IntervalStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EntryType(enum.StrEnum):
    CREDIT = "credit"
    REVERSAL = "reversal"


class Kiosk(UUIDPrimaryKey, Timestamps, Base):
    """A check-in terminal at one training site (a session ``place``) of one institution.

    Provisioned by the institution's staff with a one-time enrolment code (only its HMAC is kept,
    ``code_digest``, until it is used or expires); the kiosk page then binds a device key
    (ECDSA P-256, ``public_key`` as DER SubjectPublicKeyInfo; the private half never leaves the
    kiosk browser) and signs every request with it (``app.services.kiosks``). ``allowed_ranges``:
    the client address ranges (CIDR, comma-separated) it may call from; empty for any. It can
    identify trainees only among the rosters of classes of its institution that run at its site now.
    """

    __tablename__ = "kiosks"

    name: Mapped[str] = mapped_column(String(100))
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institutions.id"), index=True)
    site: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    #: The kiosk's screen faces the trainee, so paced checks there include the screen-colour step.
    screen_facing: Mapped[bool] = mapped_column(default=True, server_default=true())
    allowed_ranges: Mapped[str] = mapped_column(String(500), default="")
    code_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    institution = relationship("Institution")


class CheckInChallenge(UUIDPrimaryKey, Base):
    """A single-use nonce with a short lifetime and the liveness action asked for."""

    __tablename__ = "check_in_challenges"

    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    action: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose))
    trainee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trainees.id"), index=True)
    kiosk_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("kiosks.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A server-paced conversation (``recognition.paced``): ``state`` holds the hidden script and
    #: its progress, ``probe`` the sealed encoding of the most frontal frame until it is used, and
    #: ``kept_frames`` the sealed frames to keep with the check if retained or held for review; both
    #: are cleared when the challenge is used or, unused, once it expired (`face_images.clear_stale_buffers`).
    paced: Mapped[bool] = mapped_column(default=False)
    state: Mapped[dict | None] = mapped_column(JSONType)
    face_seen: Mapped[bool] = mapped_column(default=False)
    probe: Mapped[bytes | None] = mapped_column(LargeBinary)
    kept_frames: Mapped[bytes | None] = mapped_column(LargeBinary)


class FaceFingerprint(UUIDPrimaryKey, Timestamps, Base):
    """A perceptual fingerprint of one accepted or enrolment frame (sealed; ``recognition.paced``):
    a later frame too close to one is refused as ``replayed``. Deleted on consent withdrawal and
    after the retention period."""

    __tablename__ = "face_fingerprints"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class FaceVerification(UUIDPrimaryKey, Base):
    """One verification attempt, accepted or refused with its reason code (never a face image)."""

    __tablename__ = "face_verifications"

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    trainee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trainees.id"), index=True)
    enrolment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enrolments.id"), index=True)
    class_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("training_classes.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    kiosk_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("kiosks.id"))
    challenge_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("check_in_challenges.id"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose))
    mode: Mapped[VerificationMode] = mapped_column(enum_column(VerificationMode))
    decision: Mapped[Decision] = mapped_column(enum_column(Decision))
    reason: Mapped[str] = mapped_column(String(64), default="")
    distance: Mapped[float | None]
    threshold: Mapped[float | None]
    liveness_passed: Mapped[bool | None] = mapped_column(Boolean)
    liveness_reason: Mapped[str] = mapped_column(String(64), default="")
    device: Mapped[str] = mapped_column(String(200), default="")
    statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: Risk of an accepted paced check (``app.services.risk``): 0–100 and the signal codes behind
    #: it; at or above ``RISK_HOLD_SCORE`` the minutes its interval credits are held for review.
    risk_score: Mapped[int | None]
    risk_reasons: Mapped[list | None] = mapped_column(JSONType)
    #: A refused kiosk identification: the trainee the 1:N search named (``app.services.kiosk_lock``).
    candidate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("trainees.id"), index=True)


class PresenceInterval(UUIDPrimaryKey, Base):
    """Verified presence of an enrolment in one session, from check-in to check-out."""

    __tablename__ = "presence_intervals"

    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), index=True)
    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("class_sessions.id"), index=True)
    mode: Mapped[VerificationMode] = mapped_column(enum_column(VerificationMode))
    status: Mapped[IntervalStatus] = mapped_column(enum_column(IntervalStatus), default=IntervalStatus.OPEN)
    # the trainee's id while open, NULL once closed: UNIQUE makes "one open interval" a DB rule
    open_slot: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    check_in_verification_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("face_verifications.id"))
    check_out_verification_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("face_verifications.id"))
    check_in_statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    check_out_statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # why it closed: "" (a check-out), "no_check_out" (the scheduler, after the session), or
    # "corrected" (an instructor's correction of a missed check-out, with reason and evidence)
    close_reason: Mapped[str] = mapped_column(String(40), default="", server_default="")
    corrects_interval_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("presence_intervals.id"),
                                                                    unique=True)
    correction_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    correction_evidence: Mapped[str] = mapped_column(Text, default="", server_default="")

    enrolment = relationship("Enrolment")
    class_session = relationship("ClassSession")


class CheckInLock(UUIDPrimaryKey, Base):
    """A trainee locked out after repeated failures, until an instructor unlocks: ``scope``
    ``personal`` (self check-in) or ``kiosk`` (kiosk check-ins: failed identifications at a kiosk
    that named this trainee, ``app.services.kiosk_lock``)."""

    __tablename__ = "check_in_locks"

    trainee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("trainees.id"), index=True)
    scope: Mapped[str] = mapped_column(String(20), default="personal")
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    failures: Mapped[int]
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unlocked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    unlock_reason: Mapped[str] = mapped_column(Text, default="")


class HourRule(UUIDPrimaryKey, Timestamps, Base):
    """One version of a programme's counting rules, in force from ``effective_from`` (a Beijing
    date) until the next version's; programmes without any use the config defaults. Versions are
    only added, never changed, and never back-dated into a day already credited."""

    __tablename__ = "hour_rules"
    __table_args__ = (UniqueConstraint("programme_id", "version", name="uq_hour_rules_programme_version"),
                      UniqueConstraint("programme_id", "effective_from", name="uq_hour_rules_programme_effective_from"))

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    version: Mapped[int]               # 1, 2, … per programme
    effective_from: Mapped[date]       # Beijing date from which it applies
    daily_cap_minutes: Mapped[int]
    unit_minutes: Mapped[int]          # rounding: 1 (minutes) or one standard hour
    tolerance_minutes: Mapped[int]
    hour_length_minutes: Mapped[int]   # one standard hour (学时): 45 or 60 minutes
    practical_percent: Mapped[int]     # share of the required hours that is practice
    roll_calls_per_hour: Mapped[int]   # face roll-calls per hour of online study
    set_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    set_by = relationship("User")


class HoursEntry(UUIDPrimaryKey, Base):
    """One append-only ledger line: minutes credited from an interval (positive) or a reversal
    of an earlier entry (negative, with the reason and the instructor)."""

    __tablename__ = "hours_ledger"

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), index=True)
    entry_type: Mapped[EntryType] = mapped_column(enum_column(EntryType))
    minutes: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))             # theory / practice
    mode: Mapped[VerificationMode] = mapped_column(enum_column(VerificationMode))
    local_day: Mapped[date]                                   # Beijing date, for the daily cap
    interval_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("presence_intervals.id"), unique=True)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hours_ledger.id"), unique=True)
    rule: Mapped[dict] = mapped_column(JSONType, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    statement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # the version of the programme's hour rule that credited it (None: the config defaults)
    hour_rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hour_rules.id"))


attach_guard(HoursEntry.__table__)


class LedgerIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a ledger line."""


@event.listens_for(HoursEntry, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise LedgerIsAppendOnly(f"hours ledger entry {target.id} cannot be changed; add a reversal")


@event.listens_for(HoursEntry, "before_delete")
def _refuse_delete(_mapper, _connection, target):
    raise LedgerIsAppendOnly(f"hours ledger entry {target.id} cannot be deleted; add a reversal")


__all__ = ["CheckInChallenge", "CheckInLock", "Decision", "EntryType", "FaceVerification",
           "HourRule", "HoursEntry", "IntervalStatus", "Kiosk", "LedgerIsAppendOnly",
           "PresenceInterval", "Purpose", "VerificationMode"]
