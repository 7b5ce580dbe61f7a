"""The outbox of statements to forward to an external LRS (issue 6, scheduler).

When forwarding is configured, every statement SkillTrace writes is queued here in the same
transaction. A forwarder claims due rows (``claim_token`` + ``claimed_until``, a lease), sends
them, then marks them sent or records the failure with the next attempt time (exponential
backoff). A claim whose lease ran out (a forwarder that died) can be taken again; statements
keep their ids, so such a resend is idempotent at the receiver.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class ForwardedStatement(UUIDPrimaryKey, Base):
    """One statement waiting for (or done with) forwarding."""

    __tablename__ = "xapi_outbox"

    statement_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        # only unsent rows are looked for
        Index("ix_xapi_outbox_pending", "next_attempt_at", postgresql_where=text("sent_at IS NULL"),
              sqlite_where=text("sent_at IS NULL")),
    )


__all__ = ["ForwardedStatement"]
