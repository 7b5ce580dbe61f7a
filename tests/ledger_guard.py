"""Lifting the ledger's append-only triggers inside one transaction, for tests that tamper with
the ledger on purpose and for emptying the tables after a test.

PostgreSQL: ``SET LOCAL session_replication_role = replica`` (superuser; ends with the
transaction). SQLite: the triggers are dropped and re-created in the same transaction.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import Connection, text

from app.models.ledger_guard import drop_guard_ddl, guard_ddl


@contextmanager
def ledger_guard_lifted(conn: Connection):
    """Within the block, ``conn`` may UPDATE and DELETE ledger rows."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield
        conn.execute(text("SET LOCAL session_replication_role = origin"))
        return
    for statement in drop_guard_ddl(dialect):
        conn.execute(text(statement))
    yield
    for statement in guard_ddl(dialect):
        conn.execute(text(statement))
