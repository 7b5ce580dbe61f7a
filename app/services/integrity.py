"""The integrity check (R3) behind `flask audit verify` and the auditor's pages: the keyed audit
hash chain, and the hours ledger, presence intervals and verifications against each other, their
audit entries and their xAPI statements (`reconciliation.find_differences`), each problem named
by table, row id and what differs. (`app.services.checkpoints` checks the database against the
signed checkpoints kept outside it.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.services.action_labels import ACTION_LABELS
from app.services.audit import verify_chain, verify_entries
from app.services.checkpoints import verify_checkpoints
from app.services.reconciliation import Difference, Scope, find_differences
from app.services.sentences import N_, Code, Sentence, instant, say

#: Which id of a difference names its row, the table that row is in, and its noun.
_ROW_KEYS = (("entry_id", "hours_ledger", N_("ledger entry")),
             ("interval_id", "presence_intervals", N_("interval")),
             ("verification_id", "face_verifications", N_("verification")),
             ("statement_id", "lrs_statements", N_("statement")))
_RECORD_NAMES = {"check_in": N_("check-in statement"), "check_out": N_("check-out statement"),
                 "credit": N_("credit statement"), "reversal": N_("reversal statement"),
                 "verification": N_("statement")}
#: Each kind of difference in words: the row (``what``: its noun and id), the statement it
#: concerns (``statement``) and the difference's own ids.
_SENTENCES = {
    "interval_without_credit": N_("%(what)s: closed, but the ledger has no credit for it"),
    "credit_without_closed_interval": N_("%(what)s: credits interval %(interval_id)s, which is missing or not "
                                         "closed"),
    "credit_exceeds_interval": N_("%(what)s: %(minutes)s minutes exceed the verified time of interval "
                                  "%(interval_id)s (its closed_at or the credit changed)"),
    "reversal_without_credit": N_("%(what)s: reverses %(reverses_id)s, which is not a credit entry"),
    "reversal_minutes_mismatch": N_("%(what)s: does not reverse exactly the minutes of credit %(reverses_id)s"),
    "statement_missing": N_("%(statement)s of %(what)s is missing from the LRS"),
    "registration_mismatch": N_("%(statement)s of %(what)s: its registration is not enrolment %(enrolment_id)s"),
    "statement_verb_mismatch": N_("%(statement)s of %(what)s: its verb is %(statement_verb)s, not %(verb)s"),
    "statement_minutes_mismatch": N_("%(what)s: %(minutes)s minutes, its statement %(statement_id)s says "
                                     "%(statement_minutes)s"),
    "interval_end_mismatch": N_("%(what)s: closed_at changed: %(closed_at)s, but its check-out verification "
                                "%(verification_id)s was at %(verified_at)s"),
    "verification_mismatch": N_("%(what)s: %(decision)s at %(at)s, its statement %(statement_id)s says "
                                "%(statement_decision)s at %(statement_at)s"),
    "interval_start_mismatch": N_("%(what)s: opened_at changed: %(opened_at)s, but its check-in verification "
                                  "%(verification_id)s was at %(verified_at)s"),
    "audited_record_missing": N_("%(what)s: gone, but audit entry %(seq)s (%(action)s) records it"),
    "audit_payload_mismatch": N_("%(what)s: %(field)s %(value)s, but audit entry %(seq)s (%(action)s) recorded "
                                 "%(audited)s"),
    "record_not_audited": N_("%(what)s: has no entry in the audit log"),
    "statement_voided": N_("%(what)s: written by SkillTrace, voided by statement %(voided_by)s"),
}
#: Stored codes a difference names, in words on the pages (as stored in English).
_CODES = {"minutes": N_("credited minutes"), "decision": N_("face check result"),
          "accepted": N_("accepted"), "refused": N_("not accepted")}
_CODED = ("field", "value", "audited", "decision", "statement_decision")
_INSTANTS = ("at", "statement_at", "verified_at", "opened_at", "closed_at")


def _worded(ids: dict) -> dict:
    """The difference's ids with its stored codes and instants as `Code`s: an audit action by its
    label, a field or decision in words, an ISO instant in Beijing time."""
    out = dict(ids)
    if ids.get("action") is not None:
        out["action"] = Code(ids["action"], ACTION_LABELS.get(ids["action"], ids["action"]))
    out.update({k: Code(ids[k], say(_CODES[ids[k]])) for k in _CODED if ids.get(k) in _CODES})
    out.update({k: instant(ids[k]) for k in _INSTANTS if ids.get(k)})
    return out


@dataclass(frozen=True)
class Problem:
    """One integrity problem: the table and row it is about, and a sentence saying what differs
    (``message`` in English for the CLI, ``words`` in the interface language for the pages)."""

    table: str
    row_id: str
    said: Sentence
    enrolment_id: str | None = None
    verification_id: str | None = None

    @property
    def message(self) -> str:
        return str(self.said)

    @property
    def words(self) -> str:
        return self.said.translated()


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


def _sentence(d: Difference, noun: str, row: str) -> Sentence:
    ids = d.ids
    what = say("%(noun)s %(row)s", noun=say(noun), row=row)
    if d.kind == "statement_missing" and ids.get("statement_id") is None:
        return say(N_("%(what)s: has no statement id"), what=what)
    statement = say("%(name)s %(id)s", name=say(_RECORD_NAMES.get(ids.get("record"), N_("statement"))),
                    id=ids.get("statement_id"))
    said = say(_SENTENCES[d.kind], **{**_worded(ids), "what": what, "statement": statement})
    if d.kind == "statement_voided" and ids.get("credential_id"):
        return say(N_("%(sentence)s of LRS credential %(credential_id)s"), sentence=said,
                   credential_id=ids["credential_id"])
    return said


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
    chain = [Problem("audit_entries", str(b.seq), say(N_("audit entry %(seq)s: %(problem)s"), seq=b.seq, problem=b.said))
             for b in breaks]
    _checked, differences = find_differences(session, scope)
    checked, contradicted = (0, []) if scope is not None or audit_seqs is not None else (
        verify_checkpoints(session, checkpoint_file))
    return IntegrityReport(chain, [describe(d) for d in differences],
                           [Problem("checkpoints", "", said) for said in contradicted], checked)
