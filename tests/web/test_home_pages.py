"""Home pages say what to do now: a trainee's next session and hours, an instructor's today (who
is present, who is not checked out, refused checks), a reviewer's queue, counts by state."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import local_now
from app.models import AuditEntry, Role, User
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


def test_the_reviewer_sees_second_person_confirmations_waiting(client, auth, day):
    from app.services.consent import arrange_alternative_verification
    arrange_alternative_verification(db.session.get(User, day.instructors[0].id), day.enrolments[0].trainee_id,
                                     "面部受伤，暂无法采集人脸")
    auth.login("reviewer", PASSWORD)
    page = client.get("/").text
    assert "待确认的免修: 0" in page and 'href="/reviews">待确认的身份证核验安排: 1' in page


def test_the_auditor_sees_the_last_reconciliation_and_checkpoint(client, auth, day):
    from app.services.checkpoints import create_checkpoint
    from app.services.reconciliation import reconcile
    auth.login("auditor", PASSWORD)
    page = client.get("/").text
    assert "每晚对账尚未运行" in page and "尚未签名任何检查点" in page and 'href="/audit/"' in page
    reconcile()
    checkpoint = create_checkpoint()
    page = client.get("/").text
    recorded = db.session.scalar(select(AuditEntry.at).where(AuditEntry.action == "hours.reconciled"))
    assert f"{local_now(recorded):%Y-%m-%d %H:%M}，发现 0 处不一致" in page
    assert f"审计条目第 {checkpoint.seq} 条，摘要 {checkpoint.digest[:16]}" in page
