"""The review queue page of held hours and the trainee's view of them, through the client: the
trainee sees the minutes pending review with the reason in words; the class's instructor sees
the item with its evidence, filters by reason and accepts it in bulk with a reason."""
from sqlalchemy import select

from app.extensions import db
from app.models import HeldHours, HeldStatus
from app.services import hours
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD
from tests.services.test_held_hours import held  # noqa: F401 (the fixture)


def test_the_trainee_sees_why_and_the_instructor_accepts_from_the_queue(client, auth, held):  # noqa: F811
    auth.login("student1", PASSWORD)
    page = client.get("/me/study")
    assert "20 分钟待审核" in page.text and "之后的点名又通过了" in page.text
    auth.logout()
    auth.login("instructor", PASSWORD)
    url = f"/classes/{held['class'].id}/held"
    queue = client.get(url)

    assert queue.status_code == 200 and str(held["item"].id) in queue.text and "未通过" in queue.text
    assert str(held["item"].id) not in client.get(url + "?reason=no_interaction").text
    token = csrf_token_from(queue.text)
    refused = client.post(url + "/decide", data={"csrf_token": token, "held_id": [str(held["item"].id)],
                                                 "decision": "accept", "reason": ""})
    assert refused.status_code == 302
    db.session.rollback()
    assert db.session.get(HeldHours, held["item"].id).status == HeldStatus.PENDING
    done = client.post(url + "/decide", data={"csrf_token": token, "held_id": [str(held["item"].id)],
                                              "decision": "accept", "reason": "已视频核实"},
                       follow_redirects=True)
    assert "所选学时已认可" in done.text and "没有待审核的学时" in done.text
    db.session.rollback()
    assert db.session.scalar(select(HeldHours.status)) == HeldStatus.ACCEPTED
    assert hours.progress(db.session, held["class"].enrolments[0]).net == 20


def test_home_pages_say_what_waits_for_a_decision_and_only_to_the_class_institution(client, auth, held):  # noqa: F811
    from app.models import Role
    from tests.factories import make_catalogue, make_user
    outsider = make_user(Role.INSTRUCTOR, username="outsider")
    outsider.institution_id = make_catalogue(held["admin"])[0].id
    db.session.commit()
    auth.login("student1", PASSWORD)
    page = client.get("/").text
    assert 'id="home-waiting"' in page and "暂扣待审：1 条" in page and 'href="/me/study"' in page
    auth.logout()
    auth.login("outsider", PASSWORD)
    page = client.get("/").text
    assert "暂无待处理事项" in page and held["class"].name not in page
    auth.logout()
    auth.login("instructor", PASSWORD)
    page = client.get("/").text
    queue = f"/classes/{held['class'].id}/held"
    assert f'href="{queue}">暂扣待审：1 条' in page and "待处理申诉：0 条" in page
    token = csrf_token_from(client.get(queue).text)
    client.post(queue + "/decide", data={"csrf_token": token, "held_id": [str(held["item"].id)],
                                         "decision": "accept", "reason": "已视频核实"})
    assert "暂无待处理事项" in client.get("/").text
