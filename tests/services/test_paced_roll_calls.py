"""Roll-calls of online study are the server-paced check of check-in: a one-burst challenge, a
photo moved about, a replayed accepted answer and a roll-call answered after its deadline are
each refused (the roll-call fails or counts as missed, accrual pauses, nothing more is counted or
verified); the live responder passes. Real faces (talking_head.mp4), the replay memory on."""
from datetime import timedelta

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (Decision, FaceFingerprint, FaceVerification, Purpose, RollCallOutcome, Role, StudyRollCall,
                        StudyState)
from app.models.base import utcnow
from app.services import attendance, study
from app.services._tx import transaction
from tests.attendance_helpers import (answer_blind, answer_paced, burst_challenge, running_class, talking_head,
                                      trainee_with_face)
from tests.factories import make_user


@pytest.fixture
def world(app, faces_dir):
    admin = make_user(Role.ADMIN)
    user, trainee = trainee_with_face(admin, "student1")
    running_class(admin, make_user(Role.INSTRUCTOR), [trainee], start=utcnow() - timedelta(minutes=120),
                  minutes=240, online=True)
    started = attendance.check_personal(user, "check_in", answer_paced(user), [], "pytest", online=True)
    assert started.accepted, started
    return {"user": user, "trainee": trainee}


def state_of(world) -> StudyState:
    db.session.rollback()
    return db.session.scalar(select(StudyState).where(StudyState.trainee_id == world["trainee"].id))


def roll_call_due(world) -> int:
    """The server makes a roll-call due and a heartbeat 30 s after the last one opens it; the
    verified seconds then."""
    with transaction() as session:
        session.execute(update(StudyState).values(next_roll_call_at=utcnow() - timedelta(seconds=1),
                                                  last_heartbeat_at=utcnow() - timedelta(seconds=30)))
    assert study.heartbeat(world["user"])["roll_call"] is not None
    return state_of(world).verified_seconds


def the_roll_call() -> StudyRollCall:
    db.session.rollback()
    return db.session.scalars(select(StudyRollCall).order_by(StudyRollCall.due_at.desc())).first()


def assert_refused(world, attempt, reason, verified: int) -> None:
    """Refused with ``reason`` in words, stored; the roll-call failed, accrual paused and the
    verified span did not grow past ``verified``."""
    assert not attempt.accepted and attempt.reason == reason and attempt.message != reason, attempt
    assert db.session.get(FaceVerification, attempt.verification_id).decision == Decision.REFUSED
    call = the_roll_call()
    assert call.outcome == RollCallOutcome.FAILED and call.verification_id == attempt.verification_id
    state = state_of(world)
    assert state.paused and state.pause_reason == "roll_call_failed" and state.verified_seconds == verified
    with transaction() as session:
        session.execute(update(StudyState).values(last_heartbeat_at=utcnow() - timedelta(seconds=30)))
    assert study.heartbeat(world["user"])["counted_now"] == 0


def test_the_live_responder_passes_a_paced_roll_call(world):
    roll_call_due(world)
    attempt = study.answer_roll_call(world["user"], answer_paced(world["user"], "roll_call", mirrored=True), "pytest")
    assert attempt.accepted, attempt
    assert the_roll_call().outcome == RollCallOutcome.PASSED
    verification = db.session.get(FaceVerification, attempt.verification_id)
    assert verification.purpose == Purpose.ROLL_CALL and verification.liveness_passed


def test_a_roll_call_answered_with_a_one_burst_challenge_is_refused(world):
    verified = roll_call_due(world)
    nonce = burst_challenge("roll_call", trainee_id=world["trainee"].id)
    assert_refused(world, study.answer_roll_call(world["user"], nonce, "pytest"), "challenge_not_paced", verified)


def test_a_roll_call_answered_by_a_photo_moved_about_is_refused(world):
    """One photo, shifted and re-lit a little in every frame, sent whatever the prompts say."""
    image = cv2.imdecode(np.frombuffer(talking_head()[99], np.uint8), cv2.IMREAD_COLOR)
    frames = []
    for k in range(8):
        moved = cv2.warpAffine(image, np.float32([[1, 0, 2 * k], [0, 1, k]]), image.shape[1::-1])
        frames.append(cv2.imencode(".jpg", cv2.convertScaleAbs(moved, alpha=1 + k / 50))[1].tobytes())
    verified = roll_call_due(world)
    nonce = answer_blind(world["user"], frames, "roll_call")
    assert_refused(world, study.answer_roll_call(world["user"], nonce, "pytest"), "challenge_not_done", verified)


def test_a_replayed_accepted_roll_call_answer_is_refused(world):
    """The frames of an accepted roll-call answer (the live responder's again) under a new
    challenge: the replay memory kept them, so the next roll-call is refused."""
    roll_call_due(world)
    user = world["user"]
    assert study.answer_roll_call(user, answer_paced(user, "roll_call", mirrored=True), "pytest").accepted
    stored = db.session.scalar(select(func.count()).select_from(FaceFingerprint))
    verified = roll_call_due(world)
    assert_refused(world, study.answer_roll_call(user, answer_paced(user, "roll_call", mirrored=True), "pytest"),
                   "replayed", verified)
    assert db.session.scalar(select(func.count()).select_from(FaceFingerprint)) == stored


def test_a_roll_call_answered_after_its_deadline_counts_as_missed(world):
    """A live answer that arrives after the deadline does not pass the roll-call: it is missed,
    the time since the deadline is not counted, and the face only resumes accrual from now, held
    for review."""
    user = world["user"]
    roll_call_due(world)
    nonce = answer_paced(user, "roll_call", mirrored=True)
    with transaction() as session:  # the minute to answer ran out while the trainee was away
        session.execute(update(StudyRollCall).values(deadline=utcnow() - timedelta(seconds=5)))
    counted = state_of(world).counted_seconds
    attempt = study.answer_roll_call(user, nonce, "pytest")
    call = the_roll_call()
    assert call.outcome == RollCallOutcome.MISSED and call.verification_id != attempt.verification_id
    assert db.session.get(FaceVerification, call.verification_id).reason == "roll_call_missed"
    assert attempt.accepted and "超过答复时限" in attempt.message
    state = state_of(world)
    assert state.counted_seconds == counted and not state.paused
    assert "roll_call_failed_then_passed" in state.risk_signals
