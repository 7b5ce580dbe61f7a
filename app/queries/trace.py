"""The auditor's learner trace (R3): a trainee's whole history as one list of typed events,
oldest first, plus verified hours per day.

Each kind of event comes from one small function decorated with `source`; a new kind (an
assessment, a subsidy line) is one more such function. A source takes the session and the
`Subject` (the trainee, their enrolments and classes) and yields `TraceEvent`s. Titles and detail
labels are translated when the trace is built, so build it inside a request.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.clock import local_stamp
from app.models import (AlternativeVerification, Assessment, AuditEntry, Certificate, CheckInLock,
                        CompletionCertificate, Consent, Decision, DuplicateFaceFlag, Enrolment, EntryType,
                        Exemption, FaceVerification, HoursEntry, PresenceInterval, StudyRollCall,
                        SubsidyClaim, SubsidyClaimLine, Trainee, TrainingClass)
from app.services.refusals import refusal_message
from app.services.enrolment import reason_message as frame_reason_message
from app.services.resident_id import mask_resident_id, normalise_id_number
from app.services.subsidy import rule_words
from app.web.labels import SKILL_LEVEL_LABELS


@dataclass(frozen=True)
class TraceEvent:
    """One line of the timeline: when (UTC), what kind, a title, labelled details and links."""

    at: datetime
    kind: str
    title: str
    details: dict = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Subject:
    """Whose trace is built: the trainee, their enrolments and the classes of those."""

    trainee: Trainee
    enrolments: list[Enrolment]
    classes: dict[uuid.UUID, TrainingClass]

    @property
    def enrolment_ids(self) -> list[uuid.UUID]:
        return [e.id for e in self.enrolments]

    def class_code(self, class_id) -> str:
        klass = self.classes.get(class_id)
        return klass.code if klass else "—"


Source = Callable[[Session, Subject], Iterable[TraceEvent]]
SOURCES: list[Source] = []


def source(fn: Source) -> Source:
    """Register ``fn`` as a source of trace events."""
    SOURCES.append(fn)
    return fn


#: Stored codes shown in words (purposes, decisions, modes, statuses, outcomes, kinds, methods).
WORDS = {
    "check_in": _l("Check in"), "check_out": _l("Check out"), "roll_call": _l("Face roll-call"),
    "witness": _l("Witnessed face check (appeal)"),
    "accepted": _l("accepted"), "refused": _l("not accepted"), "personal": _l("own device"),
    "kiosk": _l("kiosk"), "alternative": _l("ID card"), "open": _l("open"), "closed": _l("closed"),
    "pending": _l("pending"), "passed": _l("passed"), "failed": _l("failed"), "missed": _l("missed"),
    "theory": _l("Theory"), "practice": _l("Practice"), "on_screen": _l("on screen"), "paper": _l("on paper"),
    # liveness reasons (recognition.liveness)
    "action_not_seen": _l("(the action was not seen)"), "too_few_frames": _l("(too few pictures)"),
    "unknown_action": _l("(unknown action)"), "frames_identical": _l("(pictures identical: a photo)"),
    "different_faces": _l("(different faces in the pictures)"),
    "not_done": _l("(the prompted actions were not done)"), "blink": _l("(blink)"),
    **SKILL_LEVEL_LABELS,
}


def word(code) -> str:
    """The stored code (an enum member or a string) in the interface language."""
    code = getattr(code, "value", code)
    return str(WORDS.get(code, code))


def _class_link(class_id) -> tuple[str, str]:
    return (_("Class attendance"), url_for("attendance.class_attendance", class_id=class_id))


@source
def registration(_session: Session, subject: Subject) -> Iterable[TraceEvent]:
    t = subject.trainee
    yield TraceEvent(t.created_at, "registration", _("Registered under real name"), {
        _("Name"): t.name, _("ID number"): mask_resident_id(t.id_number),
        _("Person category"): t.category, _("Employer"): t.employer or "—"})


@source
def certificates(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    for c in session.scalars(select(Certificate).where(Certificate.trainee_id == subject.trainee.id)):
        yield TraceEvent(c.created_at, "certificate", _("Skill certificate recorded"), {
            _("Serial number"): c.serial, _("Level"): word(c.level), _("Issued on"): c.issued_on.isoformat()})


@source
def consents(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    for c in session.scalars(select(Consent).where(Consent.trainee_id == subject.trainee.id)):
        details = {_("Consent text version"): c.consent_text.version, _("Method"): word(c.method),
                   _("Retention (days)"): c.consent_text.retention_days}
        yield TraceEvent(c.created_at, "consent", _("Consent to face processing given"), details)
        if c.withdrawn_at:
            yield TraceEvent(c.withdrawn_at, "consent_withdrawn", _("Consent to face processing withdrawn"),
                             details)


@source
def face_enrolment(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    """From the audit log, since withdrawing consent deletes the template itself."""
    rows = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "face.enrolled",
        AuditEntry.payload["trainee_id"].as_string() == str(subject.trainee.id)))
    for entry in rows:
        yield TraceEvent(entry.at, "face_enrolment", _("Face enrolled"), {
            _("Encoder"): entry.payload.get("encoder"), _("Captures"): entry.payload.get("captures"),
            _("Template"): entry.object_id, _("Audit entry"): entry.seq})


@source
def duplicate_faces(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.scalars(select(DuplicateFaceFlag).where(DuplicateFaceFlag.trainee_id == subject.trainee.id))
    for f in rows:
        yield TraceEvent(f.created_at, "duplicate_face", _("Face enrolment refused: the face matches another trainee"),
                         {_("Distance"): f"{f.score:.4f}", _("Matched trainee"): str(f.matched_trainee_id),
                          _("Resolved"): local_stamp(f.resolved_at)})


@source
def lock_outs(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    for lock in session.scalars(select(CheckInLock).where(CheckInLock.trainee_id == subject.trainee.id)):
        yield TraceEvent(lock.locked_at, "locked_out", _("Self check-in locked after %(n)s failures", n=lock.failures),
                         {})
        if lock.unlocked_at:
            yield TraceEvent(lock.unlocked_at, "unlocked", _("Self check-in unlocked"),
                             {_("Reason"): lock.unlock_reason})


@source
def class_enrolments(_session: Session, subject: Subject) -> Iterable[TraceEvent]:
    for e in subject.enrolments:
        klass = subject.classes[e.class_id]
        yield TraceEvent(e.created_at, "enrolment", _("Enrolled in class %(code)s", code=klass.code), {
            _("Class"): klass.name, _("Programme"): klass.programme.name,
            _("Institution"): klass.institution.name, _("Enrolment"): str(e.id)}, (_class_link(klass.id),))


@source
def exemptions(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    for x in session.scalars(select(Exemption).where(Exemption.enrolment_id.in_(subject.enrolment_ids))):
        yield TraceEvent(x.created_at, "exemption", _("Exemption of %(h)s hours granted", h=x.hours), {
            _("Reason"): x.reason, _("Enrolment"): str(x.enrolment_id)})


@source
def alternatives(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.scalars(select(AlternativeVerification)
                           .where(AlternativeVerification.trainee_id == subject.trainee.id))
    for a in rows:
        yield TraceEvent(a.created_at, "alternative", _("ID-card check arranged instead of face recognition"),
                         {_("Reason"): a.reason})
        if a.ended_at:
            yield TraceEvent(a.ended_at, "alternative_ended", _("ID-card check arrangement ended"), {})


def liveness_words(v: FaceVerification) -> str:
    """A verification's liveness result and reason in words ("—" when none was judged)."""
    if v.liveness_passed is None:
        return "—"
    reason = v.liveness_reason
    if reason.startswith("frame_"):  # frame_<n>:<why the picture was refused>
        reason = frame_reason_message(reason.split(":", 1)[-1])
    return f"{word('passed' if v.liveness_passed else 'failed')} {word(reason)}".strip()


