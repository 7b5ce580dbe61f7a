"""Reads of classes and trainees."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.models import Enrolment, Trainee, TrainingClass


def list_classes(session: Session, status=None, institution_id=None) -> list[tuple[TrainingClass, int]]:
    """Every class (of one status, of one institution when given) with its roster size, newest
    start first."""
    roster = (select(Enrolment.class_id, func.count().label("n"))
              .group_by(Enrolment.class_id).subquery())
    query = (select(TrainingClass, func.coalesce(roster.c.n, 0))
             .outerjoin(roster, roster.c.class_id == TrainingClass.id)
             .options(joinedload(TrainingClass.institution), joinedload(TrainingClass.programme))
             .order_by(TrainingClass.start_date.desc(), TrainingClass.code))
    if status is not None:
        query = query.where(TrainingClass.status == status)
    if institution_id is not None:
        query = query.where(TrainingClass.institution_id == institution_id)
    rows = session.execute(query)
    return [(klass, count) for klass, count in rows]


def list_trainees(session: Session, institution_id=None) -> list[Trainee]:
    """Every trainee by name; when ``institution_id`` is given, those on its class rosters or
    registered by it."""
    query = select(Trainee).order_by(Trainee.name)
    if institution_id is not None:
        on_roster = select(Enrolment.trainee_id).join(TrainingClass, Enrolment.class_id == TrainingClass.id) \
            .where(TrainingClass.institution_id == institution_id)
        query = query.where(or_(Trainee.registered_by_institution_id == institution_id,
                                Trainee.id.in_(on_roster)))
    return list(session.scalars(query))
