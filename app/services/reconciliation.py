"""Nightly reconciliation (R3, R4): the hours ledger, the presence intervals and the xAPI
statements must tell the same story.

A few set-based queries do the work, whatever the size of the ledger; Python only sees the rows
that differ:

* presence (intervals joined with their credits, and credits without an interval): every
  closed interval has its credit, and
  every credit comes from a closed interval and credits no more than the interval's verified
  minutes (clipped to the session window);
* reversals: each points at an existing credit and reverses exactly its minutes;
* statements (every reference joined with the statements table): each check-in, check-out,
  ledger entry and verification names a statement that exists, with ``registration`` = the
  enrolment (none for a refusal that named no enrolment); a verification's says the same decision
  (its verb) at the same time (within a second);
* statement minutes: a ledger entry's statement says the entry's minutes;
* interval ends: a closed interval's ``closed_at`` is the time of its check-out verification
  (within a second), so an end moved later or earlier behind the app's back shows up;
* interval openings: an interval's ``opened_at`` is the time of its check-in verification;
* audit: every ledger entry, interval and verification has an audit entry on it, so entries cut
  from the end of the audit log (which leaves the chain itself intact) show up; every audited
  record still exists; ledger minutes and verification decisions agree with their audit entries;
* voiding: no statement SkillTrace wrote is voided.

A run checks everything, or one trainee's records (`Scope`: every query is filtered by it). The
queries do not sort (PostgreSQL's one ORDER BY merges index scans that are in order already);
the few differing rows are sorted in Python. A whole-database run gets settings for
whole-table joins, runs its checks two at a time on two connections, and walks each big join
through covering indexes in join-key order (`app.models.reconciliation_indexes`): SQLite probes
one side's index in the other's order (it has no hash join), PostgreSQL merges two index-only
scans. This module holds the checks (what is compared); the planner steering (index hints,
per-query settings, the two-connection runner) is `app.services.reconciliation_plan` and the
portable SQL functions are `app.services.reconciliation_sql`.

"Exactly one credit per interval" is also a database rule (``hours_ledger.interval_id`` is
UNIQUE), so the queries only look for the missing one. Every record and its statements are
written in one commit and each query reads one snapshot, so a check-out running during the
reconciliation cannot show up as a difference.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Text, and_, case, cast, func, literal, null, or_, select, true, false, type_coerce, union_all
from sqlalchemy.orm import Session, aliased

from app.extensions import db
from app.models import (AuditEntry, ClassSession, Decision, EntryType, FaceVerification, HoursEntry,
                        IntervalStatus, PresenceInterval)
from app.models.base import UTCDateTime, utcnow
from app.models.reconciliation_indexes import (AUDITED_TABLES, PAYLOAD_WALKS, ObjectUuid, StatementMinutes,
                                               action_in, payload_walk_index)
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.reconciliation_plan import (has_own_connections, recorded_minutes, run_checks, run_in_parallel,
                                              run_walk, walk)
from app.services.reconciliation_sql import (SLACK_SECONDS, Earlier, Later, MoreThanASecondApart, NamedId, Names,
                                             SecondsBetween, typed_text)
from app.xapi_profile import VERBS
from lrs.storage.tables import Statement

#: How many differences the audit entry lists (the report itself lists them all).
AUDITED_DIFFERENCES = 100


# -- two portable SQL functions ------------------------------------------------------------------


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
    "statement_verb_mismatch": "a record's statement has another verb (a check-in's is not \"checked in\")",
    "statement_minutes_mismatch": "a ledger entry's minutes differ from its statement's",
    "interval_end_mismatch": "a closed interval's end differs from its check-out verification's time",
    "interval_start_mismatch": "an interval's opening differs from its check-in verification's time",
    "audited_record_missing": "an audit entry names a ledger entry, interval or verification that is gone",
    "audit_payload_mismatch": "a record's minutes or decision differ from what its audit entry recorded",
    "verification_mismatch": "a verification's decision or time differs from its statement's",
    "record_not_audited": "a ledger entry, interval or verification has no entry in the audit log",
    "statement_voided": "a statement SkillTrace wrote has been voided",
}


_KIND_ORDER = {kind: position for position, kind in enumerate(KINDS)}


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

    def of_model(self, model):
        """`of` for a record model: its enrolment, and its trainee where it has one."""
        return self.of(model.enrolment_id, getattr(model, "trainee_id", None))

    def narrow(self, select_, model):
        """``select_`` limited to the ``model`` records in scope; unchanged (no WHERE at all) in a
        whole run: PostgreSQL merges only UNION branches without a WHERE of their own."""
        return select_ if self.trainee_id is None else select_.where(self.of_model(model))


def _str(value) -> str | None:
    return None if value is None else str(value)


def _report_order(difference: Difference) -> tuple:
    """Differences are reported by kind (in `KINDS` order), then by their ids."""
    return _KIND_ORDER[difference.kind], tuple(str(value) for value in difference.ids.values())


def _uuid(value) -> uuid.UUID | None:
    """A UUID from a union column (SQLite may hand back its 32 hex digits as text)."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _scoped_intervals(scope: Scope):
    """The intervals the presence check reads: all of them in a whole run; for one trainee, those
    in scope and those their credits point at."""
    if scope.trainee_id is None:
        return PresenceInterval
    interval_in_scope = scope.of_model(PresenceInterval)
    intervals = select(PresenceInterval).where(or_(interval_in_scope, PresenceInterval.id.in_(
        select(HoursEntry.interval_id).where(scope.of(HoursEntry.enrolment_id)))))
    return aliased(PresenceInterval, intervals.subquery("intervals"))


