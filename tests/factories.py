"""Builders of valid records for tests, going through the services like real callers."""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

from app.models import Role, User
from app.services.accounts import create_user
from app.services.catalogue import create_listed_entry, create_programme
from app.services.classes import LOCAL_TZ, ClassApplication, SessionInput, draft_class
from app.services.registry import TraineeInput, register_trainee
from app.services.resident_id import check_digit

PASSWORD = "correct-horse-9"
_serial = itertools.count(1)


def make_user(role: Role | str = Role.TRAINEE, username: str | None = None,
              password: str = PASSWORD, institution=None) -> User:
    """An active account with ``role``; the user name defaults to the role's name."""
    role = Role(role)
    user = create_user(username or role.value, role, password)
    if institution is not None:
        from app.extensions import db
        user.institution_id = institution.id
        db.session.commit()
    return user


def make_instructor(*trainees, username: str = "instructor", institution=None) -> User:
    """An instructor of ``institution`` (default: a new one) that registered ``trainees``, so that
    it may act for them (app/services/policy.py)."""
    from app.extensions import db
    from app.models import Institution
    if institution is None:
        institution = Institution(code=f"I-{next(_serial)}", name="测试技工学校")
        db.session.add(institution)
        db.session.commit()
    for trainee in trainees:
        trainee.registered_by_institution_id = institution.id
    db.session.commit()
    return make_user(Role.INSTRUCTOR, username=username, institution=institution)


def resident_id(born: date = date(1990, 5, 17), region: str = "130102", seq: int | None = None) -> str:
    """A valid resident ID number; each call without ``seq`` gives a new one."""
    first17 = f"{region}{born:%Y%m%d}{(seq if seq is not None else next(_serial)) % 1000:03d}"
    return first17 + check_digit(first17)


def make_trainee(name: str = "赵敏", number: str | None = None, category: str = "高校毕业生",
                 actor: User | None = None):
    return register_trainee(actor, TraineeInput(name, number or resident_id(), "13912345678", category))


def make_catalogue(admin: User):
    """An institution, a listed occupation and a programme (40 h theory + 40 h practice)."""
    institution = create_listed_entry(admin, "institution", f"INST-{next(_serial)}", "测试技工学校")
    occupation = create_listed_entry(admin, "occupation", f"6-31-01-{next(_serial):02d}", "电工")
    programme = create_programme(
        admin, code=f"P-{next(_serial)}", name="电工初级", occupation_id=occupation.id,
        level="level_5", category="employment", theory_hours=40, practice_hours=40,
        delivery_mode="offline", subsidy_amount="1200", subsidy_from=date(2026, 1, 1))
    return institution, occupation, programme


def session_at(day: date, start: int, end: int, kind: str = "theory", place: str = "教室 A") -> SessionInput:
    return SessionInput(datetime.combine(day, time(start), LOCAL_TZ),
                        datetime.combine(day, time(end), LOCAL_TZ), kind, place)


def application(institution, programme, instructors=(), trainees=(), sessions=None,
                code: str | None = None) -> ClassApplication:
    day = date.today() + timedelta(days=7)
    return ClassApplication(
        code=code or f"C-{next(_serial)}", name="电工初级 1 班", institution_id=institution.id,
        programme_id=programme.id,
        sessions=sessions if sessions is not None else [session_at(day, 9, 12),
                                                        session_at(day, 14, 17, "practice")],
        instructor_ids=[u.id for u in instructors], trainee_ids=[t.id for t in trainees],
        teaching_plan="第一周理论，第二周实操", resources="教室 A，实训车间", assessment_plan="笔试 + 实操")


def make_class(admin: User, institution, programme, instructor: User, trainees=()):
    return draft_class(admin, application(institution, programme, [instructor], trainees))


def on_roster_of(admin: User, instructor: User, *trainees):
    """Put ``trainees``, registered by a new institution that ``instructor`` then belongs to, on a
    draft class of it, so the instructor acts for the trainees' own institution."""
    from app.extensions import db

    institution, _occupation, programme = make_catalogue(admin)
    db.session.get(User, instructor.id).institution_id = institution.id
    for trainee in trainees:
        trainee.registered_by_institution_id = institution.id
    db.session.commit()
    return make_class(admin, institution, programme, instructor, list(trainees))


def arrange_confirmed_alternative(actor: User, trainee_id, reason: str = "本人拒绝人脸识别"):
    """An ID-card arrangement made by ``actor`` and confirmed by a (new) reviewer."""
    from app.services.consent import arrange_alternative_verification, confirm_alternative_verification

    arrangement = arrange_alternative_verification(actor, trainee_id, reason)
    return confirm_alternative_verification(make_user(Role.REVIEWER, username=f"reviewer-{next(_serial)}"),
                                            arrangement.id)
