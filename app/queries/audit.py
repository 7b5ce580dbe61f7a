"""Reads of the audit log."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry


def list_entries(session: Session, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """Up to ``limit`` entries, newest first, older than sequence number ``before`` when given."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    return list(session.scalars(query))
