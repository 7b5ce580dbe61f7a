"""Demo data for `make run`: one account per role, an institution, a programme and a running
class with a few trainees. Seeding again changes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (ClassStatus, Enrolment, Institution, Programme, Role, Trainee,
                        TrainingCategory, TrainingClass, User)
from app.services._tx import transaction
from app.services.accounts import hash_password
from app.services.resident_id import check_digit

DEMO_USERS = {
    Role.ADMIN: ("admin", "系统管理员"),
    Role.REVIEWER: ("reviewer", "人社局审核员"),
    Role.INSTRUCTOR: ("instructor", "王老师"),
    Role.AUDITOR: ("auditor", "审计员"),
    Role.TRAINEE: ("trainee", "张伟"),
}
# name, first 17 digits of the resident ID, phone, person category
DEMO_TRAINEES = [
    ("张伟", "13010219900101123", "13800000001", "农村转移就业劳动者"),
    ("李娜", "13060219980315204", "13800000002", "高校毕业生"),
    ("王芳", "13110219850720302", "13800000003", "退役军人"),
]


@dataclass(frozen=True)
class DemoSeedResult:
    """What the seed did: whether anything was created, and the demo user names by role."""

    created: bool
    usernames: dict[str, str]


def _get_or_add(session: Session, model, lookup: dict, **values):
    found = session.scalar(select(model).filter_by(**lookup))
    if found is not None:
        return found, False
    obj = model(**lookup, **values)
    session.add(obj)
    session.flush()
    return obj, True


def seed_demo(password: str, today: date | None = None) -> DemoSeedResult:
    """Create the demo records that do not exist yet; existing ones are left as they are.

    Args:
        password: the password given to demo accounts created now.
        today: first day of the demo class (default: today).
    """
    today = today or date.today()
    created = []
    with transaction() as session:
        institution, new = _get_or_add(session, Institution, {"code": "DEMO-INST"},
                                       name="河北演示职业技术学院")
        created.append(new)
        programme, new = _get_or_add(
            session, Programme, {"code": "DEMO-ELEC-5"}, name="电工（五级/初级工）",
            category=TrainingCategory.EMPLOYMENT, theory_hours=40, practice_hours=40)
        created.append(new)
        klass, new = _get_or_add(
            session, TrainingClass, {"code": "DEMO-CLASS-1"}, name="电工初级班（演示）",
            institution_id=institution.id, programme_id=programme.id, status=ClassStatus.RUNNING,
            start_date=today, end_date=today + timedelta(days=60))
        created.append(new)
        users = {}
        for role, (username, display_name) in DEMO_USERS.items():
            user, new = _get_or_add(
                session, User, {"username": username}, role=role, display_name=display_name,
                password_hash=hash_password(password),
                institution_id=institution.id if role == Role.INSTRUCTOR else None)
            users[role] = user
            created.append(new)
        for index, (name, id17, phone, category) in enumerate(DEMO_TRAINEES):
            trainee, new = _get_or_add(
                session, Trainee, {"id_number": id17 + check_digit(id17)}, name=name, phone=phone,
                category=category, user_id=users[Role.TRAINEE].id if index == 0 else None)
            created.append(new)
            _, new = _get_or_add(session, Enrolment, {"class_id": klass.id, "trainee_id": trainee.id})
            created.append(new)
    return DemoSeedResult(created=any(created), usernames=demo_usernames().usernames)


def demo_usernames() -> DemoSeedResult:
    """The demo user names by role, without touching the database."""
    return DemoSeedResult(created=False,
                          usernames={role.value: name for role, (name, _) in DEMO_USERS.items()})