def _interval_rows(session: Session, scope: Scope) -> list:
    """Closed intervals without a credit, and credits whose interval is not closed or shorter
    than the credit: intervals joined with their credits (both in interval-id order on SQLite)."""
    interval, credit = _scoped_intervals(scope), aliased(HoursEntry, name="credit")
    closed = interval.status == IntervalStatus.CLOSED
    verified_seconds = SecondsBetween(Later(interval.opened_at, ClassSession.starts_at),
                                       Earlier(interval.closed_at, ClassSession.ends_at))
    # (a zero credit is right for an interval wholly outside the window, whose span is negative)
    too_many = or_(credit.minutes < 0, and_(credit.minutes > 0, credit.minutes * 60 > func.coalesce(
        verified_seconds, 0) + SLACK_SECONDS))
    query = (select(interval.id, interval.enrolment_id, interval.status, credit.id, credit.enrolment_id,
                    credit.minutes, credit.interval_id)
             .select_from(interval)
             .outerjoin(credit, and_(credit.interval_id == interval.id, credit.entry_type == EntryType.CREDIT))
             .outerjoin(ClassSession, ClassSession.id == interval.session_id)
             .where(or_(and_(closed, credit.id.is_(None)), and_(credit.id.is_not(None), or_(~closed, too_many)))))
    query = walk(query, PresenceInterval, "ix_presence_intervals_id_walk", scope)
    return run_walk(session, walk(query, credit, "ix_hours_ledger_interval_walk", scope), scope)


def _orphan_credit_rows(session: Session, scope: Scope) -> list:
    """Credits naming no interval, or one that does not exist (walked in interval-id order)."""
    credit, interval = aliased(HoursEntry, name="credit"), PresenceInterval
    query = (select(null(), null(), null(), credit.id, credit.enrolment_id, credit.minutes, credit.interval_id)
             .outerjoin(interval, interval.id == credit.interval_id)
             .where(credit.entry_type == EntryType.CREDIT, interval.id.is_(None), scope.of(credit.enrolment_id)))
    return run_walk(session, walk(query, credit, "ix_hours_ledger_interval_walk", scope), scope)


def _check_presence(session: Session, scope: Scope) -> list[Difference]:
    """Closed intervals without a credit; credits without a closed interval or with more minutes
    than its verified minutes (clipped to the session window). Two queries instead of one full
    join: SQLite's full join remembers every matched row and scans the right side again."""
    rows = _interval_rows(session, scope) + _orphan_credit_rows(session, scope)
    out = []
    for interval_id, enrolment_id, status, entry_id, entry_enrolment, minutes, interval_ref in rows:
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
    for entry_id, enrolment_id, minutes, reverses_id, target_id, target_type, target_minutes in rows:
        ids = {"entry_id": str(entry_id), "enrolment_id": str(enrolment_id)}
        if target_id is None or target_type != EntryType.CREDIT:
            out.append(Difference("reversal_without_credit", {**ids, "reverses_id": _str(reverses_id)}))
        else:
            out.append(Difference("reversal_minutes_mismatch", {**ids, "reverses_id": str(target_id)}))
    return out


