"""Who may do what to which object: the one access policy.

Services call these predicates (or `require`) before they act and raise `PermissionDeniedError`;
views read the same predicates, and templates read them through the `can` object
(`Can`, given to every template by a context processor in `app/__init__.py`) instead of comparing
role strings. Province-level roles
(admin, reviewer, auditor) reach the whole installation within what their role may do; an
instructor reaches only the objects of their own institution, and a trainee only their own record.

An instructor sees a trainee through an enrolment in a class of their institution, or because
their institution registered the trainee (`Trainee.registered_by_institution_id`, so that a
freshly registered trainee is not lost before the first enrolment). To act for the person, a roster
counts only once the bureau approved the class (a draft of one's own shows the trainee, no more).
Being on a roster of one's own institution gives no power over the trainee's enrolments, sessions
or hours in other institutions' classes: those are acted on only through a class of the actor's
institution. docs/access.md holds the table.
"""
from __future__ import annotations

import uuid

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from app.errors.exceptions import PermissionDeniedError
from app.models import ClassStatus, Enrolment, Role, Trainee, TrainingClass, User

PROVINCE_WIDE = frozenset({Role.ADMIN, Role.REVIEWER, Role.AUDITOR})
STAFF_ACTORS = frozenset({Role.ADMIN, Role.INSTRUCTOR})
#: Classes the bureau approved: their rosters let the institution act for the trainees on them.
APPROVED_STATES = (ClassStatus.APPROVED, ClassStatus.RUNNING, ClassStatus.COMPLETED)
#: The institution an instructor without one "belongs to": matches no row.
NO_INSTITUTION = uuid.UUID(int=0)


def is_province_wide(actor: User) -> bool:
    """Bureau-level accounts, whose reach is the whole installation."""
    return actor.role in PROVINCE_WIDE


def visible_institution(actor: User) -> uuid.UUID | None:
    """The one institution whose objects ``actor`` lists, or None for every institution
    (province-wide roles). Lists and searches filter by it."""
    if is_province_wide(actor):
        return None
    return actor.institution_id or NO_INSTITUTION


# -- institutions, classes and what hangs off them (sessions, attendance, enrolments, claims) ----

def can_read_institution(actor: User, institution_id) -> bool:
    """Province-wide roles, or an instructor of the institution."""
    return is_province_wide(actor) or (
        actor.role == Role.INSTRUCTOR and actor.institution_id is not None
        and actor.institution_id == institution_id)


def can_act_for(actor: User, institution_id) -> bool:
    """Admins, or instructors of the institution: may change what belongs to it."""
    return actor.role == Role.ADMIN or (
        actor.role == Role.INSTRUCTOR and actor.institution_id is not None
        and actor.institution_id == institution_id)


def can_read_class(actor: User, klass: TrainingClass) -> bool:
    """The class, its sessions, attendance grid, session logs and ledger."""
    return can_read_institution(actor, klass.institution_id)


def can_manage_class(actor: User, klass: TrainingClass) -> bool:
    """Draft, submit, roster, unlock, reverse and ID-card checks within the class."""
    return can_act_for(actor, klass.institution_id)


def is_class_instructor(actor: User, klass: TrainingClass) -> bool:
    """An administrator, or an instructor of the class's institution named on the class:
    assesses, issues completion certificates, completes the class, prepares its claim."""
    return actor.role == Role.ADMIN or (
        can_manage_class(actor, klass) and any(u.id == actor.id for u in klass.instructors))


def can_view_held_evidence(actor: User, klass: TrainingClass) -> bool:
    """The sealed face frames kept as the evidence of a class's held hours: biometric data, so
    only the instructors named on the class (who decide the held hours), not administrators."""
    return actor.role == Role.INSTRUCTOR and is_class_instructor(actor, klass)


def can_manage_enrolment(actor: User, enrolment: Enrolment) -> bool:
    """Exemptions, assessments, certificates of one enrolment: through its own class only."""
    return can_manage_class(actor, enrolment.training_class)


def can_assess(actor: User, enrolment: Enrolment) -> bool:
    """Record or correct an assessment result, issue the completion certificate."""
    return is_class_instructor(actor, enrolment.training_class)


def can_grant_exemption(actor: User, enrolment: Enrolment) -> bool:
    """Propose an exemption (免修) on an enrolment: its own class's institution only."""
    return can_manage_enrolment(actor, enrolment)


def can_reverse_hours(actor: User, enrolment: Enrolment) -> bool:
    """Reverse a ledger entry of an enrolment: its own class's institution only."""
    return can_manage_enrolment(actor, enrolment)


def can_prepare_claim(actor: User, klass: TrainingClass) -> bool:
    """Prepare a class's subsidy claim: an administrator or the class's own instructors."""
    return is_class_instructor(actor, klass)


def can_read_claim(actor: User, klass: TrainingClass) -> bool:
    """A class's subsidy claims, their lines and exports: province-wide roles and the class's
    own instructors."""
    return is_province_wide(actor) or is_class_instructor(actor, klass)


def can_manage_kiosk(actor: User, institution_id) -> bool:
    """Register a kiosk of the institution."""
    return can_act_for(actor, institution_id)


# -- trainees -----------------------------------------------------------------------------------

