"""Appeals (补签, 申诉): a trainee files for a missed check with a reason; an instructor of the
class approves after an ID-card check (minutes credited with the appeal as evidence, counted
separately) or rejects; someone else's enrolment, an overlapping span, another institution's
instructor and a second decision are refused with nothing credited."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import (Appeal, AppealStatus, AuditEntry, HoursEntry, PresenceInterval, Role, VerificationMode)
from app.models.base import utcnow
from app.services import appeals, hours
from app.services._tx import transaction
from app.services.reconciliation import reconcile
from tests.factories import make_catalogue, make_trainee, make_user
from tests.attendance_helpers import running_class


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user = make_user(Role.TRAINEE, username="student1")
    trainee = make_trainee("赵敏", actor=admin)
    other_user = make_user(Role.TRAINEE, username="student2")
    other = make_trainee("钱亮", actor=admin)
    with transaction() as session:
        session.merge(trainee).user_id = user.id
        session.merge(other).user_id = other_user.id
    start = utcnow() - timedelta(minutes=120)
    klass = running_class(admin, instructor, [trainee, other], start=start, minutes=100)
    enrolments = {e.trainee_id: e for e in klass.enrolments}
    return {"admin": admin, "instructor": instructor, "user": user, "other_user": other_user, "class": klass,
            "mine": enrolments[trainee.id], "theirs": enrolments[other.id], "session": klass.sessions[0],
            "start": start}


def _file(world, enrolment=None, user=None, frm=10, to=70):
    return appeals.file_appeal(user or world["user"], (enrolment or world["mine"]).id, world["session"].id,
                               "check_in", "network", "校园网断了，签到没发出去",
                               world["start"] + timedelta(minutes=frm), world["start"] + timedelta(minutes=to))


def test_approved_appeal_credits_the_span_counted_separately(world):
    appeal = _file(world)
    assert appeal.status == AppealStatus.PENDING
    with pytest.raises(ValidationError):               # an approval names how the trainee was checked
        appeals.decide_appeal(world["instructor"], appeal.id, True, "", "核对身份证")
    decided = appeals.decide_appeal(world["instructor"], appeal.id, True, "id_card", "核对身份证，本人在场")
    assert decided.status == AppealStatus.APPROVED and decided.interval_id is not None
    db.session.rollback()
    interval = db.session.get(PresenceInterval, decided.interval_id)
    assert interval.mode == VerificationMode.APPEAL
    entry = db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == interval.id))
    assert entry.minutes == 60
    progress = hours.progress(db.session, world["mine"])
    assert (progress.net, progress.appealed) == (60, 60)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "appeal.approved")) is not None
    with pytest.raises(ConflictError):
        appeals.decide_appeal(world["instructor"], appeal.id, False, "", "改主意")
    assert reconcile().is_clean


def test_an_appeal_for_someone_elses_enrolment_is_refused(world):
    with pytest.raises(NotFoundError):
        _file(world, enrolment=world["theirs"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 0


def test_an_overlapping_or_repeated_span_credits_nothing_twice(world):
    first = _file(world, frm=10, to=70)
    second = _file(world, frm=40, to=90)                # filed while the first is pending
    appeals.decide_appeal(world["instructor"], first.id, True, "id_card", "核对身份证")
    with pytest.raises(ConflictError):                 # now overlaps the approved span
        appeals.decide_appeal(world["instructor"], second.id, True, "id_card", "核对身份证")
    with pytest.raises(ConflictError):
        _file(world, frm=0, to=20)
    db.session.rollback()
    assert db.session.get(Appeal, second.id).status == AppealStatus.PENDING
    assert db.session.scalar(select(func.sum(HoursEntry.minutes))) == 60


def test_another_institutions_instructor_cannot_decide(world):
    appeal = _file(world)
    outsider = make_user(Role.INSTRUCTOR, username="outsider")
    institution, _occ, _programme = make_catalogue(world["admin"])
    outsider.institution_id = institution.id
    db.session.commit()
    with pytest.raises(PermissionDeniedError):
        appeals.decide_appeal(outsider, appeal.id, True, "id_card", "看过了")
    db.session.rollback()
    assert db.session.get(Appeal, appeal.id).status == AppealStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(HoursEntry)) == 0


def test_a_rejected_appeal_credits_nothing_and_says_why(world):
    appeal = _file(world)
    decided = appeals.decide_appeal(world["instructor"], appeal.id, False, "", "当天未到场，监控可查")
    assert decided.status == AppealStatus.REJECTED and decided.decision_note == "当天未到场，监控可查"
    assert appeals.mine(world["user"])[0].status == AppealStatus.REJECTED
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HoursEntry)) == 0