_VERB = {name: iri for name, (iri, _display) in VERBS.items()}

#: The id key of each kind of record that references a statement, in report order.
_RECORD_KEYS = {"check_in": "interval_id", "check_out": "interval_id", "credit": "entry_id",
                "reversal": "entry_id", "verification": "verification_id"}


def _ref(record, record_id, enrolment_id, statement_id, verb, at=None):
    """One kind of statement reference, its columns named and typed alike in every kind (so that
    PostgreSQL can merge the kinds' index scans: a branch needing a conversion is not merged)."""
    columns = {"record": record, "record_id": record_id, "enrolment_id": enrolment_id,
               "statement_id": statement_id, "verb": verb,
               "at": at if at is not None else null().cast(UTCDateTime())}
    return select(*(column.label(name) for name, column in columns.items()))


def _statement_refs(scope: Scope) -> list:
    """Every statement a record in scope names, one select per kind of record: (record, record id,
    enrolment, statement id, the verb its statement must have, and a verification's time).

    No kind has a WHERE of its own in a whole run (PostgreSQL does not merge a filtered branch's
    index scan): an open interval's check-out is labelled NULL and skipped by the join's filter."""
    interval, entry, verification = PresenceInterval, HoursEntry, FaceVerification

    def kind(ref, model, index):
        return walk(scope.narrow(ref, model), model, index, scope)

    return [
        kind(_ref(typed_text("check_in"), interval.id, interval.enrolment_id, interval.check_in_statement_id,
                  typed_text(_VERB["checked-in"])), interval, "ix_presence_intervals_check_in_walk"),
        kind(_ref(case((interval.status == IntervalStatus.CLOSED, typed_text("check_out"))), interval.id,
                  interval.enrolment_id, interval.check_out_statement_id, typed_text(_VERB["checked-out"])),
             interval, "ix_presence_intervals_check_out_walk"),
        kind(_ref(cast(entry.entry_type, Text), entry.id, entry.enrolment_id, entry.statement_id,
                  case((entry.entry_type == EntryType.CREDIT, typed_text(_VERB["credited"])),
                       else_=typed_text(_VERB["reversed"]))),
             entry, "ix_hours_ledger_statement_walk"),
        kind(_ref(typed_text("verification"), verification.id, verification.enrolment_id, verification.statement_id,
                  case((verification.decision == Decision.ACCEPTED, typed_text(_VERB["verified"])),
                       else_=typed_text(_VERB["refused"])), at=verification.at),
             verification, "ix_face_verifications_statement_walk"),
    ]


def _statement_rows(session: Session, refs, scope: Scope) -> list:
    """The references in ``refs`` (a subquery) whose statement is missing, names another
    registration, has another verb, or, for a verification, another time."""
    stmt = Statement
    at = type_coerce(refs.c.at, UTCDateTime())
    moved = and_(refs.c.at.is_not(None), MoreThanASecondApart(at, stmt.timestamp))
    query = (select(refs.c.record, refs.c.record_id, refs.c.enrolment_id, refs.c.statement_id,
                    stmt.id.is_not(None).label("found"), stmt.registration, refs.c.verb, stmt.verb_iri, at,
                    stmt.timestamp)
             .outerjoin(stmt, stmt.id == refs.c.statement_id)
             .where(case((refs.c.record.is_(None), false()),  # a CASE: PostgreSQL would push an AND
                         else_=or_(stmt.id.is_(None), stmt.registration.is_distinct_from(refs.c.enrolment_id),
                                   stmt.verb_iri != refs.c.verb, moved))))  # down and stop merging
    return run_walk(session, walk(query, stmt, "ix_lrs_statements_id_walk"), scope)


def _decision(verb: str) -> str:
    return {_VERB["verified"]: "accepted", _VERB["refused"]: "refused"}.get(verb, verb)


def _statement_difference(record, record_id, enrolment_id, statement_id, found, registration, verb,
                          statement_verb, at, stamp) -> Difference:
    ids = {_RECORD_KEYS[record]: str(record_id), "enrolment_id": _str(enrolment_id), "record": record,
           "statement_id": _str(statement_id)}
    if not found:
        return Difference("statement_missing", ids)
    if _uuid(registration) != _uuid(enrolment_id):
        return Difference("registration_mismatch", ids)
    if record == "verification":
        return Difference("verification_mismatch", {
            **ids, "decision": _decision(verb), "statement_decision": _decision(statement_verb),
            "at": at.isoformat(), "statement_at": stamp.isoformat()})
    return Difference("statement_verb_mismatch", {**ids, "verb": verb, "statement_verb": statement_verb})


