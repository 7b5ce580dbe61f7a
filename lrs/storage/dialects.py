"""Dialect differences, kept in one place: JSON/JSONB, big integer keys, UTC timestamps and
upserts."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, DateTime, Integer, Table, TypeDecorator, func,
                        select, text)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import Session

#: JSON everywhere, JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")

#: SQLite only auto-increments INTEGER PRIMARY KEY, so big keys fall back to it there.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


def _insert_for(session: Session, table: Table):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {name}")


def insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict],
                               keys: list[str]) -> None:
    """Insert `rows`, silently skipping those whose `keys` already exist."""
    if rows:
        stmt = _insert_for(session, table).on_conflict_do_nothing(index_elements=keys)
        # RETURNING lets SQLAlchemy batch the rows into multi-row INSERTs.
        session.execute(stmt.returning(*[table.c[key] for key in keys]), rows)


def upsert(session: Session, table: Table, row: dict, keys: list[str],
           update: list[str]) -> None:
    """Insert `row`, or update the `update` columns of the row with the same `keys`."""
    stmt = _insert_for(session, table).values(**row)
    stmt = stmt.on_conflict_do_update(index_elements=keys,
                                      set_={col: stmt.excluded[col] for col in update})
    session.execute(stmt)


class unindexed(FunctionElement):  # noqa: N801 (used like a SQL function)
    """A timestamp column that a condition should not use an index of: SQLite's unary `+`
    (its documented way to keep the planner off an index), the plain column elsewhere."""

    inherit_cache = True

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw) -> str:
    return "+" + compiler.process(element.clauses, **kw)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps the zone (timestamptz); SQLite stores text without one, so values are
    normalised to UTC on the way in and tagged UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


#: The PostgreSQL advisory lock that orders statement writes (an arbitrary constant: "LRS").
STATEMENT_WRITE_LOCK = 0x4C5253


def lock_statement_writes(session: Session) -> None:
    """Hold the statement write lock until the transaction ends, so that writers take their
    `stored` time and keys one after another, in commit order.

    SQLite's writing transactions begin with BEGIN IMMEDIATE, which already holds the
    database's only write lock; PostgreSQL takes a transaction-level advisory lock, released
    only after the commit is visible to every new snapshot.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": STATEMENT_WRITE_LOCK})


def wait_for_statement_writes(session: Session) -> None:
    """Wait until the statement write in flight, if any, has committed (the caller then
    ends its transaction, letting the next writer in).

    SQLite: the caller's writing transaction (BEGIN IMMEDIATE) has already waited for the
    write lock. PostgreSQL: a shared hold of the writers' advisory lock, to the end of the
    caller's transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"),
                        {"key": STATEMENT_WRITE_LOCK})


def bulk_insert(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert many rows fast in the session's transaction: COPY on PostgreSQL (no SQL to
    build or parse), a batched executemany elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = list(rows[0])
        cursor = session.connection().connection.driver_connection.cursor()
        names = ", ".join(f'"{name}"' for name in columns)
        dbapi = session.get_bind().dialect.dbapi
        statement = f'COPY "{table.name}" ({names}) FROM STDIN'
        try:
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([json.dumps(value) if isinstance(value, (dict, list))
                                    else value for value in (row[name] for name in columns)])
        except dbapi.IntegrityError as exc:  # raised by the driver: give it SQLAlchemy's type
            raise IntegrityError(statement, None, exc) from exc
        except dbapi.Error as exc:
            raise DBAPIError(statement, None, exc) from exc
        return
    session.execute(table.insert(), rows)


def bulk_insert_with_keys(session: Session, table: Table, rows: list[dict]) -> list[int]:
    """Insert rows into a table with an auto-increment `pk` and return their keys in order.

    PostgreSQL draws the keys from the sequence in one query and COPYs the rows. SQLite
    numbers them after the current maximum and inserts them in one executemany: a writing
    transaction there holds the database's only write lock, so no other writer can take
    those numbers (a deferred transaction that lost the lock fails instead of colliding).
    """
    if session.get_bind().dialect.name == "postgresql":
        keys = list(session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'pk')) "
                 "FROM generate_series(1, :n)"), {"t": table.name, "n": len(rows)}).scalars())
        bulk_insert(session, table, [{"pk": key, **row} for key, row in zip(keys, rows)])
        return keys
    # A bare max() of the integer key is one b-tree seek; wrapped (coalesce) it is a scan.
    first = (session.execute(select(func.max(table.c.pk))).scalar_one() or 0) + 1
    keys = list(range(first, first + len(rows)))
    session.execute(table.insert(), [{"pk": key, **row} for key, row in zip(keys, rows)])
    return keys
