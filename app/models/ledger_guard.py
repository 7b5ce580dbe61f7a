"""The database itself keeps the hours ledger append-only (R5): triggers refuse every UPDATE and
DELETE of ``hours_ledger`` rows (and TRUNCATE on PostgreSQL), whoever sends the SQL.

The same DDL is used by the Alembic migration and, through ``after_create`` listeners, by
``metadata.create_all()``, so every database built either way has the guard.
``guard_ddl``/``drop_guard_ddl`` return the statements for one dialect, to re-create the guard
after a deliberate tamper test (see ``tests/ledger_guard.py``).
"""
from __future__ import annotations

from sqlalchemy import DDL, Table, event

TABLE = "hours_ledger"
MESSAGE = "hours_ledger is append-only: add a reversal"

_SQLITE = [
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
                f"DROP TRIGGER IF EXISTS {TABLE}_no_delete"]

_POSTGRESQL = [
    f"CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP; END $$",
    f"CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
    f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()",
    f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()",
]
_POSTGRESQL_DROP = [f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
                    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
                    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()"]


def guard_ddl(dialect: str) -> list[str]:
    """The statements creating the append-only triggers on ``dialect`` ("sqlite"/"postgresql")."""
    return {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}[dialect]


def drop_guard_ddl(dialect: str) -> list[str]:
    """The statements removing the append-only triggers on ``dialect``."""
    return {"sqlite": _SQLITE_DROP, "postgresql": _POSTGRESQL_DROP}[dialect]


def attach_guard(table: Table) -> None:
    """Create the triggers whenever ``table`` is created by ``create_all``."""
    for dialect in ("sqlite", "postgresql"):
        for statement in guard_ddl(dialect):
            event.listen(table, "after_create",
                         DDL(statement.replace("%", "%%")).execute_if(dialect=dialect))


__all__ = ["MESSAGE", "attach_guard", "drop_guard_ddl", "guard_ddl"]
