"""One lock per trainee for every write that opens, closes or credits their presence.

On PostgreSQL a transaction-scoped advisory lock keyed by the trainee: check-ins, study
heartbeats, roll-calls and credits of one person queue here, so the per-person daily cap and the
one-open-interval rule are decided one at a time (the lock is re-entrant within a transaction).
SQLite already serialises writers (BEGIN IMMEDIATE), so nothing is needed there.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_KEY = "skilltrace-attendance:"


def lock_trainee(session: Session, trainee_id) -> None:
    """Hold the trainee's lock until the end of the caller's transaction (PostgreSQL)."""
    if trainee_id is not None and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                        {"k": _KEY + str(trainee_id)})
