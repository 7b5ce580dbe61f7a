"""Held checks keep their face evidence even with image retention off (issue 15): the frames of a
check whose hours are held for review (a risky check, a roll-call passed after a failed one) are
kept sealed, shown to the class's instructor and to no one of another institution, and go once
the instructor decides, on consent withdrawal and in the PIPL purge (audited); a check that is not
held keeps none, and no frame waits in a challenge row once it is used or abandoned."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.registry import RECURRING_JOBS
from app.models import AuditEntry, CheckInChallenge, FaceVerification, HeldHours, Role
from app.models.base import utcnow
from app.services import attendance, face_images, held_hours, pipl
from app.services.catalogue import create_listed_entry
from app.services.consent import withdraw_consent
from tests.attendance_helpers import answer_paced, backdate_check_in, respond, running_class, trainee_with_face
from tests.factories import PASSWORD, make_user
from tests.services.test_held_hours import held  # noqa: F401 (the fixture)
from tests.web.test_held_evidence import evidence_urls


@pytest.fixture
def world(app, faces_dir):
    app.config["LIVENESS_RELAX"] = ("replay",)  # one clip answers every check here
    assert face_images.retention_days() == 0
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    klass = running_class(admin, instructor, [trainee])
    return {"admin": admin, "instructor": instructor, "user": user, "trainee": trainee, "class": klass}


def check(user, purpose, label, mirrored=False):
    return attendance.check_personal(user, purpose, answer_paced(user, purpose, mirrored, camera_label=label),
                                     [], "pytest")


def files(trainee) -> int:
    return sum(len(face_images.kept(trainee.id, v)) for v in db.session.scalars(
        select(FaceVerification.id).where(FaceVerification.trainee_id == trainee.id)))


def buffers() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(CheckInChallenge).where(
        (CheckInChallenge.kept_frames.is_not(None)) | (CheckInChallenge.probe.is_not(None))))


def purge_audits() -> list[dict]:
    db.session.rollback()
    return [e.payload for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "face_images.purged"))]


def test_a_check_that_is_not_held_keeps_no_frame(world):
    check_in = check(world["user"], "check_in", "Integrated Camera")
    assert check_in.accepted
    assert files(world["trainee"]) == 0 and buffers() == 0


def test_a_risky_check_keeps_its_frames_until_the_decision(app, world):
    """The page reported a virtual camera: with retention 0 the check's frames are kept, through
    the hourly purge, while the interval is open and while its held minutes wait."""
    assert check(world["user"], "check_in", "OBS Virtual Camera").accepted
    kept = files(world["trainee"])
    assert kept >= 1 and buffers() == 0
    assert RECURRING_JOBS["purge_face_images"].func().startswith("0 kept face images purged")
    assert files(world["trainee"]) == kept
    backdate_check_in(30)
    assert check(world["user"], "check_out", "Integrated Camera", mirrored=True).accepted
    db.session.rollback()
    item = db.session.scalar(select(HeldHours))
    assert item is not None and files(world["trainee"]) > kept  # the check-out is evidence too
    held_hours.decide(world["instructor"], [item.id], False, "虚拟摄像头，不予认定")
    assert files(world["trainee"]) == 0
    assert purge_audits()[-1]["reason"] == "held_decided" and purge_audits()[-1]["files"] > kept


def test_the_frames_of_a_risky_check_in_go_with_consent_withdrawal(world):
    assert check(world["user"], "check_in", "OBS Virtual Camera").accepted
    assert files(world["trainee"]) >= 1
    withdraw_consent(world["admin"], world["trainee"].id, "撤回书 2026-002")
    assert files(world["trainee"]) == 0


def test_the_frames_of_a_risky_check_in_go_with_the_pipl_purge(world):
    assert check(world["user"], "check_in", "OBS Virtual Camera").accepted
    assert files(world["trainee"]) >= 1
    assert pipl.purge_expired_templates(utcnow() + timedelta(days=pipl.retention_days() + 2)) == 1
    assert files(world["trainee"]) == 0


def test_abandoned_and_withdrawn_challenges_hold_no_frames(world):
    """A challenge answered and left: its buffer goes with the purge job once expired; one under
    way goes (and ends) when consent is withdrawn."""
    left = attendance.start_check(world["user"], "check_in", camera_label="Integrated Camera")
    assert respond(lambda data: attendance.stream_frame(world["user"], left.nonce, data))["phase"] == "done"
    assert buffers() == 1
    row = db.session.get(CheckInChallenge, left.id)
    row.expires_at = utcnow() - timedelta(minutes=10)  # abandoned ten minutes ago
    db.session.commit()
    RECURRING_JOBS["purge_face_images"].func()
    assert buffers() == 0
    under_way = attendance.start_check(world["user"], "check_out", camera_label="Integrated Camera")
    assert respond(lambda data: attendance.stream_frame(world["user"], under_way.nonce, data))["phase"] == "done"
    assert buffers() == 1
    withdraw_consent(world["admin"], world["trainee"].id, "撤回书 2026-003")
    assert buffers() == 0
    refused = attendance.check_personal(world["user"], "check_out", under_way.nonce, [], "pytest")
    assert not refused.accepted and refused.reason == "nonce_expired"


def test_with_retention_off_the_instructor_sees_the_held_roll_call(client, auth, held):  # noqa: F811
    """The study held for a roll-call passed after a failed one: the passing answer and the
    check-out are kept; the class's instructor sees them, another institution's does not."""
    assert face_images.retention_days() == 0
    urls = evidence_urls(held)
    assert urls
    auth.login("instructor", PASSWORD)
    assert all(url in client.get(f"/classes/{held['class'].id}/held").text for _v, url in urls)
    response = client.get(urls[0][1])
    assert response.status_code == 200 and response.data[:2] == b"\xff\xd8"
    auth.logout()
    institution_b = create_listed_entry(held["admin"], "institution", "B-SCHOOL", "乙技工学校")
    make_user(Role.INSTRUCTOR, username="outsider", institution=institution_b)
    auth.login("outsider", PASSWORD)
    assert client.get(urls[0][1]).status_code == 403


def test_with_retention_off_the_held_frames_go_after_the_decision(held):  # noqa: F811
    assert evidence_urls(held)
    held_hours.decide(held["instructor"], [held["item"].id], True, "已视频核实")
    assert evidence_urls(held) == [] and buffers() == 0
    assert purge_audits()[-1]["reason"] == "held_decided"
