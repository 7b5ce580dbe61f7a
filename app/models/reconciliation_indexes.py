"""Indexes that let the nightly reconciliation walk its joins in key order.

A whole-table join of two big tables costs about a microsecond a row as a hash join (PostgreSQL)
and more as index probes in random UUID order (SQLite, which has no hash join). Read in join-key
order from covering indexes instead, both sides stream: PostgreSQL merges two index-only scans,
SQLite probes the other side's index on neighbouring pages, and neither reads a table row
(PostgreSQL, 1M intervals: 4M records against the 4M-entry audit log, 6-7 s hashed, 1.9 s merged).

Most of them are plain column lists and serve both databases. Where the two differ:

* the statements: SQLite's index holds a credit statement's minutes (`StatementMinutes`, an
  expression); PostgreSQL cannot return an expression from an index-only scan, so it walks the
  statements' unique id index, which INCLUDEs the other columns compared
  (`lrs.storage.tables.Statement`), and reads the ledger's minutes from the statements
  themselves, in a query of their own;
* the audit log: SQLite compares an entry's object id without its dashes with the stored hex of
  the record's UUID (`ObjectHex`); PostgreSQL reads the object ids of the audited tables' entries
  as UUIDs (`ObjectUuid`), in the records' order.

The queries must write an expression exactly as its index does for the index to be used.
"""
from __future__ import annotations

from sqlalchemy import Index, Integer, Uuid
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.models.attendance import FaceVerification, HoursEntry, PresenceInterval
from app.models.audit import AuditEntry
from app.xapi_profile import EXT
from lrs.storage.tables import Statement

MINUTES_EXTENSION = EXT["minutes"]


class StatementMinutes(FunctionElement):
    """``context.extensions[minutes]`` of a statement's payload, as an integer."""

    type = Integer()
    inherit_cache = True


@compiles(StatementMinutes)
def _minutes_default(element, compiler, **kw):
    (payload,) = element.clauses
    return compiler.process(payload[("context", "extensions", MINUTES_EXTENSION)]
                            .as_integer(), **kw)


@compiles(StatementMinutes, "sqlite")
def _minutes_sqlite(element, compiler, **kw):
    # the JSON path as a literal (a bound parameter would not match the index expression)
    return (f"CAST(json_extract({compiler.process(element.clauses, **kw)}, "
            f"'$.context.extensions.\"{MINUTES_EXTENSION}\"') AS INTEGER)")


class ObjectHex(FunctionElement):
    """An audit entry's ``object_id`` (``str(uuid)``) without its dashes: on SQLite, equal to
    the stored text of the record's UUID column."""

    inherit_cache = True


@compiles(ObjectHex)
def _object_hex(element, compiler, **kw):
    return f"replace({compiler.process(element.clauses, **kw)}, '-', '')"


#: The tables whose every record has an audit entry naming it (the reconciliation's audit check).
AUDITED_TABLES = tuple(model.__tablename__ for model in (HoursEntry, PresenceInterval, FaceVerification))


class ObjectUuid(FunctionElement):
    """PostgreSQL: an audit entry's ``object_id`` as a UUID when it names a record of
    `AUDITED_TABLES` (whose ids `app.services.audit.append_audit` writes as ``str(uuid)``),
    else NULL. A CASE, so that no other entry's object id is ever cast, whatever the plan."""

    type = Uuid()
    inherit_cache = True


@compiles(ObjectUuid)
def _object_uuid(element, compiler, **kw):
    object_type, object_id = (compiler.process(clause, **kw) for clause in element.clauses)
    tables = ", ".join(f"'{table}'" for table in AUDITED_TABLES)
    return f"(CASE WHEN {object_type} IN ({tables}) THEN CAST({object_id} AS UUID) END)"


def _sqlite_index(name: str, *columns) -> Index:
    return Index(name, *columns).ddl_if(dialect="sqlite")


def _postgresql_index(name: str, *columns, **options) -> Index:
    return Index(name, *columns, **options).ddl_if(dialect="postgresql")


#: The migrations create the same indexes.
INDEXES = [
    # statements check: each kind of record walked in statement-id order …
    Index("ix_presence_intervals_check_in_walk", PresenceInterval.check_in_statement_id,
          PresenceInterval.enrolment_id, PresenceInterval.id),
    Index("ix_presence_intervals_check_out_walk", PresenceInterval.check_out_statement_id,
          PresenceInterval.status, PresenceInterval.enrolment_id, PresenceInterval.id),
    Index("ix_hours_ledger_statement_walk", HoursEntry.statement_id, HoursEntry.entry_type,
          HoursEntry.enrolment_id, HoursEntry.minutes, HoursEntry.id),
    Index("ix_face_verifications_statement_walk", FaceVerification.statement_id,
          FaceVerification.enrolment_id, FaceVerification.id, FaceVerification.decision, FaceVerification.at),
    # … against the statements in id order, without reading a statement
    _sqlite_index("ix_lrs_statements_id_walk", Statement.id, Statement.registration,
                  StatementMinutes(Statement.payload), Statement.verb_iri, Statement.timestamp),
    # (PostgreSQL: the statements' unique id index, which INCLUDEs those columns; lrs.storage.tables)
    # presence check: intervals and credits both in interval-id order
    Index("ix_presence_intervals_id_walk", PresenceInterval.id, PresenceInterval.status,
          PresenceInterval.session_id, PresenceInterval.opened_at, PresenceInterval.closed_at,
          PresenceInterval.enrolment_id),
    Index("ix_hours_ledger_interval_walk", HoursEntry.interval_id, HoursEntry.entry_type,
          HoursEntry.minutes, HoursEntry.enrolment_id, HoursEntry.id),
    # interval ends: closed intervals in check-out verification order, against the verifications
    Index("ix_presence_intervals_check_out_verification_walk",
          PresenceInterval.check_out_verification_id, PresenceInterval.status, PresenceInterval.closed_at,
          PresenceInterval.enrolment_id, PresenceInterval.id),
    Index("ix_face_verifications_id_walk", FaceVerification.id, FaceVerification.at),
    # interval openings, likewise against their check-in verifications
    Index("ix_presence_intervals_check_in_verification_walk", PresenceInterval.check_in_verification_id,
          PresenceInterval.opened_at, PresenceInterval.enrolment_id, PresenceInterval.id),
    # audit check: the records against the audit log by record id
    _sqlite_index("ix_audit_entries_object_hex", ObjectHex(AuditEntry.object_id)),
    _postgresql_index("ix_audit_entries_object_uuid", ObjectUuid(AuditEntry.object_type, AuditEntry.object_id),
                      postgresql_include=["object_type", "object_id"],
                      postgresql_where=AuditEntry.object_type.in_(AUDITED_TABLES)),
]
