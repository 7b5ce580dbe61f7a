"""Make-up study (补学) on real faces: minutes of a study that were not credited may be made up by
a later study of the same class, credited under roll-calls like any study but never beyond the
missing minutes, marked as a make-up; refused after the working-day window (at the Beijing-date
boundary), a second time, for a make-up itself, and for someone else's study."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from app.clock import LOCAL_TZ
from app.errors.exceptions import ConflictError, NotFoundError
from app.extensions import db
from app.models import AuditEntry, HoursEntry, MakeUpClaim, PresenceInterval, Role, StudyState
from app.models.base import utcnow
from app.services import makeup
from app.services._tx import transaction
from app.services.working_days import working_days_after
from tests.attendance_helpers import backdate_check_in, paced_check, running_class, trainee_with_face
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_trainee, make_user


@pytest.fixture
def world(app, faces_dir):
    if utcnow().astimezone(LOCAL_TZ).time() < time(1, 50):
        pytest.skip("the backdated studies would start before Beijing midnight")
    # test policy: one clip answers every face check here, so the replay memory is off (it would
    # refuse the second live check; replayed answers are refused in test_paced_roll_calls.py)
    app.config["LIVENESS_RELAX"] = ("replay",)
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "student1")
    klass = running_class(admin, instructor, [trainee], start=utcnow() - timedelta(minutes=120),
                          minutes=240, online=True)
    return {"admin": admin, "user": user, "trainee": trainee, "class": klass}


def study_once(world, counted: int, opened_minutes_ago: int) -> HoursEntry:
    """A study opened ``opened_minutes_ago`` that counted ``counted`` minutes, ended by a verified face."""
    def face(purpose):
        return paced_check(world["user"], purpose, online=True)
    assert face("check_in").accepted
    with transaction() as session:
        session.execute(update(StudyState).where(StudyState.trainee_id == world["trainee"].id)
                        .values(counted_seconds=counted * 60 + 30))
        backdate_check_in(opened_minutes_ago, world["trainee"].id, session)
    out = face("check_out")
    assert out.accepted, out
    db.session.rollback()
    return db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == out.interval_id))


def _beijing(day, hour, minute, second=0):
    return datetime.combine(day, time(hour, minute, second), tzinfo=LOCAL_TZ)


def test_a_make_up_is_credited_at_most_the_missing_minutes_and_only_once(world):
    first = study_once(world, 25, 100)
    assert first.minutes == 25
    claimed = makeup.claim(world["user"], first.interval_id)
    assert claimed.missing_minutes == 75
    made_up = study_once(world, 95, 98)          # studied 95 minutes: only the 75 missing count
    assert made_up.minutes == 75 and made_up.rule["makeup_of_interval_id"] == str(first.interval_id)
    for interval_id in (first.interval_id, made_up.interval_id):  # never twice, nor a make-up's make-up
        with pytest.raises(ConflictError):
            makeup.claim(world["user"], interval_id)
    assert db.session.scalar(select(func.count()).select_from(MakeUpClaim)) == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "study.makeup_started")) is not None


def test_the_window_closes_after_the_last_working_day(world):
    first = study_once(world, 25, 100)
    day = db.session.get(PresenceInterval, first.interval_id).opened_at.astimezone(LOCAL_TZ).date()
    deadline = working_days_after(day, 3)
    assert deadline.weekday() < 5 and (deadline - day).days >= 3
    with pytest.raises(ConflictError) as late:
        makeup.claim(world["user"], first.interval_id, now=_beijing(deadline + timedelta(days=1), 0, 0))
    assert late.value.code == "makeup_window_closed" and deadline.isoformat() in late.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MakeUpClaim)) == 0
    assert makeup.claim(world["user"], first.interval_id, now=_beijing(deadline, 23, 59, 59)).deadline == deadline


def test_someone_elses_study_or_a_fully_credited_one_cannot_be_made_up(world):
    first = study_once(world, 25, 100)
    other_user = make_user(Role.TRAINEE, username="student2")
    other = make_trainee("钱亮", actor=world["admin"])
    with transaction() as session:
        session.merge(other).user_id = other_user.id
    with pytest.raises(NotFoundError):
        makeup.claim(other_user, first.interval_id)
    full = study_once(world, 10, 10)             # all its minutes were credited
    with pytest.raises(ConflictError) as nothing:
        makeup.claim(world["user"], full.interval_id)
    assert nothing.value.code == "nothing_missing"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MakeUpClaim)) == 0


def test_working_days_skip_weekends(app):
    assert working_days_after(date(2026, 12, 4), 3) == date(2026, 12, 9)   # Fri → Wed
    assert working_days_after(date(2026, 12, 5), 1) == date(2026, 12, 7)   # Sat → Mon


def test_the_page_lists_what_can_be_made_up_and_claims_it(world, client, auth):
    first = study_once(world, 25, 100)
    auth.login("student1", PASSWORD)
    page = client.get("/me/makeup")
    assert page.status_code == 200 and "补学" in page.text and str(first.interval_id) in page.text
    done = client.post("/me/makeup", data={"csrf_token": csrf_token_from(page.text),
                                           "interval_id": str(first.interval_id)}, follow_redirects=True)
    assert "已申请补学 75 分钟" in done.text and "等待中" in done.text
    again = client.post("/me/makeup", data={"csrf_token": csrf_token_from(done.text),
                                            "interval_id": str(first.interval_id)}, follow_redirects=True)
    assert "已经补学过" in again.text
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MakeUpClaim)) == 1
