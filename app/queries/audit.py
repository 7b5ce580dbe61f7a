"""Reads of the audit log: entries page by page, narrowed by actor, action, time and object."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry


@dataclass(frozen=True)
class EntryFilter:
    """What the reader narrows the log to; empty fields narrow nothing. Times are instants
    (the page turns Beijing dates into them): ``since`` inclusive, ``until`` exclusive."""

    actor: str = ""
    action: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def list_entries(session: Session, before: int | None = None, limit: int = 100,
                 where: EntryFilter = EntryFilter()) -> list[AuditEntry]:
    """Up to ``limit`` entries matching ``where``, newest first, older than sequence number
    ``before`` when given. The actor matches as a part of the stored name (any case), the
    object as the start of its id, the action exactly."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    if where.actor:
        query = query.where(AuditEntry.actor.icontains(where.actor, autoescape=True))
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.object_id:
        query = query.where(AuditEntry.object_id.startswith(where.object_id, autoescape=True))
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    return list(session.scalars(query))


def list_actions(session: Session) -> list[str]:
    """Every action code the log holds, sorted."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