@source
def verifications(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.scalars(select(FaceVerification).where(FaceVerification.trainee_id == subject.trainee.id))
    for v in rows:
        title = (_("Verification accepted: %(purpose)s", purpose=word(v.purpose)) if v.decision == Decision.ACCEPTED
                 else _("Verification refused: %(purpose)s", purpose=word(v.purpose)))
        links = ()
        if v.class_id and v.session_id:
            links = ((_("Session log"), url_for("attendance.session_log", class_id=v.class_id,
                                                session_id=v.session_id)),)
        yield TraceEvent(v.at, "verification", title, {
            _("Decision"): word(v.decision), _("Reason"): f"{v.reason} ({refusal_message(v.reason)})" if v.reason else "—",
            _("Mode"): word(v.mode),
            _("Distance"): "—" if v.distance is None else f"{v.distance:.4f}",
            _("Threshold"): "—" if v.threshold is None else f"{v.threshold:.4f}",
            _("Liveness"): liveness_words(v), _("Device"): v.device or "—",
            _("Class"): subject.class_code(v.class_id), _("Verification"): str(v.id),
            _("xAPI statement"): str(v.statement_id or "—")}, links)


@source
def intervals(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.scalars(select(PresenceInterval).where(PresenceInterval.trainee_id == subject.trainee.id))
    for i in rows:
        yield TraceEvent(i.opened_at, "interval", _("Presence in a session of class %(code)s",
                                                     code=subject.class_code(i.enrolment.class_id)), {
            _("From"): local_stamp(i.opened_at), _("To"): local_stamp(i.closed_at),
            _("Status"): word(i.status), _("Mode"): word(i.mode), _("Interval"): str(i.id),
            _("Check-in statement"): str(i.check_in_statement_id or "—"),
            _("Check-out statement"): str(i.check_out_statement_id or "—")}, (_class_link(i.enrolment.class_id),))


@source
def roll_calls(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.scalars(select(StudyRollCall).where(StudyRollCall.trainee_id == subject.trainee.id))
    for r in rows:
        yield TraceEvent(r.due_at, "roll_call", _("Face roll-call: %(outcome)s", outcome=word(r.outcome)), {
            _("Deadline"): local_stamp(r.deadline), _("Answered"): local_stamp(r.resolved_at),
            _("Interval"): str(r.interval_id), _("Verification"): str(r.verification_id or "—")})


def rule_version_words(entry: HoursEntry) -> str:
    """Which version of the programme's hour rule credited the entry, in words."""
    version = (entry.rule or {}).get("rule_version")
    if version is None:
        return _("The configured defaults (the programme had no rule of its own)")
    return _("Version %(v)s, in force from %(day)s", v=version, day=entry.rule.get("effective_from"))


@source
def ledger(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.scalars(select(HoursEntry).where(HoursEntry.enrolment_id.in_(subject.enrolment_ids)))
    for h in rows:
        details = {_("Minutes"): h.minutes, _("Kind"): word(h.kind), _("Mode"): word(h.mode),
                   _("Day"): h.local_day.isoformat(), _("Hours ledger entry"): str(h.id),
                   _("xAPI statement"): str(h.statement_id or "—")}
        if h.entry_type == EntryType.CREDIT:
            yield TraceEvent(h.at, "credit", _("%(m)s minutes credited", m=h.minutes),
                             {**details, _("Interval"): str(h.interval_id), _("Hour rule"): rule_version_words(h)})
        else:
            yield TraceEvent(h.at, "reversal", _("%(m)s minutes reversed", m=-h.minutes),
                             {**details, _("Reason"): h.reason, _("Reverses"): str(h.reverses_id)})


@source
def assessments(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    for a in session.scalars(select(Assessment).where(Assessment.enrolment_id.in_(subject.enrolment_ids))):
        title = _("Final assessment passed") if a.passed else _("Final assessment failed")
        yield TraceEvent(a.recorded_at, "assessment", title, {
            _("Theory"): f"{a.theory_score} / {a.theory_pass_mark}",
            _("Practice"): f"{a.practical_score} / {a.practical_pass_mark}",
            _("Assessed on"): a.assessed_on.isoformat(), _("Correction reason"): a.correction_reason or "—",
            _("xAPI statement"): str(a.statement_id or "—")})


@source
def completion_certificates(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.scalars(select(CompletionCertificate)
                           .where(CompletionCertificate.enrolment_id.in_(subject.enrolment_ids)))
    for c in rows:
        yield TraceEvent(c.created_at, "completion", _("Completion certificate issued"), {
            _("Serial number"): c.serial, _("Issued on"): c.issued_on.isoformat()},
            ((_("Certificate"), url_for("training.show_certificate", certificate_id=c.id)),))


@source
def subsidy_lines(session: Session, subject: Subject) -> Iterable[TraceEvent]:
    rows = session.execute(select(SubsidyClaimLine, SubsidyClaim).join(SubsidyClaim)
                           .where(SubsidyClaimLine.trainee_id == subject.trainee.id))
    for line, claim in rows:
        title = (_("Subsidy line: %(amount)s yuan", amount=f"{line.amount:.2f}") if line.eligible
                 else _("Subsidy line: not eligible"))
        link = ((_("Claim line"), url_for("subsidy.show_line", line_id=line.id)),)
        yield TraceEvent(claim.prepared_at, "subsidy", title, {
            _("Class"): subject.class_code(claim.class_id), _("Claim version"): claim.version,
            _("Rule"): rule_words(line), _("Trace id"): line.trace_id,
            _("Ledger entries"): len(line.ledger_entry_ids)}, link)
        yield from _claim_steps(claim, line, link)


def _claim_steps(claim: SubsidyClaim, line: SubsidyClaimLine, link) -> Iterable[TraceEvent]:
    """The bureau's workflow steps of the claim a line belongs to."""
    version = {_("Claim version"): claim.version}
    if claim.submitted_at:
        yield TraceEvent(claim.submitted_at, "subsidy_submitted", _("Subsidy claim submitted to the bureau"),
                         version, link)
    if claim.reviewed_at and line.review:
        review = _("accepted") if line.review == "accepted" else _("returned") + "：" + line.review_reason
        notice = f"{claim.notice_from} – {claim.notice_until}" if claim.notice_until else "—"
        yield TraceEvent(claim.reviewed_at, "subsidy_reviewed", _("Subsidy line reviewed: %(review)s", review=review),
                         {**version, _("Public notice"): notice}, link)
    if claim.paid_at and line.review == "accepted":
        yield TraceEvent(claim.paid_at, "subsidy_paid", _("Subsidy paid"),
                         {**version, _("Payment reference"): claim.payment_reference}, link)


def load_subject(session: Session, trainee: Trainee) -> Subject:
    """The trainee with their enrolments and classes."""
    enrolments = list(session.scalars(select(Enrolment).where(Enrolment.trainee_id == trainee.id)
                                      .order_by(Enrolment.created_at)))
    classes = {c.id: c for c in session.scalars(
        select(TrainingClass).where(TrainingClass.id.in_([e.class_id for e in enrolments])))}
    return Subject(trainee, enrolments, classes)


def list_events(session: Session, subject: Subject) -> list[TraceEvent]:
    """Every event of every source, oldest first (newest last)."""
    events = [event for fn in SOURCES for event in fn(session, subject)]
    return sorted(events, key=lambda e: e.at)


def hours_per_day(session: Session, subject: Subject) -> list[tuple[date, int]]:
    """Net verified minutes credited per Beijing day, credits less reversals, by day."""
    rows = session.execute(select(HoursEntry.local_day, func.sum(HoursEntry.minutes))
                           .where(HoursEntry.enrolment_id.in_(subject.enrolment_ids))
                           .group_by(HoursEntry.local_day).order_by(HoursEntry.local_day)).all()
    return [(day, int(minutes)) for day, minutes in rows]


def audit_seqs(session: Session, subject: Subject) -> list[int]:
    """The audit entries about this learner: on the trainee or one of their records (enrolments,
    consents, certificates, exemptions, arrangements, verifications, intervals, ledger entries),
    or naming the trainee in their payload."""
    t, enrolments = subject.trainee.id, subject.enrolment_ids
    ids = {str(t), *(str(e) for e in enrolments)}
    for query in (select(HoursEntry.id).where(HoursEntry.enrolment_id.in_(enrolments)),
                  select(Exemption.id).where(Exemption.enrolment_id.in_(enrolments)),
                  select(PresenceInterval.id).where(PresenceInterval.trainee_id == t),
                  select(FaceVerification.id).where(FaceVerification.trainee_id == t),
                  select(Consent.id).where(Consent.trainee_id == t),
                  select(Certificate.id).where(Certificate.trainee_id == t),
                  select(Assessment.id).where(Assessment.enrolment_id.in_(enrolments)),
                  select(CompletionCertificate.id).where(CompletionCertificate.enrolment_id.in_(enrolments)),
                  select(AlternativeVerification.id).where(AlternativeVerification.trainee_id == t)):
        ids.update(str(i) for i in session.scalars(query))
    return list(session.scalars(select(AuditEntry.seq).where(or_(
        AuditEntry.object_id.in_(ids), AuditEntry.payload["trainee_id"].as_string() == str(t)))))


def search_trainees(session: Session, query: str, limit: int = 50) -> list[Trainee]:
    """Trainees whose full resident ID is ``query`` (exact) or whose name contains it."""
    query = (query or "").strip()
    if not query:
        return []
    by_id = Trainee.id_number == normalise_id_number(query)
    by_name = Trainee.name.contains(query, autoescape=True)
    return list(session.scalars(select(Trainee).where(or_(by_id, by_name)).order_by(Trainee.name).limit(limit)))
