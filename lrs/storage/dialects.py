"""Dialect differences, kept in one place: JSON/JSONB, big integer keys, and upserts."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Integer, Table
from sqlalchemy.dialects import postgresql, sqlite
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
        session.execute(stmt, rows)


def upsert(session: Session, table: Table, row: dict, keys: list[str],
           update: list[str]) -> None:
    """Insert `row`, or update the `update` columns of the row with the same `keys`."""
    stmt = _insert_for(session, table).values(**row)
    stmt = stmt.on_conflict_do_update(index_elements=keys,
                                      set_={col: stmt.excluded[col] for col in update})
    session.execute(stmt)
