"""Class opening (R7): an institution drafts an application (roster, teaching plan, sessions,
instructors, resources, assessment plan) and submits it; a reviewer of the bureau, never one of
the institution's own, approves or rejects it; an approved class starts running at its first
session. Only a running class accepts check-ins. Every step is audited.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import LOCAL_TZ, local_now
from app.errors.exceptions import (ConflictError, NotFoundError, PermissionDeniedError,
                                   ValidationError)
from app.models import (ClassSession, ClassStatus, Enrolment, Exemption, Institution, Programme, Role,
                        SessionKind, Trainee, TrainingClass, User)
from app.models.base import utcnow
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services import policy
from app.services.catalogue import CLOSED_REASONS, closed_for_new_classes
from app.services.hour_rules import rules_for
from app.services.policy import can_act_for

MAX_SESSION = timedelta(hours=12)
#: The parts a submitted application must carry, in words.
APPLICATION_PARTS = {"sessions": _l("Sessions"), "instructors": _l("Instructors"), "roster": _l("Roster"),
                     "teaching_plan": _l("Teaching plan"), "assessment_plan": _l("Assessment plan")}


@dataclass(frozen=True)
class SessionInput:
    """One planned session; times are timezone-aware."""

    starts_at: datetime
    ends_at: datetime
    kind: str
    place: str = ""
    online: bool = False


@dataclass
class ClassApplication:
    """Everything a class-opening application (开班申请) carries."""

    code: str
    name: str
    institution_id: uuid.UUID
    programme_id: uuid.UUID
    sessions: list[SessionInput]
    instructor_ids: list[uuid.UUID] = field(default_factory=list)
    trainee_ids: list[uuid.UUID] = field(default_factory=list)
    teaching_plan: str = ""
    resources: str = ""
    assessment_plan: str = ""


def session_problems(sessions: list[SessionInput]) -> list[str]:
    """What is wrong with a list of sessions: bad times, unknown kinds, missing places, overlaps."""
    problems = []
    for n, s in enumerate(sessions, 1):
        if s.starts_at.tzinfo is None or s.ends_at.tzinfo is None:
            problems.append(_("Session %(n)s: times need a time zone.", n=n))
            continue
        if s.ends_at <= s.starts_at:
            problems.append(_("Session %(n)s ends before it starts.", n=n))
        elif s.ends_at - s.starts_at > MAX_SESSION:
            problems.append(_("Session %(n)s is longer than 12 hours.", n=n))
        if s.kind not in {k.value for k in SessionKind}:
            problems.append(_("Session %(n)s: choose theory or practice.", n=n))
        if not s.online and not s.place.strip():
            problems.append(_("Session %(n)s: give the place, or mark it online.", n=n))
    timed = sorted((s.starts_at, s.ends_at, n) for n, s in enumerate(sessions, 1)
                   if s.starts_at.tzinfo and s.ends_at.tzinfo)
    for (_s1, end1, n1), (start2, _e2, n2) in zip(timed, timed[1:]):
        if start2 < end1:
            problems.append(_("Sessions %(a)s and %(b)s overlap.", a=n1, b=n2))
    return problems


def past_problems(sessions: list[SessionInput], now: datetime) -> list[str]:
    """A message for each session that starts before ``now`` (shown in Beijing time)."""
    return [_("Session %(n)s (%(when)s) is in the past: it is %(now)s in Beijing now.", n=n,
              when=f"{s.starts_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}", now=f"{local_now(now):%Y-%m-%d %H:%M}")
            for n, s in enumerate(sessions, 1) if s.starts_at.tzinfo and s.starts_at < now]


def _check_application(session: Session, actor: User, app_: ClassApplication, now: datetime) -> dict:
    errors = {}
    if not app_.code.strip():
        errors["code"] = _("Required.")
    if not app_.name.strip():
        errors["name"] = _("Required.")
    institution = session.get(Institution, app_.institution_id)
    if institution is not None and institution.is_listed and not can_act_for(actor, institution.id):
        raise PermissionDeniedError(_("Only the institution's own staff may apply for its classes."))
    programme = session.get(Programme, app_.programme_id)
    if closed := closed_for_new_classes(institution, programme):
        errors["institution_id" if closed == "institution_revoked" else "programme_id"] = str(CLOSED_REASONS[closed])
    if not app_.sessions:
        errors["sessions"] = _("Plan at least one session.")
    elif problems := session_problems(app_.sessions) + past_problems(app_.sessions, now):
        errors["sessions"] = " ".join(problems)
    found = set(session.scalars(select(User.id).where(
        User.id.in_(app_.instructor_ids), User.role == Role.INSTRUCTOR)))
    if missing := set(app_.instructor_ids) - found:
        errors["instructor_ids"] = _("%(n)s of the instructors are not instructor accounts.", n=len(missing))
    trainees = set(session.scalars(select(Trainee.id).where(Trainee.id.in_(app_.trainee_ids))))
    if len(trainees) != len(app_.trainee_ids):
        errors["trainee_ids"] = _("The roster names unknown or repeated trainees.")
    return errors


def draft_class(actor: User, application: ClassApplication, now: datetime | None = None) -> TrainingClass:
    """Create a class in draft from an application; its sessions start after ``now`` (default:
    the server's clock).

    Raises:
        PermissionDeniedError: the actor is not staff of the institution (or an admin).
        ValidationError: a field is wrong — revoked programme, overlapping or past sessions,
            unknown trainees … (``errors`` names each one).
        ConflictError: the class code is taken.
    """
    with transaction() as session:
        if errors := _check_application(session, actor, application, now or utcnow()):
            raise ValidationError.of_fields(errors)
        if session.scalar(select(TrainingClass.id).where(TrainingClass.code == application.code.strip())):
            raise ConflictError(_("The class code %(code)s is taken.", code=application.code),
                                code="duplicate_code", errors={"code": "duplicate"})
        first = min(s.starts_at for s in application.sessions)
        last = max(s.ends_at for s in application.sessions)
        klass = TrainingClass(
            code=application.code.strip(), name=application.name.strip(),
            institution_id=application.institution_id, programme_id=application.programme_id,
            start_date=first.astimezone(LOCAL_TZ).date(), end_date=last.astimezone(LOCAL_TZ).date(),
            teaching_plan=application.teaching_plan.strip(), resources=application.resources.strip(),
            assessment_plan=application.assessment_plan.strip(), drafted_by_id=actor.id,
            sessions=[ClassSession(starts_at=s.starts_at, ends_at=s.ends_at, kind=SessionKind(s.kind),
                                   place=s.place.strip(), online=s.online)
                      for s in application.sessions],
            instructors=list(session.scalars(select(User).where(User.id.in_(application.instructor_ids)))),
        )
        session.add(klass)
        session.flush()
        for trainee_id in application.trainee_ids:
            session.add(Enrolment(class_id=klass.id, trainee_id=trainee_id))
        append_audit(session, actor, "class.drafted", klass, {
            "code": klass.code, "programme_id": str(klass.programme_id),
            "sessions": len(application.sessions), "roster": len(application.trainee_ids),
            "instructors": [str(i) for i in application.instructor_ids]})
    return klass


def get_class_or_404(session: Session, class_id, actor: User | None = None,
                     permission=policy.can_read_class) -> TrainingClass:
    """The class with this id, when ``actor`` (if given) has ``permission`` on it (a policy
    predicate ``(actor, klass)``; reading by default).

    :raise 404 (NotFoundError): unknown or malformed id.
    :raise 403 (PermissionDeniedError): the class belongs to another institution.
    """
    try:
        klass = session.get(TrainingClass, uuid.UUID(str(class_id)))
    except ValueError:
        klass = None
    if klass is None:
        raise NotFoundError(_("No such class."))
    if actor is not None:
        policy.require(permission(actor, klass), _("This class belongs to another institution."))
    return klass


def get_enrolment_or_404(session: Session, enrolment_id, actor: User | None = None,
                         permission=policy.can_manage_enrolment) -> Enrolment:
    """The enrolment with this id, when ``actor`` (if given) has ``permission`` on it (acting
    on it through its own class by default).

    :raise 404 (NotFoundError): unknown id.
    :raise 403 (PermissionDeniedError): the enrolment is in another institution's class.
    """
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFoundError(_("No such enrolment."))
    if actor is not None:
        policy.require(permission(actor, enrolment), _("This enrolment belongs to another institution's class."))
    return enrolment


def get_open_application(session: Session, actor: User, class_id) -> TrainingClass:
    """A class whose application its institution may still change (draft or rejected).

    Raises:
        NotFoundError: no such class. PermissionDeniedError: not the institution's staff.
        ConflictError (``wrong_state``): the application was submitted, approved or is running.
    """
    klass = get_class_or_404(session, class_id)
    if not can_act_for(actor, klass.institution_id):
        raise PermissionDeniedError(_("Only the institution's own staff may change its applications."))
    if klass.status not in (ClassStatus.DRAFT, ClassStatus.REJECTED):
        raise ConflictError(_("Only a draft or a rejected application can be changed or submitted."),
                            code="wrong_state")
    return klass


def revise_class(actor: User, class_id, application: ClassApplication,
                 now: datetime | None = None) -> TrainingClass:
    """Change a draft or a rejected application: name, programme, sessions, instructors, roster
    and plans (the code and the institution stay). A rejected one keeps its review comment beside
    it until it is submitted again.

    Raises:
        PermissionDeniedError, ConflictError: see `get_open_application`.
        ValidationError: a field is wrong (a session before ``now`` among them), or a trainee with
            an exemption is taken off the roster.
    """
    with transaction() as session:
        klass = get_open_application(session, actor, class_id)
        application.code, application.institution_id = klass.code, klass.institution_id
        errors = _check_application(session, actor, application, now or utcnow())
        enrolments = {e.trainee_id: e for e in klass.enrolments}
        dropped = [e for tid, e in enrolments.items() if tid not in set(application.trainee_ids)]
        if any(session.scalar(select(Exemption.id).where(Exemption.enrolment_id == e.id)) for e in dropped):
            errors["trainee_ids"] = _("A trainee with an exemption cannot be taken off the roster.")
        if errors:
            raise ValidationError("; ".join(errors.values()), errors=errors)
        before = {"name": klass.name, "programme_id": str(klass.programme_id), "sessions": len(klass.sessions),
                  "roster": len(enrolments), "instructors": sorted(str(u.id) for u in klass.instructors)}
        klass.name, klass.programme_id = application.name.strip(), application.programme_id
        klass.start_date = min(s.starts_at for s in application.sessions).astimezone(LOCAL_TZ).date()
        klass.end_date = max(s.ends_at for s in application.sessions).astimezone(LOCAL_TZ).date()
        klass.teaching_plan, klass.resources = application.teaching_plan.strip(), application.resources.strip()
        klass.assessment_plan = application.assessment_plan.strip()
        klass.sessions = [ClassSession(starts_at=s.starts_at, ends_at=s.ends_at, kind=SessionKind(s.kind),
                                       place=s.place.strip(), online=s.online) for s in application.sessions]
        klass.instructors = list(session.scalars(select(User).where(User.id.in_(application.instructor_ids))))
        for enrolment in dropped:
            session.delete(enrolment)
        for trainee_id in application.trainee_ids:
            if trainee_id not in enrolments:
                session.add(Enrolment(class_id=klass.id, trainee_id=trainee_id))
        session.flush()
        after = {"name": klass.name, "programme_id": str(klass.programme_id), "sessions": len(klass.sessions),
                 "roster": len(application.trainee_ids), "instructors": sorted(str(u.id) for u in klass.instructors)}
        append_audit(session, actor, "class.revised", klass, {
            "status": klass.status.value, **{k: [before[k], after[k]] for k in after if before[k] != after[k]}})
    return klass


def withdraw_class(actor: User, class_id, reason: str) -> TrainingClass:
    """The institution withdraws an application not yet approved (draft, submitted or rejected).

    Raises:
        PermissionDeniedError: not the institution's staff. ConflictError: approved or later.
        ValidationError: no reason.
    """
    reason = (reason or "").strip()
    with transaction() as session:
        klass = get_class_or_404(session, class_id, actor, policy.can_manage_class)
        if not reason:
            raise ValidationError(_("Say why the application is withdrawn."), errors={"reason": _("Required.")})
        if klass.status not in (ClassStatus.DRAFT, ClassStatus.SUBMITTED, ClassStatus.REJECTED):
            raise ConflictError(_("Only an application not yet approved can be withdrawn."), code="wrong_state")
        previous, klass.status = klass.status, ClassStatus.WITHDRAWN
        append_audit(session, actor, "class.withdrawn", klass, {"from": previous.value, "reason": reason})
    return klass


def _require_open(klass: TrainingClass) -> None:
    """R8 at submission and approval: the same check as at drafting (institution, programme and
    its occupation listed), since any of them may have been revoked since."""
    if closed := closed_for_new_classes(klass.institution, klass.programme):
        raise ValidationError(str(CLOSED_REASONS[closed]), code=closed, errors={
            "institution_id" if closed == "institution_revoked" else "programme_id": "revoked"})


def submit_class(actor: User, class_id) -> TrainingClass:
    """Submit a draft (or a rejected application, revised) for review.

    Raises:
        PermissionDeniedError: not the institution's staff. ConflictError: wrong state.
        ValidationError: the application is incomplete, or its institution, programme or
            occupation was revoked (`catalogue.is_open_for_new_classes`).
    """
    with transaction() as session:
        klass = get_open_application(session, actor, class_id)
        missing = [field_ for field_, ok in (
            ("sessions", klass.sessions), ("instructors", klass.instructors),
            ("roster", klass.enrolments), ("teaching_plan", klass.teaching_plan),
            ("assessment_plan", klass.assessment_plan)) if not ok]
        if missing:
            raise ValidationError(_("The application is incomplete: %(missing)s.",
                                    missing="、".join(str(APPLICATION_PARTS[m]) for m in missing)),
                                  errors={m: _("Required.") for m in missing})
        _require_open(klass)
        klass.status, klass.submitted_at = ClassStatus.SUBMITTED, utcnow()
        append_audit(session, actor, "class.submitted", klass, {"code": klass.code})
    return klass


def review_class(actor: User, class_id, approve: bool, comment: str) -> TrainingClass:
    """Approve or reject a submitted application.

    Raises:
        PermissionDeniedError: not a reviewer, or a reviewer of the class's own institution.
        ConflictError: the application is not waiting for review.
        ValidationError: a rejection without a comment, or approving when the institution,
            programme or occupation was revoked.
    """
    if not policy.is_reviewer(actor):
        raise PermissionDeniedError(_("Only reviewers of the bureau review applications."))
    comment = (comment or "").strip()
    with transaction() as session:
        klass = get_class_or_404(session, class_id)
        if not policy.can_review_class(actor, klass):
            raise PermissionDeniedError(_("You may not review an application of your own institution."))
        if klass.status != ClassStatus.SUBMITTED:
            raise ConflictError(_("This application is not waiting for review."), code="wrong_state")
        if not approve and not comment:
            raise ValidationError(_("Say why the application is rejected."),
                                  errors={"comment": _("Required.")})
        if approve:
            _require_open(klass)
        klass.status = ClassStatus.APPROVED if approve else ClassStatus.REJECTED
        klass.reviewed_by_id, klass.reviewed_at, klass.review_comment = actor.id, utcnow(), comment
        append_audit(session, actor, "class.approved" if approve else "class.rejected", klass,
                     {"comment": comment})
    return klass


# the largest check-in tolerance a programme may set (hour_rules.set_hour_rule allows 0–120 minutes)
_MAX_TOLERANCE = timedelta(minutes=120)


def opens_at(session: Session, klass: TrainingClass) -> datetime | None:
    """When the class opens for check-in: its first session's start less the programme's
    tolerance (None when it has no sessions)."""
    first = min((s.starts_at for s in klass.sessions), default=None)
    return first and first - timedelta(
        minutes=rules_for(session, klass.programme_id, first.astimezone(LOCAL_TZ).date()).tolerance)


def start_class(session: Session, klass: TrainingClass, now: datetime) -> None:
    """Approved → running, audited as done by the system, in the caller's transaction."""
    klass.status = ClassStatus.RUNNING
    append_audit(session, None, "class.started", klass, {"at": now.isoformat()})


def start_due_classes(now: datetime | None = None) -> list[TrainingClass]:
    """Move approved classes to running once their check-in window opens, at the first
    session's start less the tolerance (a scheduler job)."""
    now = now or utcnow()
    started = []
    with transaction() as session:
        near = (select(ClassSession.class_id).where(ClassSession.starts_at <= now + _MAX_TOLERANCE)
                .group_by(ClassSession.class_id))
        for klass in session.scalars(select(TrainingClass).where(
                TrainingClass.status == ClassStatus.APPROVED, TrainingClass.id.in_(near))):
            if opens_at(session, klass) <= now:
                start_class(session, klass, now)
                started.append(klass)
    return started


def accepts_check_ins(klass: TrainingClass) -> bool:
    """Only a running class accepts check-ins (R7)."""
    return klass.status == ClassStatus.RUNNING
