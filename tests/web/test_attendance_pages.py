"""Attendance pages and JSON API through the client: a trainee checks in and out with real
frames, a refusal answers 409 with the reason, the instructor sees the grid, log, chart and
ledger, and reverses an entry with a reason."""
import io
from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import HoursEntry, PresenceInterval, Role
from app.models.base import utcnow
from tests.attendance_helpers import answer_paced_http, running_class, still_photo, trainee_with_face
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_user


def _check(client, token, purpose, frames=None, mirrored=False):
    """A paced check through the API: the live responder, or ``frames`` streamed blindly."""
    headers = {"X-CSRFToken": token}
    if frames is None:
        nonce = answer_paced_http(client, headers, purpose, mirrored)
    else:
        started = client.post("/api/attendance/conversation", json={"purpose": purpose}, headers=headers)
        assert started.status_code == 201, started.json
        nonce = started.json["nonce"]
        for f in frames:
            client.post(f"/api/attendance/conversation/{nonce}/frame", headers=headers,
                        content_type="multipart/form-data", data={"frame": (io.BytesIO(f), "f.jpg")})
    return client.post(f"/api/attendance/{purpose.replace('_', '-')}", data={"nonce": nonce, "device": "test-client"},
                       headers=headers, content_type="multipart/form-data")


def test_trainee_checks_in_and_out_and_instructor_sees_it(app, client, auth, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    klass = running_class(admin, instructor, [trainee])
    auth.login("trainee1", PASSWORD)
    page = client.get("/me/attendance")
    assert page.status_code == 200 and "checkin.js" in page.text
    token = csrf_token_from(page.text.replace('data-csrf="', 'name="csrf_token" value="'))
    refused = _check(client, token, "check_in", still_photo())
    assert refused.status_code == 409 and refused.json["error"] == "frames_identical"
    assert _check(client, token, "check_in").status_code == 200
    db.session.rollback()  # end the test's read snapshot before writing
    db.session.execute(update(PresenceInterval).values(opened_at=utcnow() - timedelta(minutes=25)))
    db.session.commit()
    out = _check(client, token, "check_out", mirrored=True)
    assert out.status_code == 200 and out.json["minutes_credited"] in (24, 25), out.json
    auth.logout()

    auth.login("instructor", PASSWORD)
    page = client.get(f"/classes/{klass.id}/attendance")
    assert page.status_code == 200
    assert "hours-chart" in page.text and trainee.name in page.text
    assert f">{out.json['minutes_credited']}<" in page.text.replace(" ", "")
    log = client.get(f"/classes/{klass.id}/sessions/{klass.sessions[0].id}/log")
    assert log.status_code == 200 and "test-client" in log.text
    entry_id = db.session.scalar(select(HoursEntry.id))
    token = csrf_token_from(page.text)
    done = client.post(f"/classes/{klass.id}/attendance/reverse/{entry_id}",
                       data={"reason": "核对有误", "csrf_token": token})
    assert done.status_code == 302
    db.session.rollback()
    assert sorted(db.session.scalars(select(HoursEntry.minutes))) == sorted([out.json["minutes_credited"],
                                                                            -out.json["minutes_credited"]])


def test_kiosk_api_needs_its_credentials(app, client):
    assert client.post("/api/kiosk/conversation", json={"purpose": "check_in"}).status_code == 401
    assert client.post("/api/attendance/conversation", json={"purpose": "check_in"}).status_code in (400, 401)


def test_missed_roll_calls_show_as_roll_calls_among_the_exceptions(app, client, auth):
    from app.models import Decision, FaceVerification, Purpose, VerificationMode
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    _user, trainee = trainee_with_face(admin, "trainee2")
    klass = running_class(admin, instructor, [trainee], online=True)
    enrolment = klass.enrolments[0]
    db.session.add(FaceVerification(
        at=utcnow(), trainee_id=trainee.id, enrolment_id=enrolment.id, class_id=klass.id,
        session_id=klass.sessions[0].id, purpose=Purpose.ROLL_CALL, mode=VerificationMode.PERSONAL,
        decision=Decision.REFUSED, reason="roll_call_missed", device="study-page"))
    db.session.commit()
    auth.login("instructor", PASSWORD)
    page = client.get(f"/classes/{klass.id}/attendance").text
    exceptions = page[page.index('id="exceptions"'):page.index('id="ledger"')]
    assert "人脸点名" in exceptions and "签退" not in exceptions and "未在规定时间内完成人脸点名" in exceptions
    log = client.get(f"/classes/{klass.id}/sessions/{klass.sessions[0].id}/log").text
    assert "人脸点名" in log
