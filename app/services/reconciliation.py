"""Nightly reconciliation (R3, R4): the hours ledger, the presence intervals and the xAPI
statements must tell the same story.

Three set-based queries do the work, whatever the size of the ledger; Python only sees the rows
that differ:

* intervals: every closed interval has its credit entry, and every interval's check-in (and,
  once closed, check-out) statement exists with ``registration`` = the enrolment;
* ledger: every credit comes from a closed interval and credits no more than the interval's
  verified minutes (clipped to the session window), every reversal points at an existing credit
  and reverses exactly its minutes, and every entry's statement exists, with ``registration`` =
  the enrolment and the same minutes as the entry;
* verifications: every verification's statement exists, with ``registration`` = the enrolment
  (none for a refusal that named no enrolment).

"Exactly one credit per interval" is also a database rule (``hours_ledger.interval_id`` is
UNIQUE), so the queries only look for the missing one. Every record and its statements are
written in one commit and each query reads one snapshot, so a check-out running during the
reconciliation cannot show up as a difference.
"""
from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Float, and_, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement

from app.extensions import db
from app.models import (ClassSession, EntryType, FaceVerification, HoursEntry, IntervalStatus,
                        PresenceInterval)
from app.models.base import utcnow
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.xapi_records import EXT
from lrs.storage.tables import Statement

#: How many differences the audit entry lists (the report itself lists them all).
AUDITED_DIFFERENCES = 100
#: Settings of the reconciliation's read transaction (see `_full_scan_settings`).
_PG_WORK_MEM = "256MB"
_SQLITE_SCAN_PRAGMAS = {"mmap_size": (1 << 32, 0), "cache_size": (-262144, -2000)}  # (value, default)
#: Slack, in seconds, when comparing credited minutes with the interval's length in SQL
#: (SQLite's julianday() arithmetic is a float).
_SLACK_SECONDS = 1


# -- two portable SQL functions ------------------------------------------------------------------

class _SecondsBetween(FunctionElement):
    """Seconds from the first timestamp to the second (a float)."""

    type = Float()
    inherit_cache = True