def _check_statements(session: Session, scope: Scope) -> list[Difference]:
    """Every record's statement exists, carries the record's enrolment as ``registration`` (none
    for a refusal that named no enrolment) and the record's verb (a check-in's is "checked in", a
    verification's its decision), and for a verification its time (within a second). Ledger
    minutes: `_check_statement_minutes`.

    SQLite joins each kind of record on its own, walking it in statement-id order against the
    statements' covering index; PostgreSQL merges the kinds' index scans into one stream in
    statement-id order and merges that with the statements' covering index."""
    refs = _statement_refs(scope)
    if session.get_bind().dialect.name == "sqlite" or scope.trainee_id is not None:
        rows = [row for kind in refs for row in _statement_rows(session, kind.subquery("refs"), scope)]
    else:
        every = union_all(*refs).subquery("every")
        rows = _statement_rows(session, select(every).order_by(every.c.statement_id).subquery("refs"), scope)
    return [_statement_difference(*row) for row in rows]


def _check_statement_minutes(session: Session, scope: Scope) -> list[Difference]:
    """Ledger entries whose statement (otherwise right: `_check_statements` reports the others)
    says other minutes. A query of its own: PostgreSQL reads the minutes from each ledger
    statement's JSON, which no index-only scan returns; SQLite's statements index holds them
    (`StatementMinutes`)."""
    entry, stmt = HoursEntry, Statement
    stmt_minutes = StatementMinutes(stmt.payload)
    statement = select(stmt_minutes).where(  # a correlated EXISTS: SQLite drives from the ledger's walk
        stmt.id == entry.statement_id, stmt.verb_iri.in_([typed_text(_VERB["credited"]), typed_text(_VERB["reversed"])]),
        stmt.registration == entry.enrolment_id)
    statement = walk(statement, stmt, "ix_lrs_statements_id_walk", scope)
    query = (select(entry.entry_type, entry.id, entry.enrolment_id, entry.statement_id, entry.minutes,
                    statement.scalar_subquery())
             .where(statement.where(stmt_minutes.is_distinct_from(entry.minutes)).exists(),
                    scope.of(entry.enrolment_id)))
    query = walk(query, entry, "ix_hours_ledger_statement_walk", scope)
    return [Difference("statement_minutes_mismatch", {
        "entry_id": str(entry_id), "enrolment_id": str(enrolment_id), "record": str(entry_type),
        "statement_id": str(statement_id), "minutes": str(minutes), "statement_minutes": _str(statement_minutes)})
        for entry_type, entry_id, enrolment_id, statement_id, minutes, statement_minutes
        in session.execute(query).all()]


#: The records every one of which was written with an audit entry on it: (model, key in ids).
_AUDITED = ((HoursEntry, "entry_id"), (PresenceInterval, "interval_id"), (FaceVerification, "verification_id"))


def _interval_time_rows(session: Session, scope: Scope, time_column, verification_column, index: str) -> list:
    """Intervals whose ``time_column`` is more than a second from the time of the verification
    ``verification_column`` names, walked in that verification's id order."""
    interval, verification = PresenceInterval, FaceVerification
    query = (select(interval.id, interval.enrolment_id, time_column, verification.id, verification.at)
             .select_from(interval).join(verification, verification.id == verification_column)
             .where(MoreThanASecondApart(time_column, verification.at))
             .where(scope.of_model(interval)))
    if time_column is interval.closed_at:
        query = query.where(interval.status == IntervalStatus.CLOSED)
    query = walk(query, interval, index, scope)
    return run_walk(session, walk(query, verification, "ix_face_verifications_id_walk", scope), scope)


def _check_interval_ends(session: Session, scope: Scope) -> list[Difference]:
    """Closed intervals whose ``closed_at`` is not the time of their check-out verification."""
    rows = _interval_time_rows(session, scope, PresenceInterval.closed_at,
                               PresenceInterval.check_out_verification_id,
                               "ix_presence_intervals_check_out_verification_walk")
    return [Difference("interval_end_mismatch", {
        "interval_id": str(interval_id), "enrolment_id": str(enrolment_id), "closed_at": closed_at.isoformat(),
        "verification_id": str(verification_id), "verified_at": verified_at.isoformat()})
        for interval_id, enrolment_id, closed_at, verification_id, verified_at in rows]


