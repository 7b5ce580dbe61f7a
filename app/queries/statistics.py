"""Yearly statistics (R9, R11): person-times (人次) per training category against the yearly
targets, full-time-student equivalents, face-verification failure rates and ID-card check counts,
per institution and overall.

A person-time is an enrolment in an approved, running or completed class whose first session
falls in the year (Beijing time). Verifications count by the time they happened; those refused
before any class was known belong to no institution and get a row of their own. The overall row
is the sum of the rows, from the same queries, so the rows always add up to it. Each figure is
one GROUP BY query, portable across SQLite and PostgreSQL.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import (AlternativeVerification, ClassSession, ClassStatus, Decision, Enrolment,
                        FaceVerification, Institution, Programme, TrainingCategory, TrainingClass,
                        VerificationMode)
from app.services.classes import LOCAL_TZ

COUNTED_STATUSES = (ClassStatus.APPROVED, ClassStatus.RUNNING, ClassStatus.COMPLETED)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first instant of ``year`` and of the next one, Beijing time (as aware datetimes)."""
    return datetime(year, 1, 1, tzinfo=LOCAL_TZ), datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)


@dataclass
class Tally:
    """The figures of one institution, or of all of them."""

    name: str
    person_times: dict[TrainingCategory, int] = field(default_factory=dict)
    face_verifications: int = 0
    face_failures: int = 0
    alternative_checks: int = 0
    unattributed: bool = False  # the row of verifications that named no class

    def add(self, other: "Tally") -> None:
        """Add ``other``'s figures to this tally's."""
        for category, count in other.person_times.items():
            self.person_times[category] = self.person_times.get(category, 0) + count
        self.face_verifications += other.face_verifications
        self.face_failures += other.face_failures
        self.alternative_checks += other.alternative_checks

    @property
    def total_person_times(self) -> int:
        return sum(self.person_times.values())

    @property
    def failure_rate(self) -> Decimal | None:
        """Failed ÷ all face verifications (None when there were none), to 4 places."""
        if not self.face_verifications:
            return None
        return (Decimal(self.face_failures) / Decimal(self.face_verifications)).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class CategoryLine:
    """Person-times of one category against its target, and their full-time equivalents."""

    category: TrainingCategory
    person_times: int
    target: int | None
    full_time_equivalents: Decimal


@dataclass(frozen=True)
class YearStatistics:
    year: int
    categories: list[CategoryLine]
    institutions: list[Tally]
    overall: Tally
    full_time_equivalents: Decimal
    arrangements: int  # ID-card check arrangements made in the year


def _person_times(session: Session, start: datetime, end: datetime) -> list[tuple[uuid.UUID, TrainingCategory, int]]:
    first = (select(ClassSession.class_id, func.min(ClassSession.starts_at).label("first_at"))
             .group_by(ClassSession.class_id).subquery())
    return session.execute(
        select(TrainingClass.institution_id, Programme.category, func.count(Enrolment.id))
        .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
        .join(Programme, Programme.id == TrainingClass.programme_id)
        .join(first, first.c.class_id == TrainingClass.id)
        .where(TrainingClass.status.in_(COUNTED_STATUSES), first.c.first_at >= start, first.c.first_at < end)
        .group_by(TrainingClass.institution_id, Programme.category)).all()


def _verifications(session: Session, start: datetime, end: datetime) -> list[tuple[uuid.UUID | None, int, int, int]]:
    face = FaceVerification.mode != VerificationMode.ALTERNATIVE
    failed = face & (FaceVerification.decision == Decision.REFUSED)
    return session.execute(
        select(TrainingClass.institution_id,
               func.sum(case((face, 1), else_=0)), func.sum(case((failed, 1), else_=0)),
               func.sum(case((FaceVerification.mode == VerificationMode.ALTERNATIVE, 1), else_=0)))
        .select_from(FaceVerification)
        .outerjoin(TrainingClass, TrainingClass.id == FaceVerification.class_id)
        .where(FaceVerification.at >= start, FaceVerification.at < end)
        .group_by(TrainingClass.institution_id)).all()


def _equivalents(person_times: int, rate: Decimal) -> Decimal:
    return (Decimal(person_times) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def year_statistics(session: Session, year: int, targets: dict, rate: Decimal) -> YearStatistics:
    """Every figure of ``year``; ``targets`` maps category values to yearly targets (a category
    without one has none) and ``rate`` converts person-times to full-time students."""
    start, end = year_bounds(year)
    tallies: dict[uuid.UUID | None, Tally] = {}
    names = dict(session.execute(select(Institution.id, Institution.name)).all())

    def tally_of(institution_id) -> Tally:
        return tallies.setdefault(institution_id, Tally(names.get(institution_id, ""),
                                                        unattributed=institution_id is None))

    for institution_id, category, count in _person_times(session, start, end):
        tally = tally_of(institution_id)
        tally.person_times[category] = tally.person_times.get(category, 0) + count
    for institution_id, total, failures, alternative in _verifications(session, start, end):
        tally = tally_of(institution_id)
        tally.face_verifications += int(total or 0)
        tally.face_failures += int(failures or 0)
        tally.alternative_checks += int(alternative or 0)
    rows = sorted(tallies.values(), key=lambda t: (t.unattributed, t.name))
    overall = Tally("")
    for row in rows:
        overall.add(row)
    categories = [CategoryLine(c, overall.person_times.get(c, 0), targets.get(c.value),
                               _equivalents(overall.person_times.get(c, 0), rate)) for c in TrainingCategory]
    arrangements = session.scalar(select(func.count(AlternativeVerification.id)).where(
        AlternativeVerification.created_at >= start, AlternativeVerification.created_at < end)) or 0
    return YearStatistics(year, categories, rows, overall,
                          _equivalents(overall.total_person_times, rate), int(arrangements))
