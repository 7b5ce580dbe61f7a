"""A class's evidence pack: the paper an auditor or the bureau asks for, as tables.

花名册 (the roster), a 考勤表 (attendance sheet) per session, each trainee's hours ledger, an index
of the face-check evidence (time, decision, distance, mode — never a face), and the assessments
with certificate numbers. The web layer renders the same tables as one PDF and one workbook;
building a pack is audited (``evidence_pack.viewed``), since it carries personal data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import local_now, local_stamp
from app.models import (Assessment, CompletionCertificate, Enrolment, FaceVerification, HoursEntry,
                        PresenceInterval, Trainee, TrainingClass, User)
from app.models.base import utcnow
from app.services import hours
from app.services._tx import transaction
from app.services.refusals import refusal_message
from app.services.audit import append_audit
from app.services.classes import get_class_or_404
from app.services.policy import can_act_for, is_province_wide, require
from app.services.resident_id import mask_resident_id

MODE_WORDS = {"personal": _l("own device"), "kiosk": _l("kiosk"), "alternative": _l("ID-card check"),
              "correction": _l("instructor's correction")}
PURPOSE_WORDS = {"check_in": _l("Check in"), "check_out": _l("Check out"), "roll_call": _l("Face roll-call"),
                 "witness": _l("Witnessed face check (appeal)")}


@dataclass
class Section:
    """One table of the pack: a title, a header row and rows of text."""

    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class EvidencePack:
    """Everything the documents print: the class, when it was generated, and the tables."""

    klass: TrainingClass
    generated_at: datetime
    sections: list[Section]

    @property
    def heading(self) -> str:
        return _("Class evidence pack: %(code)s %(name)s", code=self.klass.code, name=self.klass.name)

    @property
    def generated_words(self) -> str:
        return _("Generated %(at)s (Beijing time)", at=local_stamp(self.generated_at))


def _words(table: dict, key: str) -> str:
    return str(table.get(key, key))


def _roster(session: Session, roster: list[tuple[Enrolment, Trainee]]) -> Section:
    section = Section(_("Roster (花名册)"), [_("No."), _("Name"), _("ID number"), _("Sex"), _("Person category"),
                                           _("Employer"), _("Exempted hours")])
    for n, (enrolment, trainee) in enumerate(roster, 1):
        section.rows.append([str(n), trainee.name, mask_resident_id(trainee.id_number),
                             _("Male") if trainee.sex.value == "male" else _("Female"), trainee.category,
                             trainee.employer or "—", str(enrolment.exempted_hours)])
    return section


def _attendance_sheets(session: Session, klass: TrainingClass, names: dict) -> list[Section]:
    credits = {e.interval_id: e for e in session.scalars(
        select(HoursEntry).join(Enrolment, Enrolment.id == HoursEntry.enrolment_id)
        .where(Enrolment.class_id == klass.id, HoursEntry.interval_id.is_not(None)))}
    sheets = []
    for cs in sorted(klass.sessions, key=lambda s: s.starts_at):
        start = local_now(cs.starts_at)
        sheet = Section(_("Attendance sheet (考勤表) %(day)s %(start)s–%(end)s %(place)s", day=start.date().isoformat(),
                          start=start.strftime("%H:%M"), end=local_now(cs.ends_at).strftime("%H:%M"),
                          place=cs.place or _("online")),
                        [_("Name"), _("Checked in"), _("Checked out"), _("Method"), _("Minutes"), _("Note")])
        for interval in session.scalars(select(PresenceInterval).where(PresenceInterval.session_id == cs.id)
                                        .order_by(PresenceInterval.opened_at)):
            credit = credits.get(interval.id)
            sheet.rows.append([names.get(interval.trainee_id, "—"), local_stamp(interval.opened_at)[11:16],
                               local_stamp(interval.closed_at)[11:16] if interval.closed_at else _("present"),
                               _words(MODE_WORDS, interval.mode.value),
                               str(credit.minutes) if credit else "—",
                               hours.close_reason_words(interval.close_reason) or "—"])
        sheets.append(sheet)
    return sheets


def _ledgers(session: Session, roster: list[tuple[Enrolment, Trainee]]) -> Section:
    section = Section(_("Hours ledger per trainee"), [_("Name"), _("Time"), _("Entry"), _("Minutes"), _("Method"),
                                                      _("Reason")])
    for enrolment, trainee in roster:
        for entry in session.scalars(select(HoursEntry).where(HoursEntry.enrolment_id == enrolment.id)
                                     .order_by(HoursEntry.at)):
            section.rows.append([trainee.name, local_stamp(entry.at)[:16],
                                 _("Credit") if entry.entry_type.value == "credit" else _("Reversal"),
                                 str(entry.minutes), _words(MODE_WORDS, entry.mode.value),
                                 hours.close_reason_words(entry.reason) or "—"])
        progress = hours.progress(session, enrolment)
        section.rows.append([trainee.name, "", _("Net, against the hours needed"), f"{progress.net} / {progress.needed}",
                             "", ""])
    return section


def _face_checks(session: Session, klass: TrainingClass, names: dict) -> Section:
    section = Section(_("Face-check evidence index (no images)"),
                      [_("Time"), _("Name"), _("Action"), _("Decision"), _("Distance"), _("Method"), _("Record id")])
    for v in session.scalars(select(FaceVerification).where(FaceVerification.class_id == klass.id)
                             .order_by(FaceVerification.at)):
        decision = _("accepted") if v.decision.value == "accepted" else refusal_message(v.reason)
        section.rows.append([local_stamp(v.at), names.get(v.trainee_id, _("unknown")),
                             _words(PURPOSE_WORDS, v.purpose.value), decision,
                             f"{v.distance:.3f}" if v.distance is not None else "—",
                             _words(MODE_WORDS, v.mode.value), str(v.id)])
    return section


def _assessments(session: Session, roster: list[tuple[Enrolment, Trainee]]) -> Section:
    section = Section(_("Assessments and certificates"), [_("Name"), _("Theory"), _("Practical"), _("Result"),
                                                          _("Assessed on"), _("Certificate number"), _("Issued on")])
    for enrolment, trainee in roster:
        a = session.scalar(select(Assessment).where(Assessment.enrolment_id == enrolment.id))
        c = session.scalar(select(CompletionCertificate).where(CompletionCertificate.enrolment_id == enrolment.id))
        section.rows.append([trainee.name, str(a.theory_score) if a else "—", str(a.practical_score) if a else "—",
                             (_("passed") if a.passed else _("failed")) if a else _("not assessed"),
                             a.assessed_on.isoformat() if a else "—", c.serial if c else "—",
                             c.issued_on.isoformat() if c else "—"])
    return section


def build_pack(actor: User, class_id, document: str, now: datetime | None = None) -> EvidencePack:
    """The class's evidence pack for ``actor`` (province-wide accounts, or staff of the class's
    institution), audited with the ``document`` kind (pdf / xlsx).

    Raises:
        NotFoundError: no such class. PermissionDeniedError: staff of another institution.
    """
    now = now or utcnow()
    with transaction() as session:
        klass = get_class_or_404(session, class_id)
        require(is_province_wide(actor) or can_act_for(actor, klass.institution_id))
        roster = session.execute(select(Enrolment, Trainee).join(Trainee, Trainee.id == Enrolment.trainee_id)
                                 .where(Enrolment.class_id == klass.id).order_by(Trainee.name)).all()
        names = {t.id: t.name for _e, t in roster}
        sections = [_roster(session, roster), *_attendance_sheets(session, klass, names),
                    _ledgers(session, roster), _face_checks(session, klass, names), _assessments(session, roster)]
        append_audit(session, actor, "evidence_pack.viewed", klass, {"document": document,
                                                                        "trainees": len(roster)})
        return EvidencePack(klass, now, sections)
