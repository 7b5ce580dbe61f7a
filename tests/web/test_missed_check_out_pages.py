"""The forgotten check-out through the pages: the trainee's reminder on every page, the
instructor's list of who is still in, the reason in words in the ledger, and the correction form."""
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app.clock import LOCAL_TZ, local_today
from app.extensions import db
from app.models import ClassSession, HoursEntry, PresenceInterval, Role, VerificationMode
from app.models.base import utcnow
from app.services import hours
from tests.attendance_helpers import paced_check, running_class, trainee_with_face
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_user


@pytest.fixture
def day(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1", name="张伟")
    klass = running_class(admin, instructor, [trainee], minutes=50)  # started 30 min ago, ends in 20
    assert paced_check(user, "check_in").accepted
    return klass


def test_reminders_then_the_instructor_corrects_the_missed_check_out(client, auth, day):
    klass = day
    auth.login("trainee1", PASSWORD)
    home = client.get("/", follow_redirects=True).text
    assert 'id="checkout-reminder"' in home and "记得签退" in home
    auth.logout()
    auth.login("instructor", PASSWORD)
    page = client.get(f"/classes/{klass.id}/attendance").text
    assert 'id="not-checked-out"' in page and "张伟" in page
    # the session ended an hour ago and the scheduler closed the presence
    with db.engine.begin() as conn:
        conn.execute(update(ClassSession).values(starts_at=utcnow() - timedelta(minutes=120),
                                                 ends_at=utcnow() - timedelta(minutes=60)))
        conn.execute(update(PresenceInterval).values(opened_at=utcnow() - timedelta(minutes=115),
                                                     last_verified_at=utcnow() - timedelta(minutes=115)))
    assert hours.close_stale_intervals() == 1
    db.session.rollback()
    page = client.get(f"/classes/{klass.id}/attendance").text
    assert "未签退：课程结束后由系统关闭" in page and 'id="not-checked-out"' not in page
    missed = db.session.scalar(select(PresenceInterval))
    left = (missed.class_session.ends_at - timedelta(minutes=10)).astimezone(hours.LOCAL_TZ).strftime("%H:%M")
    url = f"/classes/{klass.id}/attendance/correct/{missed.id}"
    token = csrf_token_from(page)
    refused = client.post(url, data={"csrf_token": token, "left_at": left, "reason": "忘记签退", "evidence": ""},
                          follow_redirects=True)
    assert "请写明证据" in refused.text
    done = client.post(url, data={"csrf_token": token, "left_at": left, "reason": "忘记签退",
                                  "evidence": "签到表第 2 页"}, follow_redirects=True)
    assert "漏签退已更正" in done.text and "漏签退已由教师更正" in done.text
    db.session.rollback()
    modes = [e.mode for e in db.session.scalars(select(HoursEntry).order_by(HoursEntry.at))]
    assert modes == [VerificationMode.PERSONAL, VerificationMode.CORRECTION]


def test_a_session_across_beijing_midnight_is_corrected_at_the_time_after_midnight(client, auth, day):
    """The form takes HH:MM: 00:40 in a 23:00–01:00 session is the morning after its start (seen
    in CI at 01:25 Beijing, when the test above moved its session across midnight)."""
    klass = day
    start = datetime.combine(local_today() - timedelta(days=2), time(23), LOCAL_TZ)
    with db.engine.begin() as conn:
        conn.execute(update(ClassSession).values(starts_at=start, ends_at=start + timedelta(hours=2)))
        conn.execute(update(PresenceInterval).values(opened_at=start + timedelta(minutes=5),
                                                     last_verified_at=start + timedelta(minutes=5)))
    assert hours.close_stale_intervals() == 1
    db.session.rollback()
    missed = db.session.scalar(select(PresenceInterval))
    auth.login("instructor", PASSWORD)
    token = csrf_token_from(client.get(f"/classes/{klass.id}/attendance").text)
    done = client.post(f"/classes/{klass.id}/attendance/correct/{missed.id}", follow_redirects=True,
                       data={"csrf_token": token, "left_at": "00:40", "reason": "忘记签退", "evidence": "签到表第 3 页"})
    assert "漏签退已更正" in done.text
    db.session.rollback()
    corrected = db.session.scalar(select(PresenceInterval).where(PresenceInterval.mode == VerificationMode.CORRECTION))
    assert corrected.closed_at == start + timedelta(minutes=100)   # 00:40 the next morning
