"""Reads of face data and its paperwork: templates, consent state, alternatives, duplicate flags."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.models import AlternativeVerification, DuplicateFaceFlag, FaceTemplate, Trainee, User


def get_face_template(session: Session, trainee_id: uuid.UUID) -> FaceTemplate | None:
    """The trainee's enrolled (sealed) template, if any."""
    return session.scalar(select(FaceTemplate).where(FaceTemplate.trainee_id == trainee_id))


def get_active_alternative(session: Session, trainee_id: uuid.UUID) -> AlternativeVerification | None:
    """The trainee's ID-card verification arrangement in force, if any."""
    return session.scalar(select(AlternativeVerification).where(
        AlternativeVerification.trainee_id == trainee_id, AlternativeVerification.ended_at.is_(None)))


def get_trainee_of_user(session: Session, user_id: uuid.UUID) -> Trainee | None:
    """The trainee record linked to a sign-in account, if any."""
    return session.scalar(select(Trainee).where(Trainee.user_id == user_id))


def list_templates_except(session: Session, trainee_id: uuid.UUID) -> list[FaceTemplate]:
    """Every enrolled template but the given trainee's (the duplicate-face search space)."""
    return list(session.scalars(select(FaceTemplate).where(FaceTemplate.trainee_id != trainee_id)))


def list_template_detectors(session: Session) -> set[str]:
    """The detectors that made the stored templates (``FaceTemplate.detector``)."""
    return set(session.scalars(select(FaceTemplate.detector).distinct()))


def count_templates_by_detector(session: Session) -> dict[str, int]:
    """How many stored templates each detector made."""
    return dict(session.execute(select(FaceTemplate.detector, func.count()).group_by(FaceTemplate.detector)).all())


def get_open_duplicate_flag(session: Session, trainee_id: uuid.UUID,
                            matched_trainee_id: uuid.UUID) -> DuplicateFaceFlag | None:
    """The unresolved flag for this pair of trainees, if any."""
    return session.scalar(select(DuplicateFaceFlag).where(
        DuplicateFaceFlag.trainee_id == trainee_id,
        DuplicateFaceFlag.matched_trainee_id == matched_trainee_id,
        DuplicateFaceFlag.resolved_at.is_(None)))


def list_open_duplicate_flags(session: Session) -> list[tuple[DuplicateFaceFlag, Trainee, Trainee]]:
    """Unresolved duplicate-face flags, newest first, each with the trainee refused and the
    trainee whose enrolled face matched."""
    matched = aliased(Trainee)
    rows = session.execute(
        select(DuplicateFaceFlag, Trainee, matched)
        .join(Trainee, Trainee.id == DuplicateFaceFlag.trainee_id)
        .join(matched, matched.id == DuplicateFaceFlag.matched_trainee_id)
        .where(DuplicateFaceFlag.resolved_at.is_(None))
        .order_by(DuplicateFaceFlag.created_at.desc()))
    return [(flag, trainee, other) for flag, trainee, other in rows]


def candidate_trainees(session: Session, flags) -> dict[str, Trainee]:
    """The trainees named in the flags' candidate lists, by id (as text)."""
    ids = {uuid.UUID(c["trainee_id"]) for flag in flags for c in (flag.candidates or [])}
    if not ids:
        return {}
    return {str(t.id): t for t in session.scalars(select(Trainee).where(Trainee.id.in_(ids)))}


def get_user_name(session: Session, user_id: uuid.UUID | None) -> str:
    """Display name (or user name) of an account, '' for none."""
    if user_id is None:
        return ""
    user = session.get(User, user_id)
    return (user.display_name or user.username) if user else ""
