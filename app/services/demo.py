"""Demo data for `make run`: one account per role, two institutions (A and B) each with its own
instructor, kiosk and running class of a few trainees, an occupation on the urgent-shortage list
and a programme with its subsidy standard, so that the boundary between institutions shows: each
instructor sees only their own institution's classes and trainees; and institution A's finished
class with its history and paid claim (`app.services.demo_history`), and institution B's ID-card
check for a trainee whose face cannot be enrolled, waiting for the reviewer. Seeding again changes nothing
(a kiosk's one-time enrolment code is shown only when the kiosk is created)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import local_today
from app.models import (AlternativeVerification, ClassSession, ClassStatus, DeliveryMode, Enrolment, Institution,
                        Kiosk, Occupation, Programme, Role, SessionKind, ShortageListing, SkillLevel,
                        SubsidyStandard, Trainee, TrainingCategory, TrainingClass, User)
from app.extensions import db
from app.services._tx import transaction
from app.services import kiosks
from app.services.accounts import hash_password
from app.services.checkpoints import create_checkpoint
from app.services.classes import LOCAL_TZ
from app.services.consent import arrange_alternative_verification
from app.services.demo_history import seed_finished_class
from app.services.registry import TraineeInput, add_trainee
from app.services.resident_id import check_digit

DEMO_USERS = {
    Role.ADMIN: ("admin", "系统管理员"),
    Role.REVIEWER: ("reviewer", "人社局审核员"),
    Role.INSTRUCTOR: ("instructor", "王老师"),
    Role.AUDITOR: ("auditor", "审计员"),
    Role.TRAINEE: ("trainee", "张伟"),
}
# institution B's own instructor (institution A's is DEMO_USERS' instructor)
DEMO_INSTRUCTOR_B = ("instructor_b", "李老师")
# code, name, class code, class name, kiosk site
DEMO_INSTITUTIONS = [
    ("DEMO-INST", "河北演示职业技术学院", "DEMO-CLASS-1", "电工初级班（演示）", "实训楼 201"),
    ("DEMO-INST-B", "石家庄演示技工学校", "DEMO-CLASS-B", "电工初级班（乙校演示）", "乙校实训楼 101"),
]
# name, first 17 digits of the resident ID, phone, person category
DEMO_TRAINEES = [
    ("张伟", "13010219900101123", "13800000001", "农村转移就业劳动者"),
    ("李娜", "13060219980315204", "13800000002", "高校毕业生"),
    ("王芳", "13110219850720302", "13800000003", "退役军人"),
]
ALTERNATIVE_REASON = "面部烧伤疤痕，人脸特征无法稳定采集（附医院证明）"
DEMO_TRAINEES_B = [
    ("赵强", "13010519920611143", "13800000004", "下岗失业人员"),
    ("孙丽", "13010419951108282", "13800000005", "高校毕业生"),
]


@dataclass(frozen=True)
class DemoSeedResult:
    """What the seed did: whether anything was created, the demo accounts (role, user name,
    institution or ""), and the kiosks created now (institution, site, key, enrolment code)."""

    created: bool
    accounts: list[tuple[str, str, str]]
    kiosks: list[tuple[str, str, str, str]]


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


def _seed_catalogue(session: Session, today: date, created: list) -> tuple[list[Institution], Programme]:
    institutions = []
    for code, name, *_rest in DEMO_INSTITUTIONS:
        institution, new = _get_or_add(session, Institution, {"code": code}, name=name)
        institutions.append(institution)
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
    return institutions, programme


def _seed_class(session: Session, today: date, created: list, institution: Institution, programme: Programme,
                code: str, name: str, instructor: User, trainees) -> list[Trainee]:
    """A running class of ``institution`` with its trainees (registered by it); returns them."""
    klass, new = _get_or_add(
        session, TrainingClass, {"code": code}, name=name,
        institution_id=institution.id, programme_id=programme.id, status=ClassStatus.RUNNING,
        start_date=today, end_date=today + timedelta(days=14),
        teaching_plan="安全用电、电工基础、照明线路安装、实操考核训练",
        resources="实训楼 201 教室；电工实训车间 20 个工位", assessment_plan="理论笔试 + 实操考核",
        sessions=_demo_sessions(today), instructors=[instructor])
    created.append(new)
    enrolled = []
    for name_, id17, phone, category in trainees:
        number = id17 + check_digit(id17)
        trainee = session.scalar(select(Trainee).where(Trainee.id_number == number))
        if trainee is None:
            trainee = add_trainee(session, None, TraineeInput(name_, number, phone, category))
            trainee.registered_by_institution_id = institution.id
            created.append(True)
        _, new = _get_or_add(session, Enrolment, {"class_id": klass.id, "trainee_id": trainee.id})
        created.append(new)
        enrolled.append(trainee)
    return enrolled


def _seed_kiosks(admin: User, institutions: list[Institution]) -> list[tuple[str, str, str, str]]:
    """One kiosk per demo institution at its theory room, unless it has one already."""
    made = []
    for institution, (_code, _name, _class, _class_name, site) in zip(institutions, DEMO_INSTITUTIONS):
        if db.session.scalar(select(Kiosk.id).where(Kiosk.institution_id == institution.id).limit(1)):
            continue
        kiosk, code = kiosks.create_kiosk(admin, f"{institution.name} 签到机", institution.id, site)
        made.append((institution.name, site, kiosk.key, code))
    return made


def seed_demo(password: str, today: date | None = None) -> DemoSeedResult:
    """Create the demo records that do not exist yet; existing ones are left as they are.

    When anything was created, a signed checkpoint of the audit chain is taken.

    Args:
        password: the password given to demo accounts created now.
        today: first day of the demo class (default: today).
    """
    today = today or local_today()
    created = []
    with transaction() as session:
        (school_a, school_b), programme = _seed_catalogue(session, today, created)
        users = {}
        for role, (username, display_name) in DEMO_USERS.items():
            users[role], new = _get_or_add(
                session, User, {"username": username}, role=role, display_name=display_name,
                password_hash=hash_password(password),
                institution_id=school_a.id if role == Role.INSTRUCTOR else None)
            created.append(new)
        instructor_b, new = _get_or_add(
            session, User, {"username": DEMO_INSTRUCTOR_B[0]}, role=Role.INSTRUCTOR,
            display_name=DEMO_INSTRUCTOR_B[1], password_hash=hash_password(password), institution_id=school_b.id)
        created.append(new)
        (_code, _name, code_a, name_a, _site), (_code_b, _name_b, code_b, name_b, _site_b) = DEMO_INSTITUTIONS
        trainees = _seed_class(session, today, created, school_a, programme, code_a, name_a,
                               users[Role.INSTRUCTOR], DEMO_TRAINEES)
        history = (school_a.id, users[Role.INSTRUCTOR].id, users[Role.REVIEWER].id, [t.id for t in trainees])
        if trainees[0].user_id != users[Role.TRAINEE].id:
            # the demo trainee signs in with the demo account, not the one registration opened
            pending = session.get(User, trainees[0].user_id) if trainees[0].user_id else None
            trainees[0].user_id = users[Role.TRAINEE].id
            if pending is not None:
                session.flush()
                session.delete(pending)
        trainees_b = _seed_class(session, today, created, school_b, programme, code_b, name_b, instructor_b,
                                 DEMO_TRAINEES_B)
        pending_review = (instructor_b.id, trainees_b[-1].id)
    made = _seed_kiosks(db.session.get(User, users[Role.ADMIN].id), [school_a, school_b])
    created.append(_seed_pending_alternative(*pending_review))
    created.append(seed_finished_class(*history, today))
    if any(created) or made:  # anchor the seeded chain outside the database at once
        create_checkpoint()
    return DemoSeedResult(created=any(created) or bool(made), accounts=demo_accounts().accounts, kiosks=made)


def _seed_pending_alternative(instructor_id, trainee_id) -> bool:
    """An ID-card check arranged by institution B for a trainee whose face cannot be enrolled,
    waiting in the reviewer's queue for the second person; True when written."""
    if db.session.scalar(select(AlternativeVerification.id).where(AlternativeVerification.trainee_id == trainee_id)):
        return False
    arrange_alternative_verification(db.session.get(User, instructor_id), trainee_id, ALTERNATIVE_REASON)
    return True


def demo_accounts() -> DemoSeedResult:
    """The demo accounts (role, user name, institution), without touching the database."""
    names = {code: name for code, name, *_rest in DEMO_INSTITUTIONS}
    accounts = [(role.value, username, names["DEMO-INST"] if role == Role.INSTRUCTOR else "")
                for role, (username, _) in DEMO_USERS.items()]
    accounts.insert(3, (Role.INSTRUCTOR.value, DEMO_INSTRUCTOR_B[0], names["DEMO-INST-B"]))
    return DemoSeedResult(created=False, accounts=accounts, kiosks=[])
