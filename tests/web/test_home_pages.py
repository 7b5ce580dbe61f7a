"""Home pages say what to do now: a trainee's next session and hours, an instructor's today (who
is present, who is not checked out, refused checks), a reviewer's queue, counts by state."""
from datetime import timedelta

import pytest

from app.models import Role
from app.models.base import utcnow
from tests.attendance_helpers import running_class
from app.extensions import db
from tests.factories import PASSWORD, make_trainee, make_user


@pytest.fixture
def day(app):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    make_user(Role.REVIEWER)
    make_user(Role.AUDITOR)
    trainee_user = make_user(Role.TRAINEE, "trainee1")
    trainee = make_trainee("张伟", actor=admin)
    db.session.merge(trainee).user_id = trainee_user.id
    db.session.commit()
    klass = running_class(admin, instructor, [trainee], start=utcnow() - timedelta(minutes=1))
    return klass


def test_each_role_sees_what_to_do_now(client, auth, day):
    auth.login("trainee1", PASSWORD)
    page = client.get("/").text
    assert 'id="home-next"' in page and "考勤测试班" in page and 'id="home-progress"' in page
    auth.logout()
    auth.login("instructor", PASSWORD)
    page = client.get("/").text
    assert 'id="home-today"' in page and "考勤测试班" in page and 'id="home-not-checked-out"' in page
    assert "/classes?status=running" in page
    auth.logout()
    auth.login("reviewer", PASSWORD)
    page = client.get("/").text
    assert 'id="home-queue"' in page and "待审核的开班申请: 0" in page and "待审核的补贴申报: 0" in page
    auth.logout()
    auth.login("auditor", PASSWORD)
    page = client.get("/").text
    assert 'id="home-claims"' in page and 'id="home-classes"' in page