def trainee_visible_to(session: Session, institution_id, trainee_id, acting: bool = False) -> bool:
    """The institution registered the trainee, or has them on a class roster. To act on the
    person (``acting``), a roster counts only once the bureau approved the class: listing someone
    on a draft of one's own lets the institution see them, not change their record or face data."""
    if institution_id is None:
        return False
    on_roster = exists().where(Enrolment.trainee_id == trainee_id, Enrolment.class_id == TrainingClass.id,
                               TrainingClass.institution_id == institution_id)
    if acting:
        on_roster = on_roster.where(TrainingClass.status.in_(APPROVED_STATES))
    return session.scalar(select(Trainee.id).where(
        Trainee.id == trainee_id,
        or_(Trainee.registered_by_institution_id == institution_id, on_roster))) is not None


def is_trainee(actor: User) -> bool:
    return actor.role == Role.TRAINEE


def is_own_record(actor: User, trainee: Trainee) -> bool:
    return is_trainee(actor) and trainee.user_id is not None and trainee.user_id == actor.id


def can_read_trainee(session: Session, actor: User, trainee: Trainee) -> bool:
    """Province-wide roles, the trainee themself, or an instructor who sees the trainee."""
    if is_province_wide(actor) or is_own_record(actor, trainee):
        return True
    return actor.role == Role.INSTRUCTOR and trainee_visible_to(session, actor.institution_id, trainee.id)


def can_act_for_trainee(session: Session, actor: User, trainee_id) -> bool:
    """Admins, or instructors of the institution that registered the trainee or has them on an
    approved class: correct the record, record certificates, record paper consent, enrol a face,
    arrange the ID-card alternative, unlock self check-in."""
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.INSTRUCTOR and trainee_visible_to(session, actor.institution_id, trainee_id,
                                                                 acting=True)


def can_manage_biometrics(session: Session, actor: User, trainee: Trainee) -> bool:
    """Consent, face enrolment and the ID-card alternative: the trainee themself, or staff who
    may act for the trainee."""
    return is_own_record(actor, trainee) or can_act_for_trainee(session, actor, trainee.id)


def can_see_full_id(actor: User) -> bool:
    """Only administrators see full ID numbers; everyone else sees them masked."""
    return actor.role == Role.ADMIN


# -- roles without an object ----------------------------------------------------------------------

def is_staff_actor(actor: User) -> bool:
    """Administrators and instructors: the roles that act on institutions' objects at all."""
    return actor.role in STAFF_ACTORS


def is_reviewer(actor: User) -> bool:
    return actor.role == Role.REVIEWER


def can_register_trainees(actor: User) -> bool:
    return actor.role in STAFF_ACTORS


def can_draft_classes(actor: User) -> bool:
    return actor.role in STAFF_ACTORS


def can_review_class(actor: User, klass: TrainingClass) -> bool:
    """Reviewers of the bureau, never for their own institution."""
    return actor.role == Role.REVIEWER and not (
        actor.institution_id is not None and actor.institution_id == klass.institution_id)


def can_manage_catalogues(actor: User) -> bool:
    return actor.role == Role.ADMIN


def can_read_audit(actor: User) -> bool:
    return actor.role in (Role.ADMIN, Role.AUDITOR)


def can_resolve_duplicate_faces(actor: User) -> bool:
    """Read and resolve the duplicate-face review list: the bureau's reviewers and administrators
    (province-wide: a list names trainees of several institutions, so not an institution's staff)."""
    return actor.role in (Role.ADMIN, Role.REVIEWER)


def can_manage_accounts(actor: User) -> bool:
    return actor.role == Role.ADMIN


def require(allowed: bool, message: str | None = None) -> None:
    """Raise `PermissionDeniedError` unless ``allowed``."""
    if not allowed:
        raise PermissionDeniedError(message or _("You may not do this."))


def can_confirm_as_second_person(actor: User, initiator_id) -> bool:
    """A reviewer other than the person who started the act: confirms exemptions (R10) and
    ID-card alternative arrangements before they count."""
    return actor.role == Role.REVIEWER and actor.id != initiator_id
class Can:
    """The policy bound to one actor, for templates: ``{% if can.manage_class(klass) %}``."""

    def __init__(self, session: Session, actor: User | None):
        self._session, self._actor = session, actor

    def _ask(self, predicate, *args) -> bool:
        return self._actor is not None and predicate(self._actor, *args)

    def manage_class(self, klass) -> bool:
        return self._ask(can_manage_class, klass)

    def instruct_class(self, klass) -> bool:
        return self._ask(is_class_instructor, klass)

    def read_claim(self, klass) -> bool:
        return self._ask(can_read_claim, klass)

    def review_class(self, klass) -> bool:
        return self._ask(can_review_class, klass)

    def manage_trainee(self, trainee) -> bool:
        return self._actor is not None and can_act_for_trainee(self._session, self._actor, trainee.id)

    @property
    def see_full_id(self) -> bool:
        return self._ask(can_see_full_id)

    @property
    def register_trainees(self) -> bool:
        return self._ask(can_register_trainees)

    @property
    def draft_classes(self) -> bool:
        return self._ask(can_draft_classes)

    @property
    def manage_catalogues(self) -> bool:
        return self._ask(can_manage_catalogues)

    @property
    def read_audit(self) -> bool:
        return self._ask(can_read_audit)
