"""Dialect differences, kept in one place: JSON/JSONB, big integer keys, UTC timestamps and
upserts."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Table, TypeDecorator
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
