"""Who may do what to which object: the one access policy.

Services call these predicates (or `require`) before they act and raise `PermissionDeniedError`;
views and templates read the same predicates instead of comparing role strings. Province-level
roles (admin, reviewer, auditor) reach the whole installation; an instructor reaches only the
objects of their own institution, and a trainee only their own record.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors.exceptions import PermissionDeniedError
from app.models import Enrolment, Role, TrainingClass, User

PROVINCE_WIDE = frozenset({Role.ADMIN, Role.REVIEWER, Role.AUDITOR})


def is_province_wide(actor: User) -> bool:
    """Bureau-level accounts, whose reach is the whole installation."""
    return actor.role in PROVINCE_WIDE


def can_act_for(actor: User, institution_id) -> bool:
    """Admins, or instructors of the institution: may change what belongs to it."""
    return actor.role == Role.ADMIN or (
        actor.role == Role.INSTRUCTOR and actor.institution_id == institution_id)


def can_act_for_trainee(session: Session, actor: User, trainee_id) -> bool:
    """Admins, or instructors of an institution that has the trainee on a class roster."""
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.INSTRUCTOR and session.scalar(
        select(Enrolment.id).join(TrainingClass, Enrolment.class_id == TrainingClass.id)
        .where(Enrolment.trainee_id == trainee_id, TrainingClass.institution_id == actor.institution_id)
        .limit(1)) is not None


def require(allowed: bool, message: str | None = None) -> None:
    """Raise `PermissionDeniedError` unless ``allowed``."""
    if not allowed:
        raise PermissionDeniedError(message or _("You may not do this."))


def can_confirm_as_second_person(actor: User, initiator_id) -> bool:
    """A reviewer other than the person who started the act: confirms exemptions (R10) and
    ID-card alternative arrangements before they count."""
    return actor.role == Role.REVIEWER and actor.id != initiator_id
