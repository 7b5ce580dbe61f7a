"""Builders for assessment and subsidy tests: a small programme (2 h theory + 1 h practice),
a running class on a chosen Beijing day, an evaluation organisation, and attendance written
as accepted face verifications → a closed interval → a ledger credit, with their statements."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app.extensions import db
from app.models import (ClassSession, Decision, Enrolment, FaceVerification, IntervalStatus,
                        PresenceInterval, Purpose, Role, TrainingClass, User, VerificationMode)
from app.services import hours, subsidy, xapi_records
from app.services._tx import transaction
from app.services.catalogue import create_listed_entry, create_programme
from app.services.classes import LOCAL_TZ
from app.services.completion import AssessmentInput, record_assessment
from tests.attendance_helpers import running_class
from tests.factories import make_trainee, make_user

_n = itertools.count(1)


@dataclass
class World:
    admin: User
    instructor: User
    institution: object
    occupation: object
    programme: object
    organisation: object


def make_world(amount: str = "1200", subsidy_from: date = date(2026, 1, 1)) -> World:
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    n = next(_n)
    institution = create_listed_entry(admin, "institution", f"S{n}", "测试技师学院")
    occupation = create_listed_entry(admin, "occupation", f"6-29-02-{n:02d}", "焊工")
    programme = create_programme(
        admin, code=f"WELD-{n}", name="焊工中级", occupation_id=occupation.id, level="level_4",
        category="employment", theory_hours=2, practice_hours=1, delivery_mode="offline",
        subsidy_amount=amount, subsidy_from=subsidy_from)
    organisation = create_listed_entry(admin, "evaluation_organisation", f"EV-{n}", "省焊接评价中心")
    return World(admin, instructor, institution, occupation, programme, organisation)


def class_on(world: World, day: date, trainees, instructor: User | None = None, status=None) -> TrainingClass:
    """A running class of ``trainees`` with one 09:00–14:00 session on ``day`` (Beijing)."""
    start = datetime.combine(day, time(9), LOCAL_TZ)
    kwargs = {"status": status} if status is not None else {}
    return running_class(world.admin, instructor or world.instructor, trainees, start=start, minutes=300,
                         institution=world.institution, programme=world.programme, **kwargs)


def enrolment_of(klass: TrainingClass, trainee) -> Enrolment:
    return next(e for e in db.session.get(TrainingClass, klass.id).enrolments if e.trainee_id == trainee.id)


def _verification(session, enrolment, cs, at, purpose: Purpose, mode=VerificationMode.KIOSK) -> FaceVerification:
    v = FaceVerification(at=at, trainee_id=enrolment.trainee_id, enrolment_id=enrolment.id,
                         class_id=enrolment.class_id, session_id=cs.id, purpose=purpose,
                         mode=mode, decision=Decision.ACCEPTED, distance=0.312,
                         threshold=0.58, liveness_passed=True, liveness_reason="blink", device="kiosk-实训楼")
    v.statement_id = xapi_records.record(
        session, "verified", xapi_records.trainee_agent(enrolment.trainee_id), at=at,
        enrolment_id=enrolment.id, class_id=enrolment.class_id, session_id=cs.id,
        extensions={"face-distance": 0.312, "purpose": purpose.value}, result={"success": True})
    session.add(v)
    session.flush()
    return v


def attend(enrolment: Enrolment, minutes: int, verified: bool = True, offset: int = 0,
           mode=VerificationMode.KIOSK):
    """Credit ``minutes`` of presence from ``offset`` minutes into the class's session; with
    ``verified`` the interval is opened and closed by accepted verifications of ``mode``."""
    with transaction() as session:
        enrolment = session.get(Enrolment, enrolment.id)
        cs = session.get(ClassSession, enrolment.training_class.sessions[0].id)
        opened = cs.starts_at + timedelta(minutes=offset)
        closed = opened + timedelta(minutes=minutes)
        v_in = _verification(session, enrolment, cs, opened, Purpose.CHECK_IN, mode) if verified else None
        interval = PresenceInterval(enrolment_id=enrolment.id, trainee_id=enrolment.trainee_id,
                                    session_id=cs.id, mode=mode,
                                    status=IntervalStatus.OPEN, open_slot=enrolment.trainee_id,
                                    opened_at=opened, last_verified_at=closed,
                                    check_in_verification_id=v_in.id if v_in else None)
        session.add(interval)
        session.flush()
        v_out = _verification(session, enrolment, cs, closed, Purpose.CHECK_OUT, mode) if verified else None
        return hours.close_interval(session, interval, closed, None, v_out.id if v_out else None)


def assess(world: World, enrolment: Enrolment, theory="80", practical="75", reason: str = "",
           actor: User | None = None):
    return record_assessment(actor or world.instructor, enrolment.id, AssessmentInput(
        theory, practical, date(2026, 3, 20), world.organisation.id, reason))


def complete_enrolment(world: World, enrolment: Enrolment, theory="80", practical="75"):
    """Full hours (180 min) by face, and a passed assessment."""
    attend(enrolment, 180)
    return assess(world, enrolment, theory, practical)


def claimed_class():
    """A class on 2026-03-02 with 李雷 completed and 韩梅梅 short of hours (90 minutes), and the
    claim prepared for it: (world, class, claim, paid trainee, short trainee)."""
    world = make_world()
    paid, short = make_trainee("李雷", actor=world.admin), make_trainee("韩梅梅", actor=world.admin)
    klass = class_on(world, date(2026, 3, 2), [paid, short])
    complete_enrolment(world, enrolment_of(klass, paid))
    attend(enrolment_of(klass, short), 90)
    return world, klass, subsidy.prepare_claim(world.admin, klass.id), paid, short
