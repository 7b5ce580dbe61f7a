"""The online study page and its JSON API through the client: start with a face, heartbeats
(close together count, far apart do not), a roll-call the heartbeat asks for answered with the
server-paced face check, and the end crediting the counted minutes."""
from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import HoursEntry, PresenceInterval, Role, StudyState
from app.models.base import utcnow
from tests.attendance_helpers import answer_paced_http, running_class, trainee_with_face
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_user


def _face(client, token, purpose, url):
    """A server-paced face check answered by the live responder through the JSON API."""
    nonce = answer_paced_http(client, {"X-CSRFToken": token}, purpose)
    return client.post(url, data={"nonce": nonce, "device": "test-client"}, headers={"X-CSRFToken": token})


def _rewind(**values):
    db.session.rollback()
    db.session.execute(update(StudyState).values(**values))
    db.session.commit()


def test_trainee_studies_online_with_a_roll_call(app, client, auth, faces_dir):
    app.config["LIVENESS_RELAX"] = ("replay",)  # test policy: one clip answers all three face checks
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    _user, trainee = trainee_with_face(admin, "student1")
    running_class(admin, instructor, [trainee], start=utcnow() - timedelta(minutes=60), online=True)
    auth.login("student1", PASSWORD)
    page = client.get("/me/study")
    assert page.status_code == 200 and "study.js" in page.text and "在线学习" in page.text
    token = csrf_token_from(page.text.replace('data-csrf="', 'name="csrf_token" value="'))
    headers = {"X-CSRFToken": token}
    assert client.post("/api/study/heartbeat", json={}, headers=headers).status_code == 409
    started = _face(client, token, "check_in", "/api/study/start")
    assert started.status_code == 200, started.json
    assert client.get("/api/study").json["studying"] is True
    _rewind(last_heartbeat_at=utcnow() - timedelta(seconds=30))
    beat = client.post("/api/study/heartbeat", json={"visible": True, "active": True}, headers=headers)
    assert beat.status_code == 200 and beat.json["counted_now"] >= 29 and beat.json["roll_call"] is None
    _rewind(last_heartbeat_at=utcnow() - timedelta(seconds=300))
    assert client.post("/api/study/heartbeat", json={}, headers=headers).json["counted_now"] == 0
    _rewind(next_roll_call_at=utcnow() - timedelta(seconds=1))
    beat = client.post("/api/study/heartbeat", json={}, headers=headers)
    assert beat.json["roll_call"] is not None and beat.json["face_required"]
    answered = _face(client, token, "roll_call", "/api/study/roll-call")
    assert answered.status_code == 200 and answered.json["accepted"], answered.json
    _rewind(counted_seconds=20 * 60)
    db.session.execute(update(PresenceInterval).values(opened_at=utcnow() - timedelta(minutes=50)))
    db.session.commit()
    ended = _face(client, token, "check_out", "/api/study/end")
    assert ended.status_code == 200 and ended.json["minutes_credited"] == 20, ended.json
    db.session.rollback()
    assert db.session.scalar(select(HoursEntry.minutes)) == 20
    assert client.get("/api/study").json["studying"] is False
