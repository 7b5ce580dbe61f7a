"""Subsidy claims (R5, R6, 凡补必进、不进不补): whether an enrolment is eligible, how much it
gets, and a class's claim with one line per enrolment built only from the hours ledger.

Eligible when: the class was approved (approved, running or completed); its institution, the
programme and its occupation are listed (not revoked) when the claim is prepared (the same
`catalogue.is_open_for_new_classes` check as at drafting, submission and approval); the trainee is real-name
verified (a face template, an accepted face check on this enrolment, or a reviewer-confirmed
ID-card arrangement with an accepted ID-card check on this enrolment); at least one verified minute, whatever the exemptions; net hours ≥ required −
exempted; the assessment passed; and the limits against the trainee's eligible lines in other
classes' claims hold (never twice for the same occupation and level, no lower level after a higher
one, at most ``SUBSIDY_YEARLY_LIMIT`` classes a year, ``SUBSIDY_YEARLY_LIMIT_STUDENT`` for students).

Amount = the standard in force on the class's first session day × (1 + ``SUBSIDY_SHORTAGE_UPLIFT``)
when the occupation was on the urgent-shortage list that day, in Decimal rounded to the fen
(ROUND_HALF_UP). Preparing again with nothing changed returns the same claim; any change (a new
ledger entry, an assessment, a listing) gives a new version, earlier versions being kept.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, PermissionDeniedError
from app.models import (AlternativeVerification, Assessment, ClaimStatus, ClassStatus, Decision, Enrolment,
                        FaceTemplate, FaceVerification, SubsidyClaim,
                        SubsidyClaimLine, SubsidyStandard, Trainee, TrainingClass, User,
                        VerificationMode)
from app.models.base import utcnow
from app.queries import subsidy as queries
from app.services import hours
from app.services._tx import transaction
from app.services.audit import append_audit, canonical_json, sha256_hex
from app.services.catalogue import closed_for_new_classes, shortage_listing_on, standard_on
from app.services.classes import LOCAL_TZ, get_class_or_404
from app.services.completion import is_class_staff

FEN = Decimal("0.01")
WITH_THE_BUREAU = (ClaimStatus.SUBMITTED, ClaimStatus.IN_NOTICE, ClaimStatus.PAID)
APPROVED = (ClassStatus.APPROVED, ClassStatus.RUNNING, ClassStatus.COMPLETED)
REASONS = {
    "class_not_approved": _l("The class was never approved."),
    "institution_revoked": _l("The institution is revoked."),
    "programme_revoked": _l("The programme or its occupation is revoked."),
    "occupation_revoked": _l("The programme's occupation is revoked."),
    "not_verified": _l("The trainee is not real-name verified (no face template, and no reviewer-confirmed "
                       "ID-card arrangement with an ID-card check in this class)."),
    "no_verified_minutes": _l("No verified minutes: a line is never paid on exemptions alone."),
    "hours_short": _l("The verified hours are short of the hours required less exemptions."),
    "practice_short": _l("The verified practice hours are short of the programme's practical share."),
    "assessment_missing": _l("No final assessment is recorded."),
    "assessment_failed": _l("The final assessment was failed."),
    "no_standard": _l("No subsidy standard was in force on the training date."),
    "already_claimed": _l("Already subsidised for the same occupation and level: never paid twice."),
    "lower_level": _l("Already subsidised for a higher level of the same occupation: a lower level is not "
                      "paid after a higher one."),
    "yearly_limit": _l("The person already has as many subsidised classes this year as the yearly "
                       "limit allows (students fewer than others)."),
}


def reason_message(code: str) -> str:
    """The plain message of a reason code."""
    return str(REASONS.get(code, code))


def rule_words(line: SubsidyClaimLine) -> str:
    """A line's rule in words: the reasons it is not eligible, or the standard, the uplift and
    the amount (the stored ``rule`` text is the record's, in fixed English)."""
    if not line.eligible:
        return "；".join(reason_message(r) for r in line.reasons)
    standard = line.standard
    text = _("Standard %(amount)s yuan (from %(day)s)", amount=f"{standard.amount:.2f}",
             day=standard.effective_from.isoformat())
    if line.uplift:
        text += " × " + _("%(factor)s for an urgent-shortage occupation", factor=f"{1 + line.uplift}")
    return f"{text} = {line.amount:.2f}"


@dataclass
class LineDraft:
    """A line as computed, before it is stored."""

    enrolment_id: str
    trainee_id: str
    eligible: bool
    reasons: list[str]
    net_minutes: int
    hour_minutes: int
    amount: Decimal
    standard_id: str | None
    uplift: Decimal
    rule: str
    ledger_entry_ids: list[str] = field(default_factory=list)
    trace_id: str = ""


def training_day(klass: TrainingClass) -> date:
    """The class's first session day (Beijing), whose standard and shortage list apply."""
    if klass.sessions:
        return min(s.starts_at for s in klass.sessions).astimezone(LOCAL_TZ).date()
    return klass.start_date


def trace_id(enrolment_id, ledger_ids: list[str]) -> str:
    """First 16 hex of SHA-256 over the enrolment id and its sorted ledger entry ids."""
    return hashlib.sha256(",".join([str(enrolment_id), *sorted(ledger_ids)]).encode()).hexdigest()[:16]


def amount_for(session: Session, klass: TrainingClass) -> tuple[SubsidyStandard | None, Decimal, Decimal, str]:
    """(standard, uplift, amount, rule text) for one trainee of ``klass``; no standard → None, 0."""
    day = training_day(klass)
    standard = standard_on(session, klass.programme_id, day)
    if standard is None:
        return None, Decimal(0), Decimal("0.00"), f"no standard on {day.isoformat()}"
    listing = shortage_listing_on(session, klass.programme.occupation_id, day)
    uplift = Decimal(current_app.config["SUBSIDY_SHORTAGE_UPLIFT"]) if listing else Decimal(0)
    amount = (standard.amount * (1 + uplift)).quantize(FEN, rounding=ROUND_HALF_UP)
    rule = f"standard {standard.amount:.2f} (from {standard.effective_from.isoformat()})"
    if listing:
        rule += f" × {1 + uplift} (shortage list {listing.effective_from.isoformat()})"
    return standard, uplift, amount, rule + f" = {amount:.2f}"


def _accepted_check(session: Session, enrolment: Enrolment, by_id_card: bool):
    mode = FaceVerification.mode == VerificationMode.ALTERNATIVE
    return session.scalar(select(FaceVerification.id).where(
        FaceVerification.enrolment_id == enrolment.id, FaceVerification.decision == Decision.ACCEPTED,
        mode if by_id_card else ~mode).limit(1))


def is_real_name_verified(session: Session, enrolment: Enrolment) -> bool:
    """A face template, an accepted face check on this enrolment (the template may have been
    deleted on consent withdrawal since), or a reviewer-confirmed ID-card arrangement together
    with an accepted ID-card check on this enrolment: an arrangement alone verifies nobody."""
    trainee_id = enrolment.trainee_id
    confirmed = session.scalar(select(AlternativeVerification.id).where(
        AlternativeVerification.trainee_id == trainee_id,
        AlternativeVerification.confirmed_at.is_not(None)).limit(1))
    return bool(
        session.scalar(select(FaceTemplate.id).where(FaceTemplate.trainee_id == trainee_id))
        or _accepted_check(session, enrolment, by_id_card=False)
        or (confirmed and _accepted_check(session, enrolment, by_id_card=True)))


def _level_rank(programme) -> int | None:
    """1 (五级/初级工) up to 5 (一级/高级技师); None without a level."""
    return 6 - int(programme.level.value[-1]) if programme.level else None


def _same_occupation(mine, theirs) -> bool:
    if mine.occupation_id is not None and theirs.occupation_id is not None:
        return mine.occupation_id == theirs.occupation_id
    return mine.id == theirs.id


def yearly_limit(trainee: Trainee) -> int:
    """How many subsidised classes ``trainee`` may have in one calendar year (students fewer)."""
    config = current_app.config
    if trainee.category in config["SUBSIDY_STUDENT_CATEGORIES"]:
        return config["SUBSIDY_YEARLY_LIMIT_STUDENT"]
    return config["SUBSIDY_YEARLY_LIMIT"]


def limit_reasons(session: Session, enrolment: Enrolment) -> list[str]:
    """The subsidy limits (R5, R6) against the trainee's eligible, not returned lines in the
    newest claim of every other class: the same occupation and level is never paid twice
    (``already_claimed``), a lower level is not paid after a higher one of the same occupation
    trained on or before this class's day (``lower_level``), and no more than ``yearly_limit``
    classes are paid in one Beijing calendar year, by first training day (``yearly_limit``)."""
    klass = enrolment.training_class
    mine, day = klass.programme, training_day(klass)
    others = [line.claim.training_class for line in
              queries.list_paid_lines_elsewhere(session, enrolment.trainee_id, klass.id)
              if line.review != "returned"]
    reasons = []
    same = [o for o in others if _same_occupation(mine, o.programme)]
    if any(o.programme.level == mine.level for o in same):
        reasons.append("already_claimed")
    rank = _level_rank(mine)
    if rank is not None and any((_level_rank(o.programme) or 0) > rank and training_day(o) <= day for o in same):
        reasons.append("lower_level")
    if sum(1 for o in others if training_day(o).year == day.year) >= yearly_limit(enrolment.trainee):
        reasons.append("yearly_limit")
    return reasons


def eligibility(session: Session, enrolment: Enrolment) -> list[str]:
    """The reason codes that make an enrolment ineligible, in rule order (empty: eligible)."""
    klass, reasons = enrolment.training_class, []
    programme = klass.programme
    if klass.status not in APPROVED:
        reasons.append("class_not_approved")
    if closed := closed_for_new_classes(klass.institution, programme):  # R8, as at draft/submit/approve
        reasons.append(closed)
    if not is_real_name_verified(session, enrolment):
        reasons.append("not_verified")
    progress = hours.progress(session, enrolment)
    if progress.net <= 0:  # exemptions lower what is needed, never replace attendance (凡补必进)
        reasons.append("no_verified_minutes")
    if progress.net < progress.needed:
        reasons.append("hours_short")
    if progress.practical_short:
        reasons.append("practice_short")
    assessment = session.scalar(select(Assessment).where(Assessment.enrolment_id == enrolment.id))
    if assessment is None:
        reasons.append("assessment_missing")
    elif not assessment.passed:
        reasons.append("assessment_failed")
    if standard_on(session, programme.id, training_day(klass)) is None:
        reasons.append("no_standard")
    return reasons + limit_reasons(session, enrolment)


def draft_line(session: Session, enrolment: Enrolment) -> LineDraft:
    """Compute an enrolment's line (nothing stored)."""
    reasons = eligibility(session, enrolment)
    progress = hours.progress(session, enrolment)
    ledger_ids = queries.list_ledger_ids(session, enrolment.id)
    line = LineDraft(str(enrolment.id), str(enrolment.trainee_id), not reasons, reasons, progress.net,
                     progress.hour_length, Decimal("0.00"), None, Decimal(0),
                     "not eligible: " + ", ".join(reasons), ledger_ids, trace_id(enrolment.id, ledger_ids))
    if not reasons:
        standard, line.uplift, line.amount, line.rule = amount_for(session, enrolment.training_class)
        line.standard_id = str(standard.id)
    return line


def _fingerprint(lines: list[LineDraft]) -> str:
    return sha256_hex(canonical_json([{**asdict(l), "amount": f"{l.amount:.2f}", "uplift": f"{l.uplift:.4f}"}
                                      for l in lines]))


def _roster(session: Session, klass: TrainingClass) -> list[Enrolment]:
    return list(session.scalars(select(Enrolment).join(Trainee, Trainee.id == Enrolment.trainee_id)
                                .where(Enrolment.class_id == klass.id)
                                .order_by(Trainee.name, Trainee.id_number)))


def _store(session: Session, actor: User, klass: TrainingClass, lines: list[LineDraft],
           fingerprint: str, version: int) -> SubsidyClaim:
    claim = SubsidyClaim(class_id=klass.id, version=version, prepared_at=utcnow(), prepared_by_id=actor.id,
                         fingerprint=fingerprint, total_amount=sum((l.amount for l in lines), Decimal("0.00")),
                         eligible_count=sum(1 for l in lines if l.eligible))
    session.add(claim)
    session.flush()
    for position, l in enumerate(lines, 1):
        session.add(SubsidyClaimLine(claim_id=claim.id, position=position, **{
            **asdict(l), "standard_id": uuid.UUID(l.standard_id) if l.standard_id else None,
            "enrolment_id": uuid.UUID(l.enrolment_id), "trainee_id": uuid.UUID(l.trainee_id)}))
    session.flush()
    return claim


def prepare_claim(actor: User, class_id) -> SubsidyClaim:
    """Prepare (or re-prepare) a class's claim: the same claim when nothing changed, else a new
    version. Every enrolment gets a line: eligible with its amount, or not with its reasons.

    Raises:
        NotFoundError: no such class. PermissionDeniedError: not an admin or the class's instructor.
        ConflictError: the newest version is submitted, in notice or paid (``with_the_bureau``).
    """
    with transaction() as session:
        klass = get_class_or_404(session, class_id)
        if not is_class_staff(actor, klass):
            raise PermissionDeniedError(_("Only an administrator or the class's instructors prepare its claim."))
        # one preparer per class at a time on PostgreSQL (SQLite's BEGIN IMMEDIATE serialises)
        session.execute(select(TrainingClass.id).where(TrainingClass.id == klass.id).with_for_update())
        lines = [draft_line(session, e) for e in _roster(session, klass)]
        fingerprint = _fingerprint(lines)
        latest = queries.get_latest_claim(session, klass.id)
        if latest is not None and latest.status in WITH_THE_BUREAU:
            raise ConflictError(_("The claim is with the bureau (submitted, in notice or paid): it is not "
                                  "prepared again."), code="with_the_bureau")
        if latest is not None and latest.fingerprint == fingerprint:
            return latest
        claim = _store(session, actor, klass, lines, fingerprint, (latest.version + 1) if latest else 1)
        append_audit(session, actor, "subsidy.claim_prepared", claim, {
            "class_id": str(klass.id), "version": claim.version, "fingerprint": fingerprint,
            "total": f"{claim.total_amount:.2f}", "eligible": claim.eligible_count, "lines": len(lines),
            "trace_ids": [l.trace_id for l in lines]})
    return claim
