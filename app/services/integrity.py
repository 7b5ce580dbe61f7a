"""The integrity check (R3) behind `flask audit verify` and the auditor's pages: the keyed audit
hash chain, and the hours ledger, presence intervals and verifications against each other, their
audit entries and their xAPI statements (`reconciliation.find_differences`), each problem named
by table, row id and what differs. (`app.services.checkpoints` checks the database against the
signed checkpoints kept outside it.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.services.audit import verify_chain, verify_entries
from app.services.checkpoints import verify_checkpoints
from app.services.reconciliation import Difference, Scope, find_differences

#: Which id of a difference names its row, and the table that row is in.
_ROW_KEYS = (("entry_id", "hours_ledger", "ledger entry"),
             ("interval_id", "presence_intervals", "interval"),
             ("verification_id", "face_verifications", "verification"),
             ("statement_id", "lrs_statements", "statement"))
_RECORD_NAMES = {"check_in": "check-in statement", "check_out": "check-out statement",
                 "credit": "credit statement", "reversal": "reversal statement",
                 "verification": "statement"}


@dataclass(frozen=True)
class Problem:
    """One integrity problem: the table and row it is about, and a sentence saying what differs."""

    table: str
    row_id: str
    message: str
    enrolment_id: str | None = None
    verification_id: str | None = None


@dataclass(frozen=True)
class IntegrityReport:
    """The chain's, the records' and the checkpoints' problems (all empty when everything
    agrees), and how many signed checkpoints were checked."""

    chain: list[Problem]
    records: list[Problem]
    checkpoints: list[Problem] = field(default_factory=list)
    checkpoints_checked: int = 0

    @property
    def problems(self) -> list[Problem]:
        return self.chain + self.records + self.checkpoints

    @property
    def is_clean(self) -> bool:
        return not self.problems


def _sentence(d: Difference, noun: str, row: str) -> str:
    ids = d.ids
    statement = f"{_RECORD_NAMES.get(ids.get('record'), 'statement')} {ids.get('statement_id')}"
    return {
        "interval_without_credit": lambda: f"{noun} {row}: closed, but the ledger has no credit for it",
        "credit_without_closed_interval": lambda: (
            f"{noun} {row}: credits interval {ids.get('interval_id')}, which is missing or not closed"),
        "credit_exceeds_interval": lambda: (
            f"{noun} {row}: {ids.get('minutes')} minutes exceed the verified time of interval "
            f"{ids.get('interval_id')} (its closed_at or the credit changed)"),
        "reversal_without_credit": lambda: (
            f"{noun} {row}: reverses {ids.get('reverses_id')}, which is not a credit entry"),
        "reversal_minutes_mismatch": lambda: (
            f"{noun} {row}: does not reverse exactly the minutes of credit {ids.get('reverses_id')}"),
        "statement_missing": lambda: (
            f"{noun} {row}: has no statement id" if ids.get("statement_id") is None
            else f"{statement} of {noun} {row} is missing from the LRS"),
        "registration_mismatch": lambda: (
            f"{statement} of {noun} {row}: its registration is not enrolment {ids.get('enrolment_id')}"),
        "statement_verb_mismatch": lambda: (
            f"{statement} of {noun} {row}: its verb is {ids.get('statement_verb')}, not {ids.get('verb')}"),
        "statement_minutes_mismatch": lambda: (
            f"{noun} {row}: {ids.get('minutes')} minutes, its statement {ids.get('statement_id')} "
            f"says {ids.get('statement_minutes')}"),
        "interval_end_mismatch": lambda: (
            f"{noun} {row}: closed_at changed: {ids.get('closed_at')}, but its check-out verification "
            f"{ids.get('verification_id')} was at {ids.get('verified_at')}"),
        "verification_mismatch": lambda: (
            f"{noun} {row}: {ids.get('decision')} at {ids.get('at')}, its statement {ids.get('statement_id')} "
            f"says {ids.get('statement_decision')} at {ids.get('statement_at')}"),
        "interval_start_mismatch": lambda: (
            f"{noun} {row}: opened_at changed: {ids.get('opened_at')}, but its check-in verification "
            f"{ids.get('verification_id')} was at {ids.get('verified_at')}"),
        "audited_record_missing": lambda: (
            f"{noun} {row}: gone, but audit entry {ids.get('seq')} ({ids.get('action')}) records it"),
        "audit_payload_mismatch": lambda: (
            f"{noun} {row}: {ids.get('field')} {ids.get('value')}, but audit entry {ids.get('seq')} "
            f"({ids.get('action')}) recorded {ids.get('audited')}"),
        "record_not_audited": lambda: f"{noun} {row}: has no entry in the audit log",
        "statement_voided": lambda: (
            f"{noun} {row}: written by SkillTrace, voided by statement {ids.get('voided_by')}"
            + (f" of LRS credential {ids.get('credential_id')}" if ids.get("credential_id") else "")),
    }[d.kind]()


def describe(difference: Difference) -> Problem:
    """The reconciliation difference as a problem naming its table, row and what differs."""
    key, table, noun = next(k for k in _ROW_KEYS if difference.ids.get(k[0]) is not None)
    row = difference.ids[key]
    return Problem(table, row, _sentence(difference, noun, row), difference.ids.get("enrolment_id"),
                   difference.ids.get("verification_id"))


def check_integrity(session: Session, scope: Scope | None = None,
                    audit_seqs: list[int] | None = None, checkpoint_file=None) -> IntegrityReport:
    """Recompute the audit chain and reconcile the records with the LRS (read-only); a whole
    run also checks the database against every signed checkpoint (in ``checkpoint_file``, by
    default ``CHECKPOINT_FILE``).

    With ``scope`` only that trainee's records are reconciled; with ``audit_seqs`` only those
    audit entries are checked where they sit (`verify_entries`) instead of the whole chain.
    """
    breaks = verify_chain(session) if audit_seqs is None else verify_entries(session, audit_seqs)
    chain = [Problem("audit_entries", str(b.seq), f"audit entry {b.seq}: {b.problem}") for b in breaks]
    _checked, differences = find_differences(session, scope)
    checked, contradicted = (0, []) if scope is not None or audit_seqs is not None else (
        verify_checkpoints(session, checkpoint_file))
    return IntegrityReport(chain, [describe(d) for d in differences],
                           [Problem("checkpoints", "", message) for message in contradicted], checked)
