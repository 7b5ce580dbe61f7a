"""Tampering behind the application's back: raw SQL on its own connection, bypassing the ORM
and lifting the ledger's append-only triggers, as someone with database access could. The one
place tests do it."""
from __future__ import annotations

import uuid
from contextlib import nullcontext
from datetime import datetime, timezone

from flask import has_app_context
from sqlalchemy import text

from app.extensions import db
from tests.ledger_guard import ledger_guard_lifted


def _raw(value, dialect: str):
    """A value as the driver takes it in raw SQL: on SQLite, UUIDs as 32 hex digits and times
    as naive UTC text, the way the app's column types store them."""
    if dialect != "sqlite":
        return value
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def behind_the_back(app, sql: str, **params) -> int:
    """Run ``sql`` with ``params`` in its own committed transaction; return the rows it touched.

    The test's session is ended first (so SQLite's writer is not blocked by its read) and sees
    the change on its next query.
    """
    with nullcontext() if has_app_context() else app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn, ledger_guard_lifted(conn):
            result = conn.execute(text(sql), {k: _raw(v, db.engine.dialect.name) for k, v in params.items()})
        return result.rowcount
