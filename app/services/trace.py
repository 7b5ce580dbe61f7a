"""Opening a learner's trace: every access is itself audited (PIPL access audit), then the
timeline, hours per day and the integrity result touching this learner are assembled."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.extensions import db
from app.models import Trainee, User
from app.queries import trace as queries
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.integrity import Problem, check_integrity
from app.services.reconciliation import Scope
from app.services.registry import get_trainee_or_404

#: What the access was for, as recorded in the audit entry.
PURPOSES = ("view", "xlsx", "pdf")


@dataclass(frozen=True)
class LearnerTrace:
    """A learner's history and the integrity verdict on it."""

    trainee: Trainee
    subject: queries.Subject
    events: list[queries.TraceEvent]
    hours_per_day: list[tuple[date, int]]
    audit_entries: int  # how many audit entries are about this learner
    chain: list[Problem]
    records: list[Problem]

    @property
    def is_clean(self) -> bool:
        return not self.chain and not self.records


def open_trace(actor: User, trainee_id, purpose: str = "view") -> LearnerTrace:
    """Audit the access (action ``trace.viewed``, with ``purpose``) and build the trace.

    The integrity result covers this learner: their audit entries checked where they sit in the
    chain (hash, payload, links both ways) and the reconciliation of their enrolments' ledger
    and intervals and their verifications with the LRS. The whole chain is `/audit/`'s job.

    :raise 404 (NotFoundError): unknown trainee.
    """
    with transaction() as session:
        trainee = get_trainee_or_404(session, trainee_id)
        append_audit(session, actor, "trace.viewed", trainee, {"purpose": purpose})
    session = db.session
    trainee = get_trainee_or_404(session, trainee_id)
    subject = queries.load_subject(session, trainee)
    seqs = queries.audit_seqs(session, subject)
    report = check_integrity(session, Scope(trainee.id, tuple(subject.enrolment_ids)), seqs)
    return LearnerTrace(trainee, subject, queries.list_events(session, subject),
                        queries.hours_per_day(session, subject), len(seqs), report.chain, report.records)
