"""The reconciliation's portable SQL: functions of timestamps and of audit entries' object ids,
each compiled for PostgreSQL and for SQLite, so that the checks (`app.services.reconciliation`)
read the same on both databases."""
from __future__ import annotations

from sqlalchemy import Float, Text, cast, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.models.reconciliation_indexes import ObjectHex, ObjectUuid

#: Slack, in seconds, when comparing credited minutes with the interval's length in SQL
#: (SQLite's julianday() arithmetic is a float).
SLACK_SECONDS = 1


class SecondsBetween(FunctionElement):
    """Seconds from the first timestamp to the second (a float)."""

    type = Float()
    inherit_cache = True


@compiles(SecondsBetween)
def _seconds_between_pg(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(SecondsBetween, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
            " * 86400.0)")


def _pairwise(name: str, doc: str, postgresql: str, sqlite: str) -> type[FunctionElement]:
    """A SQL function of two timestamps named ``postgresql`` there and ``sqlite`` on SQLite."""
    element = type(name, (FunctionElement,), {"__doc__": doc, "inherit_cache": True})
    compiles(element)(lambda el, compiler, **kw: f"{postgresql}({compiler.process(el.clauses, **kw)})")
    compiles(element, "sqlite")(lambda el, compiler, **kw: f"{sqlite}({compiler.process(el.clauses, **kw)})")
    return element


Later = _pairwise("Later", "The later of two timestamps.", "GREATEST", "max")
Earlier = _pairwise("Earlier", "The earlier of two timestamps.", "LEAST", "min")


class Names(FunctionElement):
    """SQLite: true when an audit entry's ``object_id`` (``str(uuid)``) names the record with this
    id. Untyped: as a Boolean, SQLAlchemy would append ``= 1`` and hide it from the index."""

    inherit_cache = True


@compiles(Names, "sqlite")
def _names_sqlite(element, compiler, **kw):
    object_id, record_id = element.clauses
    # SQLite stores the record's UUID as 32 hex digits: compare with the indexed ObjectHex of
    # the entry; unary + drops the column's text affinity, which would keep the index unused
    return f"{compiler.process(ObjectHex(object_id), **kw)} = +{compiler.process(record_id, **kw)}"


class MoreThanASecondApart(FunctionElement):
    """True when two timestamps are more than the slack apart (NULL when either is NULL)."""

    inherit_cache = True


@compiles(MoreThanASecondApart)
def _apart_pg(element, compiler, **kw):
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    slack = f"INTERVAL '{SLACK_SECONDS} second'"  # interval arithmetic: no numeric epoch per row
    return f"({first} - {second} > {slack} OR {second} - {first} > {slack})"


@compiles(MoreThanASecondApart, "sqlite")
def _apart_sqlite(element, compiler, **kw):
    first, second = element.clauses
    return f"abs({compiler.process(SecondsBetween(first, second), **kw)}) > {SLACK_SECONDS}"


def typed_text(name: str):
    """A text constant, typed in the SQL (PostgreSQL merges UNION branches of one type only)."""
    return cast(literal_column(f"'{name}'"), Text)


class NamedId(FunctionElement):
    """The record id an audit entry's (object_type, object_id) names, comparable with the
    record's id column: SQLite, the id without dashes (the stored hex); PostgreSQL, `ObjectUuid`
    (a UUID only for the audited tables, so no other entry's id is ever cast)."""

    inherit_cache = True


@compiles(NamedId)
def _named_id_pg(element, compiler, **kw):
    return compiler.process(ObjectUuid(*element.clauses), **kw)


@compiles(NamedId, "sqlite")
def _named_id_sqlite(element, compiler, **kw):
    _object_type, object_id = element.clauses
    return compiler.process(ObjectHex(object_id), **kw)
