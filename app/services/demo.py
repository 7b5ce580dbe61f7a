"""Demo data for `make run`: one account per role, an institution, an occupation on the
urgent-shortage list, a programme with its subsidy standard, and a running class with sessions,
an instructor and a few trainees. Seeding again changes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import local_today
from app.models import (ClassSession, ClassStatus, DeliveryMode, Enrolment, Institution,
                        Occupation, Programme, Role, SessionKind, ShortageListing, SkillLevel,
                        SubsidyStandard, Trainee, TrainingCategory, TrainingClass, User)
from app.services._tx import transaction
from app.services.accounts import hash_password
from app.services.classes import LOCAL_TZ
from app.services.registry import TraineeInput, add_trainee
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


def _demo_sessions(first_day: date, days: int = 10) -> list[ClassSession]:
    """Theory 09:00–12:00 and practice 14:00–17:00 (Beijing time) on ``days`` weekdays."""
    sessions, day = [], first_day
    while len(sessions) < 2 * days:
        if day.weekday() < 5:
            for start, end, kind in ((9, 12, SessionKind.THEORY), (14, 17, SessionKind.PRACTICE)):
                sessions.append(ClassSession(
                    starts_at=datetime.combine(day, time(start), LOCAL_TZ),
                    ends_at=datetime.combine(day, time(end), LOCAL_TZ), kind=kind,
                    place="实训楼 201" if kind == SessionKind.THEORY else "电工实训车间"))
        day += timedelta(days=1)
    return sessions


def _seed_catalogue(session: Session, today: date, created: list) -> tuple[Institution, Programme]:
    institution, new = _get_or_add(session, Institution, {"code": "DEMO-INST"},
                                   name="河北演示职业技术学院")
    created.append(new)
    occupation, new = _get_or_add(session, Occupation, {"code": "6-31-01-03"}, name="电工")
    created.append(new)
    if new:
        session.add(ShortageListing(occupation_id=occupation.id, effective_from=date(today.year, 1, 1),
                                    note="演示：急需紧缺工种"))
    programme, new = _get_or_add(
        session, Programme, {"code": "DEMO-ELEC-5"}, name="电工（五级/初级工）",
        occupation_id=occupation.id, level=SkillLevel.LEVEL_5, category=TrainingCategory.EMPLOYMENT,
        theory_hours=40, practice_hours=40, delivery_mode=DeliveryMode.OFFLINE)
    created.append(new)
    if new:
        session.add(SubsidyStandard(programme_id=programme.id, amount=Decimal("1200.00"),
                                    effective_from=date(today.year, 1, 1)))
    return institution, programme


def seed_demo(password: str, today: date | None = None) -> DemoSeedResult:
    """Create the demo records that do not exist yet; existing ones are left as they are.

    Args:
        password: the password given to demo accounts created now.
        today: first day of the demo class (default: today).
    """
    today = today or local_today()
    created = []
    with transaction() as session:
        institution, programme = _seed_catalogue(session, today, created)
        users = {}
        for role, (username, display_name) in DEMO_USERS.items():
            users[role], new = _get_or_add(
                session, User, {"username": username}, role=role, display_name=display_name,
                password_hash=hash_password(password),
                institution_id=institution.id if role == Role.INSTRUCTOR else None)
            created.append(new)
        klass, new = _get_or_add(
            session, TrainingClass, {"code": "DEMO-CLASS-1"}, name="电工初级班（演示）",
            institution_id=institution.id, programme_id=programme.id, status=ClassStatus.RUNNING,
            start_date=today, end_date=today + timedelta(days=14),
            teaching_plan="安全用电、电工基础、照明线路安装、实操考核训练",
            resources="实训楼 201 教室；电工实训车间 20 个工位", assessment_plan="理论笔试 + 实操考核",
            sessions=_demo_sessions(today), instructors=[users[Role.INSTRUCTOR]])
        created.append(new)
        for index, (name, id17, phone, category) in enumerate(DEMO_TRAINEES):
            number = id17 + check_digit(id17)
            trainee = session.scalar(select(Trainee).where(Trainee.id_number == number))
            if trainee is None:
                trainee = add_trainee(session, None, TraineeInput(name, number, phone, category))
                created.append(True)
            if index == 0 and trainee.user_id != users[Role.TRAINEE].id:
                # the demo trainee signs in with the demo account, not the one registration opened
                pending = session.get(User, trainee.user_id) if trainee.user_id else None
                trainee.user_id = users[Role.TRAINEE].id
                if pending is not None:
                    session.flush()
                    session.delete(pending)
            _, new = _get_or_add(session, Enrolment, {"class_id": klass.id, "trainee_id": trainee.id})
            created.append(new)
    return DemoSeedResult(created=any(created), usernames=demo_usernames().usernames)


def demo_usernames() -> DemoSeedResult:
    """The demo user names by role, without touching the database."""
    return DemoSeedResult(created=False,
                          usernames={role.value: name for role, (name, _) in DEMO_USERS.items()})
