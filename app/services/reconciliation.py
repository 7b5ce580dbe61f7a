"""Nightly reconciliation (R3, R4): the hours ledger, the presence intervals and the xAPI
statements must tell the same story.

A few set-based queries do the work, whatever the size of the ledger; Python only sees the rows
that differ:

* presence (one full join of intervals and credits): every closed interval has its credit, and
  every credit comes from a closed interval and credits no more than the interval's verified
  minutes (clipped to the session window);
* reversals: each points at an existing credit and reverses exactly its minutes;
* statements (one join of every reference with the statements table): each check-in, check-out,
  ledger entry and verification names a statement that exists, with ``registration`` = the
  enrolment (none for a refusal that named no enrolment); a ledger entry's says the same minutes,
  a verification's the same decision (its verb) at the same time (within a second);
* interval ends: a closed interval's ``closed_at`` is the time of its check-out verification
  (within a second), so an end moved later or earlier behind the app's back shows up;
* audit: every ledger entry, interval and verification has an audit entry on it, so entries cut
  from the end of the audit log (which leaves the chain itself intact) show up.

A run checks everything, or one trainee's records (`Scope`: every query is filtered by it). The
queries do not sort (an ORDER BY over a whole table would make the scan follow an index); the few
differing rows are sorted in Python. A whole-database run gets settings for whole-table joins
(`_full_scan_settings`).

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

from sqlalchemy import (Boolean, Float, Integer, String, and_, func, literal, null, or_, select, true, type_coerce,
                        union_all)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement

from app.extensions import db
from app.models import (AuditEntry, ClassSession, Decision, EntryType, FaceVerification, HoursEntry,
                        IntervalStatus, PresenceInterval)
from app.models.base import UTCDateTime, utcnow
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.xapi_records import EXT, VERBS
from lrs.storage.tables import Statement

#: How many differences the audit entry lists (the report itself lists them all).
AUDITED_DIFFERENCES = 100
#: Settings of the reconciliation's read transaction (see `_full_scan_settings`).
_PG_WORK_MEM = "1GB"
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


def _pairwise(name: str, doc: str, postgresql: str, sqlite: str) -> type[FunctionElement]:
    """A SQL function of two timestamps named ``postgresql`` there and ``sqlite`` on SQLite."""
    element = type(name, (FunctionElement,), {"__doc__": doc, "inherit_cache": True})
    compiles(element)(lambda el, compiler, **kw: f"{postgresql}({compiler.process(el.clauses, **kw)})")
    compiles(element, "sqlite")(lambda el, compiler, **kw: f"{sqlite}({compiler.process(el.clauses, **kw)})")
    return element


_Later = _pairwise("_Later", "The later of two timestamps.", "GREATEST", "max")
_Earlier = _pairwise("_Earlier", "The earlier of two timestamps.", "LEAST", "min")


class _IdText(FunctionElement):
    """A UUID column as ``str(uuid)`` writes it (SQLite stores 32 hex digits without dashes)."""

    type = String()
    inherit_cache = True


@compiles(_IdText)
def _id_text_pg(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


@compiles(_IdText, "sqlite")
def _id_text_sqlite(element, compiler, **kw):
    c = compiler.process(element.clauses, **kw)
    return (f"lower(substr({c}, 1, 8) || '-' || substr({c}, 9, 4) || '-' || substr({c}, 13, 4) || '-' "
            f"|| substr({c}, 17, 4) || '-' || substr({c}, 21))")


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
    "interval_end_mismatch": "a closed interval's end differs from its check-out verification's time",
    "verification_mismatch": "a verification's decision or time differs from its statement's",
    "record_not_audited": "a ledger entry, interval or verification has no entry in the audit log",
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

@dataclass(frozen=True)
class Scope:
    """Which records a run checks: everything, or one trainee's (their enrolments' records and
    their verifications)."""

    trainee_id: uuid.UUID | None = None
    enrolment_ids: tuple = ()

    def of(self, enrolment_column, trainee_column=None):
        """The WHERE clause selecting the records in scope."""
        if self.trainee_id is None:
            return true()
        clauses = [enrolment_column.in_(self.enrolment_ids)]
        if trainee_column is not None:
            clauses.append(trainee_column == self.trainee_id)
        return or_(*clauses)


def _str(value) -> str | None:
    return None if value is None else str(value)


def _first(row) -> str:
    """Sort key of a result row: its first column, the record's id (the SQL does not sort:
    an ORDER BY over the whole table would make the scan follow the id index)."""
    return str(row[0])


def _uuid(value) -> uuid.UUID | None:
    """A UUID from a union column (SQLite may hand back its 32 hex digits as text)."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _statement_problem(stmt_pk, registration, enrolment_id) -> str | None:
    if stmt_pk is None:
        return "statement_missing"
    if registration != enrolment_id:
        return "registration_mismatch"
    return None


