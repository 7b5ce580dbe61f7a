"""Engine set-up per dialect, and the write lock a service transaction takes first.

SQLite: WAL (readers carry on during a write), foreign keys on, a busy timeout, and SQLite's
own transaction handling replaced by SQLAlchemy's so that a service's write transaction can
start with ``BEGIN IMMEDIATE``. Without that, two requests that read and then write would both
start reading, and the second to write would fail with "database is locked" instead of waiting.
SQLAlchemy's SQLite dialect also learns table hints: ``select.with_hint(table, "INDEXED BY ix",
"sqlite")`` renders SQLite's own ``INDEXED BY`` (the reconciliation walks chosen indexes).
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import Column, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine

from app.extensions import db

WRITE_OPTION = "skilltrace_write"


def _on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" hook below emit BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _on_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION)
                         else "BEGIN")


def _sqlite_table_hint(_compiler, _table, hint: str | None) -> str | None:
    """The text after a table name in FROM: SQLAlchemy passes only hints given for "sqlite"."""
    return hint


SQLiteCompiler.get_from_hint_text = _sqlite_table_hint


def include_in_autogenerate(obj, _name, type_, reflected, _compare_to) -> bool:
    """Alembic's filter: a model index kept to another database (``ddl_if``) is not missing here,
    and indexes on expressions are left out on both sides: Alembic compares their SQL text, which
    the database rewrites (``IN`` becomes ``= ANY``), so tests/services/test_reconciliation_plans.py
    compares the indexes the database built instead."""
    if type_ != "index":
        return True
    if not all(isinstance(element, Column) for element in obj.expressions):
        return False
    ddl_if = None if reflected else getattr(obj, "_ddl_if", None)
    return ddl_if is None or ddl_if.dialect in (None, db.engine.dialect.name)


def configure_engine(engine: Engine) -> None:
    """Install the SQLite hooks on ``engine``; other dialects need none."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)


def init_app(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and configure its engine."""
    db.init_app(app)
    from app.models.limits import refuse_overlong
    if not event.contains(db.session, "before_flush", refuse_overlong):
        event.listen(db.session, "before_flush", refuse_overlong)
    with app.app_context():
        configure_engine(db.engine)
