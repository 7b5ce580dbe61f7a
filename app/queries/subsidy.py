"""Reads behind subsidy claims: claims and lines, earlier paid lines of a trainee, and the
ledger → interval → verification chain behind a line."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import (ClaimStatus, FaceVerification, HoursEntry, PresenceInterval, SubsidyClaim,
                        SubsidyClaimLine, TrainingClass)


def get_latest_claim(session: Session, class_id) -> SubsidyClaim | None:
    """The newest version of a class's claim, lines loaded."""
    return session.scalar(select(SubsidyClaim).where(SubsidyClaim.class_id == class_id)
                          .options(selectinload(SubsidyClaim.lines).joinedload(SubsidyClaimLine.trainee))
                          .order_by(SubsidyClaim.version.desc()).limit(1))


def list_claim_versions(session: Session, class_id) -> list[SubsidyClaim]:
    """Every version of a class's claim, newest first."""
    return list(session.scalars(select(SubsidyClaim).where(SubsidyClaim.class_id == class_id)
                                .order_by(SubsidyClaim.version.desc())))


def list_latest_claims(session: Session) -> list[SubsidyClaim]:
    """The newest claim version of every class, newest prepared first."""
    latest = (select(SubsidyClaim.class_id, func.max(SubsidyClaim.version).label("v"))
              .group_by(SubsidyClaim.class_id).subquery())
    return list(session.scalars(
        select(SubsidyClaim).join(latest, (latest.c.class_id == SubsidyClaim.class_id)
                                  & (latest.c.v == SubsidyClaim.version))
        .options(joinedload(SubsidyClaim.training_class).joinedload(TrainingClass.programme))
        .order_by(SubsidyClaim.prepared_at.desc())))


def list_paid_lines_elsewhere(session: Session, trainee_id, class_id) -> list[SubsidyClaimLine]:
    """A trainee's eligible lines in the newest claim of every other class."""
    latest = (select(SubsidyClaim.class_id, func.max(SubsidyClaim.version).label("v"))
              .group_by(SubsidyClaim.class_id).subquery())
    return list(session.scalars(
        select(SubsidyClaimLine).join(SubsidyClaim, SubsidyClaim.id == SubsidyClaimLine.claim_id)
        .join(latest, (latest.c.class_id == SubsidyClaim.class_id) & (latest.c.v == SubsidyClaim.version))
        .where(SubsidyClaimLine.trainee_id == trainee_id, SubsidyClaimLine.eligible.is_(True),
               SubsidyClaim.class_id != class_id)
        .options(joinedload(SubsidyClaimLine.claim).joinedload(SubsidyClaim.training_class))))


def list_ledger_ids(session: Session, enrolment_id) -> list[str]:
    """The ids of every ledger entry of an enrolment (credits and reversals), sorted."""
    return sorted(str(i) for i in session.scalars(
        select(HoursEntry.id).where(HoursEntry.enrolment_id == enrolment_id)))


def get_line(session: Session, line_id) -> SubsidyClaimLine | None:
    """One claim line by id (None for an unknown or malformed id)."""
    try:
        return session.get(SubsidyClaimLine, uuid.UUID(str(line_id)))
    except ValueError:
        return None


@dataclass(frozen=True)
class TraceStep:
    """One ledger entry behind a line, its interval and the verifications that opened and
    closed it (None where there is none, e.g. for a reversal)."""

    entry: HoursEntry
    interval: PresenceInterval | None
    check_in: FaceVerification | None
    check_out: FaceVerification | None


def list_trace_steps(session: Session, entry_ids: list) -> list[TraceStep]:
    """The ledger entries named by a line, oldest first, each walked to its verifications;
    a reversal is walked through the entry it reverses."""
    ids = [uuid.UUID(str(i)) for i in entry_ids]
    entries = list(session.scalars(select(HoursEntry).where(HoursEntry.id.in_(ids)).order_by(HoursEntry.at)))
    steps = []
    for entry in entries:
        source = session.get(HoursEntry, entry.reverses_id) if entry.reverses_id else entry
        interval = session.get(PresenceInterval, source.interval_id) if source and source.interval_id else None
        check_in = check_out = None
        if interval is not None:
            check_in = (session.get(FaceVerification, interval.check_in_verification_id)
                        if interval.check_in_verification_id else None)
            check_out = (session.get(FaceVerification, interval.check_out_verification_id)
                         if interval.check_out_verification_id else None)
        steps.append(TraceStep(entry, interval, check_in, check_out))
    return steps


def list_claims_in_notice(session: Session) -> list[SubsidyClaim]:
    """Claims in public notice (公示), the notice ending soonest first, lines loaded."""
    return list(session.scalars(
        select(SubsidyClaim).where(SubsidyClaim.status == ClaimStatus.IN_NOTICE)
        .options(selectinload(SubsidyClaim.lines).joinedload(SubsidyClaimLine.trainee),
                 joinedload(SubsidyClaim.training_class).joinedload(TrainingClass.programme))
        .order_by(SubsidyClaim.notice_until, SubsidyClaim.id)))