def _presence_sides(scope: Scope):
    """The intervals and ledger entries the presence check joins: the tables themselves for a
    whole run; for one trainee, those in scope and those they point at or are pointed at by (a
    full join cannot take a filter on either side, so without this it would read everything)."""
    if scope.trainee_id is None:
        return PresenceInterval, aliased(HoursEntry)
    interval_in_scope = scope.of(PresenceInterval.enrolment_id, PresenceInterval.trainee_id)
    entry_in_scope = scope.of(HoursEntry.enrolment_id)
    intervals = select(PresenceInterval).where(or_(
        interval_in_scope, PresenceInterval.id.in_(select(HoursEntry.interval_id).where(entry_in_scope))))
    entries = select(HoursEntry).where(or_(
        entry_in_scope, HoursEntry.interval_id.in_(select(PresenceInterval.id).where(interval_in_scope))))
    return (aliased(PresenceInterval, intervals.subquery("intervals")),
            aliased(HoursEntry, entries.subquery("entries")))


def _check_presence(session: Session, scope: Scope) -> list[Difference]:
    """Closed intervals without a credit; credits without a closed interval or with more minutes
    than its verified minutes (clipped to the session window). One full join of the two."""
    interval, credit = _presence_sides(scope)
    is_credit = credit.entry_type == EntryType.CREDIT
    closed = interval.status == IntervalStatus.CLOSED
    verified_seconds = _SecondsBetween(_Later(interval.opened_at, ClassSession.starts_at),
                                       _Earlier(interval.closed_at, ClassSession.ends_at))
    too_many = or_(credit.minutes < 0,
                   credit.minutes * 60 > func.coalesce(verified_seconds, 0) + _SLACK_SECONDS)
    # the credit condition sits in ON (not in a subquery, which SQLite would scan per interval);
    # reversals come out unmatched and the WHERE drops them
    rows = session.execute(
        select(interval.id, interval.enrolment_id, interval.status, credit.id, credit.enrolment_id,
               credit.minutes, credit.interval_id)
        .select_from(interval).join(credit, and_(credit.interval_id == interval.id, is_credit), full=True)
        .outerjoin(ClassSession, ClassSession.id == interval.session_id)
        .where(or_(and_(closed, credit.id.is_(None)),
                   and_(is_credit, or_(interval.id.is_(None), ~closed, too_many))))
        .where(or_(scope.of(interval.enrolment_id, interval.trainee_id), scope.of(credit.enrolment_id)))).all()
    out = []
    for interval_id, enrolment_id, status, entry_id, entry_enrolment, minutes, interval_ref in sorted(
            rows, key=lambda row: (row[3] is not None, str(row[3] or row[0]))):
        if entry_id is None:
            out.append(Difference("interval_without_credit", {"interval_id": str(interval_id),
                                                              "enrolment_id": str(enrolment_id)}))
            continue
        ids = {"entry_id": str(entry_id), "enrolment_id": str(entry_enrolment)}
        if interval_id is None or status != IntervalStatus.CLOSED:
            out.append(Difference("credit_without_closed_interval", {**ids, "interval_id": _str(interval_ref)}))
        else:
            out.append(Difference("credit_exceeds_interval", {**ids, "interval_id": str(interval_id),
                                                              "minutes": str(minutes)}))
    return out