def _check_interval_starts(session: Session, scope: Scope) -> list[Difference]:
    """Intervals whose ``opened_at`` is not the time of their check-in verification (an opening
    moved earlier inflates the verified minutes)."""
    rows = _interval_time_rows(session, scope, PresenceInterval.opened_at,
                               PresenceInterval.check_in_verification_id,
                               "ix_presence_intervals_check_in_verification_walk")
    return [Difference("interval_start_mismatch", {
        "interval_id": str(interval_id), "enrolment_id": str(enrolment_id), "opened_at": opened_at.isoformat(),
        "verification_id": str(verification_id), "verified_at": verified_at.isoformat()})
        for interval_id, enrolment_id, opened_at, verification_id, verified_at in rows]


def _named(model):
    """The join condition: an audit entry names this ``model`` record."""
    return and_(AuditEntry.object_type == typed_text(model.__tablename__),
                model.id == NamedId(AuditEntry.object_type, AuditEntry.object_id))


#: The audit actions that create a record of each audited table, one per record.
_CREATED_BY = {HoursEntry: ("hours.credited", "hours.reversed"), PresenceInterval: ("presence.opened",),
               FaceVerification: ("attendance.verified", "attendance.refused")}


def _check_audited_records_exist(session: Session, scope: Scope) -> list[Difference]:
    """Audit entries naming a ledger entry, interval or verification that no longer exists (a
    reversal or a refusal deleted with its statement). A whole run only: a deleted record no
    longer tells whose it was.

    First, per table, its records are counted against the audit entries that created them (the
    action index and the table's smallest index: no row read); only a table with fewer records
    than creations is searched for the entries whose record is gone. (A record deleted while
    another is fabricated keeps the counts equal, but the fabricated one has no audit entry:
    `_check_audited` names it.)"""
    if scope.trainee_id is not None:
        return []
    counts = session.execute(select(*(
        c for model in _CREATED_BY for c in (
            select(func.count()).select_from(model).scalar_subquery(),
            select(func.count()).select_from(AuditEntry)
            .where(AuditEntry.action.in_(_CREATED_BY[model])).scalar_subquery())))).one()
    out = []
    for position, (model, key) in enumerate(_AUDITED):
        records, created = counts[2 * position], counts[2 * position + 1]
        if created <= records:
            continue
        named = NamedId(AuditEntry.object_type, AuditEntry.object_id)
        gone = ~select(model.id).where(model.id == named).exists()
        rows = session.execute(select(AuditEntry.seq, AuditEntry.action, AuditEntry.object_id)
                               .where(AuditEntry.object_type == typed_text(model.__tablename__), gone)).all()
        out += [Difference("audited_record_missing", {key: object_id, "enrolment_id": None, "seq": str(seq),
                                                      "action": action}) for seq, action, object_id in rows]
    return out


def _payload_rows(session: Session, scope: Scope, kind: str, query, record, record_index: str) -> list:
    """The rows of ``query``, a join of the audit entries of the `PAYLOAD_WALKS` ``kind`` with
    the ``record`` (a model) each names, walked in object-id order: the kind's partial index (no
    audit row read, no JSON parsed) against ``record_index`` in the same order."""
    dialect = session.get_bind().dialect.name
    query = walk(query.where(action_in(PAYLOAD_WALKS[kind][0])), AuditEntry,
                 payload_walk_index(kind, dialect), scope)
    return run_walk(session, walk(query, record, record_index, scope), scope)


