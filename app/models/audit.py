"""The hash-chained audit log (R3): every state change appends one entry in its own transaction.

Each entry's hash, an HMAC under a chain key kept outside the database, covers its content and
the previous entry's hash, so changing, removing or reordering an entry breaks the chain from
that point on, and no one without the key can write an entry that verifies.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One audited action: who did what to which object, with the digest of what changed."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[uuid.UUID | None]  # no foreign key: the log outlives what it describes
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict] = mapped_column(JSONType)
    payload_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the id of the chain key (outside the database) the hash is an HMAC under; NULL for the
    # plain SHA-256 hashes of entries written before the chain was keyed
    key_id: Mapped[str | None] = mapped_column(String(32))
