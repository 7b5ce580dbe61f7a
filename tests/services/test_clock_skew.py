"""Clock skew from a client: a capture time far from the server's clock is refused as
``clock_skew`` and recorded as a failed verification with its statement, no interval and no
hours; a time within the limit is accepted but never used — every recorded time is the server's."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Decision, FaceVerification, HoursEntry, PresenceInterval, Role
from app.models.base import utcnow
from app.services import attendance
from lrs.storage.tables import Statement
from tests.attendance_helpers import answer_paced, answer_paced_http, running_class, trainee_with_face
from tests.factories import PASSWORD, make_user
from tests.services.test_attendance import check, fresh


@pytest.fixture
def world(app, faces_dir):
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    running_class(admin, instructor, [trainee])
    return {"user": user, "trainee": trainee}


def check_at(user, purpose: str, captured_at, mirrored: bool = False):
    return attendance.check_personal(user, purpose, answer_paced(user, purpose, mirrored), [], "pytest",
                                     captured_at=captured_at)


@pytest.mark.parametrize("offset", [timedelta(days=-1), timedelta(minutes=6), timedelta(days=365)])
def test_a_capture_time_far_from_the_server_clock_is_refused_and_recorded(world, offset):
    attempt = check_at(world["user"], "check_in", utcnow() + offset)
    assert not attempt.accepted and attempt.reason == "clock_skew" and "时钟" in attempt.message
    db.session.rollback()
    verification = db.session.get(FaceVerification, attempt.verification_id)
    assert verification.decision == Decision.REFUSED and verification.reason == "clock_skew"
    assert verification.distance is None  # the frames were not even analysed
    assert db.session.scalar(select(Statement).where(Statement.id == verification.statement_id)) is not None
    assert fresh(PresenceInterval) == 0 and fresh(HoursEntry) == 0


def test_a_skewed_check_out_credits_nothing_and_the_server_clock_sets_every_time(world):
    before = utcnow()
    opened = check_at(world["user"], "check_in", utcnow() - timedelta(minutes=4))  # within 5 minutes
    assert opened.accepted, opened
    interval = db.session.get(PresenceInterval, opened.interval_id)
    assert before <= interval.opened_at <= utcnow()  # the server's time, not the client's
    refused = check_at(world["user"], "check_out", utcnow() + timedelta(hours=8))
    assert refused.reason == "clock_skew" and fresh(HoursEntry) == 0
    db.session.rollback()
    assert db.session.get(PresenceInterval, opened.interval_id).closed_at is None  # still open
    closed = check(world["user"], "check_out", mirrored=True)  # no captured_at: nothing to compare
    assert closed.accepted and fresh(HoursEntry) == 1


def test_the_api_passes_captured_at_and_refuses_a_malformed_one(world, client, auth):
    auth.login("trainee1", PASSWORD)
    page = client.get("/me/attendance")
    token = page.text.split('data-csrf="', 1)[1].split('"', 1)[0]
    headers = {"X-CSRFToken": token}

    def post(captured_at):
        data = {"nonce": answer_paced_http(client, headers), "captured_at": captured_at}
        return client.post("/api/attendance/check-in", data=data, headers=headers,
                           content_type="multipart/form-data")

    malformed = post("yesterday")
    assert malformed.status_code == 400 and "captured_at" in malformed.json["errors"]
    skewed = post((utcnow() - timedelta(hours=3)).isoformat())
    assert skewed.status_code == 409 and skewed.json["error"] == "clock_skew"
    assert post(utcnow().isoformat()).status_code == 200