def _check_reversals(session: Session, scope: Scope) -> list[Difference]:
    """Reversals without their credit, or not reversing exactly its minutes."""
    entry, target = HoursEntry, aliased(HoursEntry)
    rows = session.execute(
        select(entry.id, entry.enrolment_id, entry.minutes, entry.reverses_id, target.id, target.entry_type,
               target.minutes)
        .outerjoin(target, target.id == entry.reverses_id)
        .where(entry.entry_type == EntryType.REVERSAL,
               or_(target.id.is_(None), target.entry_type != EntryType.CREDIT,
                   entry.minutes != -target.minutes))
        .where(scope.of(entry.enrolment_id))).all()
    out = []
    for entry_id, enrolment_id, minutes, reverses_id, target_id, target_type, target_minutes in sorted(
            rows, key=_first):
        ids = {"entry_id": str(entry_id), "enrolment_id": str(enrolment_id)}
        if target_id is None or target_type != EntryType.CREDIT:
            out.append(Difference("reversal_without_credit", {**ids, "reverses_id": _str(reverses_id)}))
        else:
            out.append(Difference("reversal_minutes_mismatch", {**ids, "reverses_id": str(target_id)}))
    return out


def _off_by_more_than_a_second(first, second):
    """True when two timestamps are more than the slack apart (NULL when either is NULL)."""
    return func.abs(_SecondsBetween(first, second)) > _SLACK_SECONDS


#: The id key of each kind of record that references a statement, in report order.
_RECORD_KEYS = {"check_in": "interval_id", "check_out": "interval_id", "credit": "entry_id",
                "reversal": "entry_id", "verification": "verification_id"}


def _statement_refs(scope: Scope):
    """Every statement a record in scope names: (record, record id, enrolment, statement id,
    minutes of a ledger entry, decision and time of a verification)."""
    interval, entry, verification = PresenceInterval, HoursEntry, FaceVerification
    none = {"minutes": null().cast(Integer), "accepted": null().cast(Boolean), "at": null().cast(UTCDateTime())}
    in_scope = scope.of(interval.enrolment_id, interval.trainee_id)
    return union_all(
        select(literal("check_in").label("record"), interval.id.label("record_id"),
               interval.enrolment_id.label("enrolment_id"), interval.check_in_statement_id.label("statement_id"),
               *(value.label(name) for name, value in none.items())).where(in_scope),
        select(literal("check_out"), interval.id, interval.enrolment_id, interval.check_out_statement_id,
               *none.values()).where(interval.status == IntervalStatus.CLOSED, in_scope),
        select(type_coerce(entry.entry_type, String), entry.id, entry.enrolment_id, entry.statement_id,
               entry.minutes, none["accepted"], none["at"]).where(scope.of(entry.enrolment_id)),
        select(literal("verification"), verification.id, verification.enrolment_id, verification.statement_id,
               none["minutes"], verification.decision == Decision.ACCEPTED, verification.at)
        .where(scope.of(verification.enrolment_id, verification.trainee_id)),
    ).subquery("refs")


def _check_statements(session: Session, scope: Scope) -> list[Difference]:
    """Every record's statement exists, carries the record's enrolment as ``registration`` (none
    for a refusal that named no enrolment), for a ledger entry the entry's minutes, and for a
    verification the same decision (its verb) at the same time (within a second).

    One join of all the references with the statements table: one pass over the statements
    (a single hash join on PostgreSQL) instead of one per kind of record."""
    refs, stmt = _statement_refs(scope), Statement
    stmt_minutes = stmt.payload[("context", "extensions", EXT["minutes"])].as_integer()
    accepted_verb = VERBS["verified"][0]
    at = type_coerce(refs.c.at, UTCDateTime())
    contents_differ = and_(refs.c.accepted.is_not(None),
                           or_((stmt.verb_iri == accepted_verb) != refs.c.accepted,
                               _off_by_more_than_a_second(at, stmt.timestamp)))
    rows = session.execute(
        select(refs.c.record, refs.c.record_id, refs.c.enrolment_id, refs.c.statement_id, refs.c.minutes,
               stmt.pk, stmt.registration, stmt_minutes, contents_differ.label("contents_differ"),
               refs.c.accepted, at, stmt.verb_iri, stmt.timestamp)
        .outerjoin(stmt, stmt.id == refs.c.statement_id)
        .where(or_(stmt.pk.is_(None), stmt.registration.is_distinct_from(refs.c.enrolment_id),
                   and_(refs.c.minutes.is_not(None), stmt_minutes.is_distinct_from(refs.c.minutes)),
                   contents_differ))).all()
    order = list(_RECORD_KEYS)
    out = []
    for (record, record_id, enrolment_id, statement_id, minutes, pk, registration, statement_minutes,
         differ, accepted, at_, verb, stamp) in sorted(rows, key=lambda row: (order.index(row[0]), str(row[1]))):
        ids = {_RECORD_KEYS[record]: str(record_id), "enrolment_id": _str(enrolment_id), "record": record,
               "statement_id": _str(statement_id)}
        if problem := _statement_problem(pk, _uuid(registration), _uuid(enrolment_id)):
            out.append(Difference(problem, ids))
        elif minutes is not None and statement_minutes != minutes:
            out.append(Difference("statement_minutes_mismatch", {
                **ids, "minutes": str(minutes), "statement_minutes": _str(statement_minutes)}))
        if differ:
            out.append(Difference("verification_mismatch", {
                **ids, "decision": "accepted" if accepted else "refused",
                "statement_decision": "accepted" if verb == accepted_verb else "refused",
                "at": at_.isoformat(), "statement_at": stamp.isoformat()}))
    return out


