"""Reads of classes and trainees."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.models import ClassSession, ClassStatus, Enrolment, Trainee, TrainingClass


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


def _visible_to(query, institution_id):
    """``query`` of trainees narrowed to those an institution sees: on its class rosters or
    registered by it (everyone when ``institution_id`` is None)."""
    if institution_id is None:
        return query
    on_roster = select(Enrolment.trainee_id).join(TrainingClass, Enrolment.class_id == TrainingClass.id) \
        .where(TrainingClass.institution_id == institution_id)
    return query.where(or_(Trainee.registered_by_institution_id == institution_id, Trainee.id.in_(on_roster)))


def list_trainees(session: Session, institution_id=None) -> list[Trainee]:
    """Every trainee by name; when ``institution_id`` is given, those on its class rosters or
    registered by it."""
    return list(session.scalars(_visible_to(select(Trainee).order_by(Trainee.name), institution_id)))


def search_trainees(session: Session, text: str, institution_id=None, limit: int = 20) -> list[Trainee]:
    """Trainees the institution sees (see `list_trainees`) whose name contains ``text`` or whose
    ID number ends with it (four characters or more), by name, at most ``limit``."""
    text = text.strip()
    if not text:
        return []
    match = Trainee.name.contains(text, autoescape=True)
    if len(text) >= 4:
        match = or_(match, Trainee.id_number.endswith(text.upper(), autoescape=True))
    query = select(Trainee).where(match).order_by(Trainee.name).limit(limit)
    return list(session.scalars(_visible_to(query, institution_id)))


def list_visible_id_numbers(session: Session, trainee_ids, institution_id=None) -> list[str]:
    """The ID numbers of those of ``trainee_ids`` the institution sees."""
    query = select(Trainee.id_number).where(Trainee.id.in_(trainee_ids)).order_by(Trainee.name)
    return list(session.scalars(_visible_to(query, institution_id)))


def list_sessions_between(session: Session, start, end, exclude_class_id=None) -> list[ClassSession]:
    """Sessions overlapping ``start``–``end`` of classes neither withdrawn nor rejected (other
    than ``exclude_class_id``), with their class's instructors and roster loaded, by start."""
    query = (select(ClassSession).join(TrainingClass, TrainingClass.id == ClassSession.class_id)
             .where(ClassSession.starts_at < end, ClassSession.ends_at > start,
                    TrainingClass.status.not_in((ClassStatus.WITHDRAWN, ClassStatus.REJECTED)))
             .options(joinedload(ClassSession.training_class).selectinload(TrainingClass.instructors),
                      joinedload(ClassSession.training_class).selectinload(TrainingClass.enrolments)
                      .joinedload(Enrolment.trainee))
             .order_by(ClassSession.starts_at))
    if exclude_class_id is not None:
        query = query.where(ClassSession.class_id != exclude_class_id)
    return list(session.scalars(query))