def _check_audit_payloads(session: Session, scope: Scope) -> list[Difference]:
    """Records that differ from what their audit entries recorded: a ledger entry's minutes
    (against its own entry and its interval's closing entry) and a verification's decision
    (against ``attendance.verified`` / ``attendance.refused``). Catches a record and its
    statement changed together.

    Each comparison walks one of the audit log's payload walks (`PAYLOAD_WALKS`), which hold the
    recorded minutes (`app.services.reconciliation_plan.recorded_minutes`) and the action."""
    entry, verification = HoursEntry, FaceVerification
    recorded, as_recorded = recorded_minutes(session)
    columns = (AuditEntry.seq, AuditEntry.action, entry.id, entry.enrolment_id, entry.minutes, recorded)
    own = (select(*columns).select_from(AuditEntry).join(entry, _named(entry))
           .where(recorded.is_distinct_from(as_recorded(entry.minutes)), scope.of(entry.enrolment_id)))
    # the closing names the interval; its credit is found by interval id, without the interval
    closing = (select(*columns).select_from(AuditEntry)
               .join(entry, and_(AuditEntry.object_type == typed_text(PresenceInterval.__tablename__),
                                 entry.interval_id == NamedId(AuditEntry.object_type, AuditEntry.object_id),
                                 entry.entry_type == EntryType.CREDIT))
               .where(recorded.is_not(None), recorded.is_distinct_from(as_recorded(entry.minutes)),
                      scope.of(entry.enrolment_id)))
    rows = (_payload_rows(session, scope, "ledger_minutes", own, entry, "ix_hours_ledger_id_walk")
            + _payload_rows(session, scope, "closing_minutes", closing, entry, "ix_hours_ledger_interval_walk"))
    out = [Difference("audit_payload_mismatch", {
        "entry_id": str(entry_id), "enrolment_id": str(enrolment_id), "seq": str(seq), "action": action,
        "field": "minutes", "value": str(minutes), "audited": _str(minutes_audited)})
        for seq, action, entry_id, enrolment_id, minutes, minutes_audited in rows]
    decisions = (select(AuditEntry.seq, AuditEntry.action, verification.id, verification.enrolment_id,
                        verification.decision)
                 .select_from(AuditEntry).join(verification, _named(verification))
                 .where((AuditEntry.action == typed_text("attendance.verified"))
                        != (verification.decision == Decision.ACCEPTED), scope.of_model(verification)))
    out += [Difference("audit_payload_mismatch", {
        "verification_id": str(verification_id), "enrolment_id": _str(enrolment_id), "seq": str(seq),
        "action": action, "field": "decision", "value": str(decision),
        "audited": "accepted" if action == "attendance.verified" else "refused"})
        for seq, action, verification_id, enrolment_id, decision in _payload_rows(
            session, scope, "decisions", decisions, verification, "ix_face_verifications_id_walk")]
    return out


def _unaudited_records(session: Session, scope: Scope) -> list:
    """(key, record id, enrolment) of the records no audit entry names.

    SQLite: one walk per table; the inner select reads only ids, so it walks the record's id index
    in order and probes the audit log's `ObjectHex` index in the same order without reading a row,
    and the outer select reads the enrolment of the few records found. PostgreSQL: the three
    tables' ids, merged in id order, against the audited tables' entries in object-id order
    (`ObjectUuid`), then the enrolments of the few records found."""
    if session.get_bind().dialect.name == "sqlite":
        def unaudited(record_id):
            return ~select(AuditEntry.seq).where(Names(AuditEntry.object_id, record_id)).exists()

        found = union_all(*(
            select(literal(key).label("key"), model.id.label("record_id"), model.enrolment_id)
            .where(model.id.in_(select(model.id).where(scope.of_model(model), unaudited(model.id))))
            for model, key in _AUDITED)).subquery("records")
        return session.execute(select(found.c.key, found.c.record_id, found.c.enrolment_id)).all()
    ids = union_all(*(scope.narrow(select(typed_text(key).label("key"), model.id.label("record_id")), model)
                      for model, key in _AUDITED)).subquery("records")
    naming = select(AuditEntry.object_id).where(AuditEntry.object_type.in_([typed_text(t) for t in AUDITED_TABLES]),
                                                ObjectUuid(AuditEntry.object_type, AuditEntry.object_id)
                                                == ids.c.record_id)
    found = run_walk(session, select(ids.c.key, ids.c.record_id).where(~naming.exists()), scope)
    return _with_enrolments(session, found)


def _with_enrolments(session: Session, found: list, batch: int = 10_000) -> list:
    """(key, record id, enrolment) for each (key, record id) in ``found``."""
    enrolments: dict = {}
    for model, key in _AUDITED:
        ids = [record_id for found_key, record_id in found if found_key == key]
        for start in range(0, len(ids), batch):
            enrolments.update(session.execute(select(model.id, model.enrolment_id)
                                              .where(model.id.in_(ids[start:start + batch]))).all())
    return [(key, record_id, enrolments.get(record_id)) for key, record_id in found]