@compiles(_SecondsBetween)
def _seconds_between_pg(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(_SecondsBetween, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
            " * 86400.0)")


class _Later(FunctionElement):
    """The later of two timestamps (GREATEST; SQLite's two-argument max())."""

    inherit_cache = True


@compiles(_Later)
def _later_pg(element, compiler, **kw):
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


@compiles(_Later, "sqlite")
def _later_sqlite(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


class _Earlier(FunctionElement):
    """The earlier of two timestamps (LEAST; SQLite's two-argument min())."""

    inherit_cache = True


@compiles(_Earlier)
def _earlier_pg(element, compiler, **kw):
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(_Earlier, "sqlite")
def _earlier_sqlite(element, compiler, **kw):
    return f"min({compiler.process(element.clauses, **kw)})"


# -- the report ----------------------------------------------------------------------------------

#: Every kind of difference, with what it means.
KINDS = {
    "interval_without_credit": "a closed interval has no credit entry",
    "credit_without_closed_interval": "a credit entry's interval is missing or not closed",
    "credit_exceeds_interval": "a credit has more minutes than its interval's verified minutes",
    "reversal_without_credit": "a reversal points at no credit entry",
    "reversal_minutes_mismatch": "a reversal does not reverse exactly its credit's minutes",
    "statement_missing": "a record's statement id is empty or not in the LRS",
    "registration_mismatch": "a statement's context.registration is not the record's enrolment",
    "statement_minutes_mismatch": "a ledger entry's minutes differ from its statement's",
}


@dataclass(frozen=True)
class Difference:
    """One disagreement: its kind (a key of `KINDS`) and the ids involved, as strings."""

    kind: str
    ids: dict

    def as_dict(self) -> dict:
        return {"kind": self.kind, "ids": self.ids}


@dataclass
class ReconciliationReport:
    """What was checked (counts of records) and every difference found."""

    run_id: uuid.UUID
    started_at: datetime
    seconds: float
    checked: dict
    differences: list[Difference] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        return not self.differences

    def counts_by_kind(self) -> dict:
        counts: dict = {}
        for difference in self.differences:
            counts[difference.kind] = counts.get(difference.kind, 0) + 1
        return counts

    def as_dict(self, limit: int | None = None) -> dict:
        listed = self.differences if limit is None else self.differences[:limit]
        return {"run_id": str(self.run_id), "started_at": self.started_at.isoformat(),
                "seconds": round(self.seconds, 3), "checked": self.checked,
                "differences_by_kind": self.counts_by_kind(),
                "differences": [d.as_dict() for d in listed]}


# -- the checks ----------------------------------------------------------------------------------

def _str(value) -> str | None:
    return None if value is None else str(value)


def _first(row) -> str:
    """Sort key of a result row: its first column, the record's id (the SQL does not sort:
    an ORDER BY over the whole table would make the scan follow the id index)."""
    return str(row[0])


def _statement_problem(stmt_pk, registration, enrolment_id) -> str | None:
    if stmt_pk is None:
        return "statement_missing"
    if registration != enrolment_id:
        return "registration_mismatch"
    return None


def _check_intervals(session: Session) -> list[Difference]:
    """Closed intervals without a credit; missing or misregistered check-in/check-out statements."""
    interval, credit = PresenceInterval, aliased(HoursEntry)
    s_in, s_out = aliased(Statement), aliased(Statement)
    closed = interval.status == IntervalStatus.CLOSED
    rows = session.execute(
        select(interval.id, interval.enrolment_id, interval.status, credit.id,
               interval.check_in_statement_id, s_in.pk, s_in.registration,
               interval.check_out_statement_id, s_out.pk, s_out.registration)
        .outerjoin(credit, and_(credit.interval_id == interval.id, credit.entry_type == EntryType.CREDIT))
        .outerjoin(s_in, s_in.id == interval.check_in_statement_id)
        .outerjoin(s_out, s_out.id == interval.check_out_statement_id)
        .where(or_(
            and_(closed, credit.id.is_(None)),
            s_in.pk.is_(None), s_in.registration.is_distinct_from(interval.enrolment_id),
            and_(closed, or_(s_out.pk.is_(None),
                             s_out.registration.is_distinct_from(interval.enrolment_id)))))).all()
    out = []
    for (interval_id, enrolment_id, status, credit_id, in_id, in_pk, in_reg,
         out_id, out_pk, out_reg) in sorted(rows, key=_first):
        ids = {"interval_id": str(interval_id), "enrolment_id": str(enrolment_id)}
        if status == IntervalStatus.CLOSED and credit_id is None:
            out.append(Difference("interval_without_credit", ids))
        if problem := _statement_problem(in_pk, in_reg, enrolment_id):
            out.append(Difference(problem, {**ids, "record": "check_in", "statement_id": _str(in_id)}))
        if status == IntervalStatus.CLOSED and (problem := _statement_problem(out_pk, out_reg, enrolment_id)):
            out.append(Difference(problem, {**ids, "record": "check_out", "statement_id": _str(out_id)}))
    return out


def _check_ledger(session: Session) -> list[Difference]:
    """Credits without a closed interval or above its minutes, reversals without their credit,
    and each entry's statement (present, registration, minutes)."""
    entry, target = HoursEntry, aliased(HoursEntry)
    interval, stmt = PresenceInterval, Statement
    is_credit = entry.entry_type == EntryType.CREDIT
    is_reversal = entry.entry_type == EntryType.REVERSAL
    verified_seconds = _SecondsBetween(_Later(interval.opened_at, ClassSession.starts_at),
                                       _Earlier(interval.closed_at, ClassSession.ends_at))
    too_many = or_(entry.minutes < 0,
                   entry.minutes * 60 > func.coalesce(verified_seconds, 0) + _SLACK_SECONDS)
    stmt_minutes = stmt.payload[("context", "extensions", EXT["minutes"])].as_integer()
    rows = session.execute(
        select(entry.id, entry.entry_type, entry.enrolment_id, entry.minutes, entry.interval_id,
               interval.id, interval.status, too_many.label("too_many"),
               entry.reverses_id, target.id, target.entry_type, target.minutes,
               entry.statement_id, stmt.pk, stmt.registration, stmt_minutes.label("stmt_minutes"))
        .outerjoin(interval, and_(is_credit, interval.id == entry.interval_id))
        .outerjoin(ClassSession, ClassSession.id == interval.session_id)
        .outerjoin(target, and_(is_reversal, target.id == entry.reverses_id))
        .outerjoin(stmt, stmt.id == entry.statement_id)
        .where(or_(
            and_(is_credit, or_(interval.id.is_(None), interval.status != IntervalStatus.CLOSED, too_many)),
            and_(is_reversal, or_(target.id.is_(None), target.entry_type != EntryType.CREDIT,
                                  entry.minutes != -target.minutes)),
            stmt.pk.is_(None), stmt.registration.is_distinct_from(entry.enrolment_id),
            stmt_minutes.is_distinct_from(entry.minutes)))).all()
    out = []
    for (entry_id, entry_type, enrolment_id, minutes, interval_ref, interval_id, status, exceeds,
         reverses_id, target_id, target_type, target_minutes,
         statement_id, stmt_pk, registration, statement_minutes) in sorted(rows, key=_first):
        ids = {"entry_id": str(entry_id), "enrolment_id": str(enrolment_id)}
        if entry_type == EntryType.CREDIT:
            if interval_id is None or status != IntervalStatus.CLOSED:
                out.append(Difference("credit_without_closed_interval", {**ids, "interval_id": _str(interval_ref)}))
            elif exceeds:
                out.append(Difference("credit_exceeds_interval", {**ids, "interval_id": str(interval_id),
                                                                  "minutes": str(minutes)}))
        else:
            if target_id is None or target_type != EntryType.CREDIT:
                out.append(Difference("reversal_without_credit", {**ids, "reverses_id": _str(reverses_id)}))
            elif minutes != -target_minutes:
                out.append(Difference("reversal_minutes_mismatch", {**ids, "reverses_id": str(target_id)}))
        record = {"record": str(entry_type),
                  "statement_id": _str(statement_id)}
        if problem := _statement_problem(stmt_pk, registration, enrolment_id):
            out.append(Difference(problem, {**ids, **record}))
        elif statement_minutes != minutes:
            out.append(Difference("statement_minutes_mismatch", {
                **ids, **record, "minutes": str(minutes), "statement_minutes": _str(statement_minutes)}))
    return out


def _check_verifications(session: Session) -> list[Difference]:
    """Every verification's statement exists and carries its enrolment (or none)."""
    verification, stmt = FaceVerification, Statement
    rows = session.execute(
        select(verification.id, verification.enrolment_id, verification.statement_id, stmt.pk,
               stmt.registration)
        .outerjoin(stmt, stmt.id == verification.statement_id)
        .where(or_(stmt.pk.is_(None), stmt.registration.is_distinct_from(verification.enrolment_id)))).all()
    return [Difference(problem, {"verification_id": str(vid), "enrolment_id": _str(enrolment_id),
                                 "record": "verification", "statement_id": _str(statement_id)})
            for vid, enrolment_id, statement_id, pk, registration in sorted(rows, key=_first)
            if (problem := _statement_problem(pk, registration, enrolment_id))]


def _count_checked(session: Session) -> dict:
    """How many records of each sort the run looked at, in one round trip."""
    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    row = session.execute(select(
        count(PresenceInterval, PresenceInterval.status == IntervalStatus.CLOSED).label("closed_intervals"),
        count(PresenceInterval, PresenceInterval.status == IntervalStatus.OPEN).label("open_intervals"),
        count(HoursEntry, HoursEntry.entry_type == EntryType.CREDIT).label("credits"),
        count(HoursEntry, HoursEntry.entry_type == EntryType.REVERSAL).label("reversals"),
        count(FaceVerification).label("verifications"),
        literal(0).label("_"))).one()
    checked = {k: int(v) for k, v in row._mapping.items() if k != "_"}
    checked["statements_referenced"] = (checked["verifications"] + checked["open_intervals"]
                                        + 2 * checked["closed_intervals"] + checked["credits"]
                                        + checked["reversals"])
    return checked


@contextmanager
def _full_scan_settings(session: Session):
    """Give the read transaction room for whole-table joins: on PostgreSQL memory for in-memory
    hash joins; on SQLite a memory-mapped file and a larger page cache for this connection
    (index probes then read pages in place instead of through read() calls)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{_PG_WORK_MEM}'")
        yield
        return
    for pragma, (value, _default) in _SQLITE_SCAN_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {pragma} = {value}")
    try:
        yield
    finally:
        for pragma, (_value, default) in _SQLITE_SCAN_PRAGMAS.items():
            conn.exec_driver_sql(f"PRAGMA {pragma} = {default}")


def find_differences(session: Session) -> tuple[dict, list[Difference]]:
    """Run every check (read-only) and return (counts checked, differences)."""
    with _full_scan_settings(session):
        checked = _count_checked(session)
        differences = _check_intervals(session) + _check_ledger(session) + _check_verifications(session)
    return checked, differences


def reconcile() -> ReconciliationReport:
    """Check ledger = intervals = statements and record the run in the audit log.

    The checks read outside the write transaction (no write lock held while they scan); the
    audit entry (actor ``system``, action ``hours.reconciled``, counts per kind and the first
    `AUDITED_DIFFERENCES` differences) is written in one transaction.

    Returns:
        The report: counts of records checked and every difference, with kind and ids.
    """
    started, clock = utcnow(), time.perf_counter()
    checked, differences = find_differences(db.session)
    db.session.rollback()  # end the read transaction before taking the write lock
    report = ReconciliationReport(uuid.uuid4(), started, time.perf_counter() - clock, checked, differences)
    with transaction() as session:
        append_audit(session, None, "hours.reconciled", SimpleNamespace(id=report.run_id),
                     report.as_dict(limit=AUDITED_DIFFERENCES), object_type="reconciliation")
    return report
