"""An appeal through the pages: the trainee files it from /me/appeals (someone else's enrolment
refused), the class's instructor approves it from /classes/<id>/appeals after an ID-card check,
the minutes are credited and the trainee sees the outcome in words."""
from datetime import timedelta

from sqlalchemy import func, select

from app.clock import LOCAL_TZ
from app.extensions import db
from app.models import Appeal, HoursEntry
from app.services import hours
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD
from tests.services.test_appeals import world  # noqa: F401 (the fixture)


def _local(instant):
    return instant.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def test_an_appeal_from_the_trainee_page_to_approval_and_credited_minutes(client, auth, world):  # noqa: F811
    auth.login("student1", PASSWORD)
    page = client.get("/me/appeals")
    assert page.status_code == 200 and "补签与申诉" in page.text
    token = csrf_token_from(page.text)
    form = {"csrf_token": token, "missed": "check_in", "category": "network", "statement": "网络断了",
            "from": _local(world["start"] + timedelta(minutes=10)), "to": _local(world["start"] + timedelta(minutes=40))}
    theirs = client.post("/me/appeals", data={**form, "slot": f"{world['theirs'].id}:{world['session'].id}"},
                         follow_redirects=True)
    assert "没有属于您的该报名或课次" in theirs.text
    filed = client.post("/me/appeals", data={**form, "slot": f"{world['mine'].id}:{world['session'].id}"},
                        follow_redirects=True)
    assert "申诉已提交" in filed.text and "等待授课教师处理" in filed.text
    db.session.rollback()
    appeal = db.session.scalar(select(Appeal))
    assert db.session.scalar(select(func.count()).select_from(Appeal)) == 1
    auth.logout()
    auth.login("instructor", PASSWORD)
    queue = client.get(f"/classes/{world['class'].id}/appeals")
    assert queue.status_code == 200 and "网络断了" in queue.text
    done = client.post(f"/classes/{world['class'].id}/appeals/{appeal.id}/decide",
                       data={"csrf_token": csrf_token_from(queue.text), "decision": "approve",
                             "method": "id_card", "note": "核对身份证"}, follow_redirects=True)
    assert "申诉已批准" in done.text
    db.session.rollback()
    assert db.session.scalar(select(HoursEntry.minutes)) == 30
    assert hours.progress(db.session, world["mine"]).appealed == 30
    auth.logout()
    auth.login("student1", PASSWORD)
    assert "经身份证核验后已批准" in client.get("/me/appeals").text