def _check_audited(session: Session, scope: Scope) -> list[Difference]:
    """Records without any audit entry on them: catches audit entries removed from the end of
    the log, which the hash chain alone cannot see.

    `append_audit` names an object by its table and its UUID: SQLite searches the log by the id
    alone (it already tells the table); PostgreSQL among the audited tables' entries, whose index
    holds their object ids as UUIDs."""
    return [Difference("record_not_audited", {key: str(rid), "enrolment_id": _str(enrolment_id)})
            for key, rid, enrolment_id in _unaudited_records(session, scope)]


def _check_voided_statements(session: Session, scope: Scope) -> list[Difference]:
    """SkillTrace's own statements (stored under its authority, with no client credential) that a
    voiding statement points at: SkillTrace never voids its evidence, and the LRS refuses other
    credentials (so one found was written behind the LRS's back). The voiding statements are
    few and indexed (``ix_lrs_statements_voiding_target_set``)."""
    voider, target = aliased(Statement, name="voider"), aliased(Statement, name="target")
    query = (select(target.id, target.registration, voider.id, voider.credential_id)
             .select_from(voider).join(target, target.id == voider.voiding_target)
             .where(voider.voiding_target.is_not(None), target.credential_id.is_(None)))
    if scope.trainee_id is not None:
        query = query.where(target.registration.in_(scope.enrolment_ids))
    return [Difference("statement_voided", {
        "statement_id": str(statement_id), "enrolment_id": _str(registration), "voided_by": str(voider_id),
        "credential_id": _str(credential_id)})
        for statement_id, registration, voider_id, credential_id in session.execute(query).all()]


def _count_checked(session: Session, _scope: Scope | None = None) -> dict:
    """How many records of each sort a whole run looked at, in one round trip."""
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


#: The checks, in report order.
_CHECKS = (_check_presence, _check_reversals, _check_statements, _check_statement_minutes, _check_interval_ends,
           _check_interval_starts, _check_audited_records_exist, _check_audit_payloads, _check_audited,
           _check_voided_statements)
#: A whole run's checks, longest first: two connections take them in this order as they free
#: up, so the two finish at about the same time.
_LONGEST_FIRST = (_check_statements, _check_presence, _check_audited, _check_audit_payloads,
                  _check_audited_records_exist, _check_statement_minutes, _check_interval_ends,
                  _check_interval_starts, _count_checked, _check_reversals, _check_voided_statements)


def find_differences(session: Session, scope: Scope | None = None) -> tuple[dict, list[Difference]]:
    """Run every check (read-only) and return (counts checked, differences); with ``scope``,
    only that trainee's records are checked and nothing is counted (empty counts).

    A whole run reads committed data on two connections of ``session``'s engine at once, each
    taking the next check when it is done with one (the machine's second core; each query still
    reads one snapshot); a scoped run reads through ``session``."""
    scope = scope or Scope()
    engine = session.get_bind()
    if scope.trainee_id is None and has_own_connections(engine):
        results = run_in_parallel(engine, _LONGEST_FIRST, scope)
    else:
        results = run_checks(session, _CHECKS if scope.trainee_id else (_count_checked, *_CHECKS), scope)
    differences = [difference for check in _CHECKS for difference in results[check]]
    return results.get(_count_checked, {}), sorted(differences, key=_report_order)


def reconcile() -> ReconciliationReport:
    """Check ledger = intervals = statements and record the run in the audit log.

    The checks read committed data outside the write transaction (no write lock held while
    they scan); the audit entry (actor ``system``, action ``hours.reconciled``, counts per kind
    and the first `AUDITED_DIFFERENCES` differences) is written in one transaction.

    Returns:
        The report: counts of records checked and every difference, with kind and ids.
    """
    started, clock = utcnow(), time.perf_counter()
    checked, differences = find_differences(db.session)
    db.session.rollback()  # end any read transaction before taking the write lock
    report = ReconciliationReport(uuid.uuid4(), started, time.perf_counter() - clock, checked, differences)
    with transaction() as session:
        append_audit(session, None, "hours.reconciled", SimpleNamespace(id=report.run_id),
                     report.as_dict(limit=AUDITED_DIFFERENCES), object_type="reconciliation")
    return report