def _check_interval_ends(session: Session, scope: Scope) -> list[Difference]:
    """Closed intervals whose ``closed_at`` is not the time of their check-out verification."""
    interval, verification = PresenceInterval, FaceVerification
    rows = session.execute(
        select(interval.id, interval.enrolment_id, interval.closed_at, verification.id, verification.at)
        .join(verification, verification.id == interval.check_out_verification_id)
        .where(interval.status == IntervalStatus.CLOSED,
               _off_by_more_than_a_second(interval.closed_at, verification.at))
        .where(scope.of(interval.enrolment_id, interval.trainee_id))).all()
    return [Difference("interval_end_mismatch", {
        "interval_id": str(interval_id), "enrolment_id": str(enrolment_id), "closed_at": closed_at.isoformat(),
        "verification_id": str(verification_id), "verified_at": verified_at.isoformat()})
        for interval_id, enrolment_id, closed_at, verification_id, verified_at in sorted(rows, key=_first)]


#: The records every one of which was written with an audit entry on it: (model, key in ids).
_AUDITED = ((HoursEntry, "entry_id"), (PresenceInterval, "interval_id"), (FaceVerification, "verification_id"))


def _check_audited(session: Session, scope: Scope) -> list[Difference]:
    """Records without any audit entry on them: catches audit entries removed from the end of
    the log, which the hash chain alone cannot see.

    The audit log is searched by ``object_id`` alone: `append_audit` names an object by its table
    and its UUID, so the id already tells the table. The inner select reads only ids, so on
    SQLite it walks the record's id index in order and probes the ``object_id`` index in the same
    order without reading a row (about four times faster than probing in table order and reading
    each entry's ``object_type``); the outer select reads the enrolment of the few records found."""
    records = union_all(*(
        select(literal(key).label("key"), model.id.label("record_id"), model.enrolment_id.label("enrolment_id"))
        .where(model.id.in_(
            select(model.id).where(scope.of(model.enrolment_id, getattr(model, "trainee_id", None)),
                                   ~select(AuditEntry.seq).where(AuditEntry.object_id == _IdText(model.id)).exists())))
        for model, key in _AUDITED)).subquery("records")
    rows = session.execute(select(records.c.key, records.c.record_id, records.c.enrolment_id)).all()
    order = [key for _model, key in _AUDITED]
    return [Difference("record_not_audited", {key: str(rid), "enrolment_id": _str(enrolment_id)})
            for key, rid, enrolment_id in sorted(rows, key=lambda row: (order.index(row[0]), str(row[1])))]


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
def _full_scan_settings(session: Session, scope: Scope):
    """Give a whole-database run room for whole-table joins: on PostgreSQL memory for in-memory
    hash joins; on SQLite a memory-mapped file and a larger page cache for this connection
    (index probes then read pages in place instead of through read() calls). A run scoped to
    one trainee follows indexes and keeps the defaults."""
    conn = session.connection()
    if scope.trainee_id is not None:
        yield
        return
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


#: The checks, in report order.
_CHECKS = (_check_presence, _check_reversals, _check_statements, _check_interval_ends, _check_audited)


def find_differences(session: Session, scope: Scope | None = None) -> tuple[dict, list[Difference]]:
    """Run every check (read-only) and return (counts checked, differences); with ``scope``,
    only that trainee's records are checked (the counts are always of everything)."""
    scope = scope or Scope()
    with _full_scan_settings(session, scope):
        checked = _count_checked(session)
        differences = [difference for check in _CHECKS for difference in check(session, scope)]
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
