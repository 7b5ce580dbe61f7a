"""Reads of classes and trainees."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.models import Enrolment, Trainee, TrainingClass


def list_classes(session: Session, status=None) -> list[tuple[TrainingClass, int]]:
    """Every class (of one status when given) with its roster size, newest start first."""
    roster = (select(Enrolment.class_id, func.count().label("n"))
              .group_by(Enrolment.class_id).subquery())
    query = (select(TrainingClass, func.coalesce(roster.c.n, 0))
             .outerjoin(roster, roster.c.class_id == TrainingClass.id)
             .options(joinedload(TrainingClass.institution), joinedload(TrainingClass.programme))
             .order_by(TrainingClass.start_date.desc(), TrainingClass.code))
    if status is not None:
        query = query.where(TrainingClass.status == status)
    rows = session.execute(query)
    return [(klass, count) for klass, count in rows]


def list_trainees(session: Session) -> list[Trainee]:
    """Every trainee, by name."""
    return list(session.scalars(select(Trainee).order_by(Trainee.name)))
