"""Attacks on the server-paced check, each refused with its reason and nothing changed: frames sent
before the prompt, an action after its deadline, a prompt-blind photo, the one-burst request on
site and at a kiosk, unlimited re-rolls, abandoned challenges, a replayed accepted burst (byte for
byte and re-encoded) and the enrolment frames under a new challenge. The live person is
``tests.attendance_helpers.respond`` (real frames of talking_head.mp4 chosen after each prompt)."""
import io
from datetime import timedelta

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select, update

from app.errors.exceptions import ConflictError
from app.extensions import db
from app.models import CheckInChallenge, FaceFingerprint, FaceVerification, HoursEntry, PresenceInterval, Role
from app.models.base import utcnow
from app.services import attendance
from app.services._tx import transaction
from app.services.consent import withdraw_consent
from tests.attendance_helpers import (ENROL_FRAMES, PACED_FRAMES, answer_paced, clip_frames, paced_check,
                                      running_class, talking_head, trainee_with_face)
from tests.factories import make_user
from tests.kiosk_helpers import signed_kiosk


@pytest.fixture
def world(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    klass = running_class(admin, instructor, [trainee])
    return {"admin": admin, "instructor": instructor, "user": user, "trainee": trainee, "class": klass}


def count(model, *where):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def unchanged(world):
    """No interval open, no hours, no fingerprint stored beyond the enrolment's."""
    assert count(PresenceInterval) == 0 and count(HoursEntry) == 0
    assert count(FaceFingerprint, FaceFingerprint.source == "check") == 0


def refused(attempt, reason):
    assert not attempt.accepted and attempt.reason == reason, attempt
    assert db.session.get(FaceVerification, attempt.verification_id).reason == reason


def send_all(user, nonce, frames):
    answers = [attendance.stream_frame(user, nonce, data) for data in frames]
    return answers[-1]


def test_the_client_learns_nothing_of_the_script_in_advance(world):
    challenge = attendance.start_check(world["user"], "check_in")
    assert challenge.action == "paced"
    answer = attendance.stream_frame(world["user"], challenge.nonce, clip_frames(False)[PACED_FRAMES["neutral"][0]])
    # one prompt at a time, only once a face was seen, never the rest of the script
    assert set(answer) == {"phase", "face", "hint", "prompt"} and answer["prompt"]["step"] == 1


def test_frames_sent_before_the_prompt_do_not_count(world, app):
    """A prepared sequence of every action, sent while the server has not prompted yet."""
    # 31 frames: on a loaded machine they can take longer than the 30 s a waiting challenge lives
    app.config.update(PACED_MIN_PAUSE_SECONDS=60, PACED_MAX_PAUSE_SECONDS=60, PACED_START_SECONDS=600)
    frames = clip_frames(False)
    challenge = attendance.start_check(world["user"], "check_in")
    every = [i for action in ("neutral", "blink", "turn_left", "turn_right", "look_up", "open_mouth")
             for i in PACED_FRAMES[action]]
    assert send_all(world["user"], challenge.nonce, [frames[i] for i in every])["phase"] == "waiting"
    refused(attendance.check_personal(world["user"], "check_in", challenge.nonce, []), "challenge_not_done")
    unchanged(world)


def test_an_action_after_its_deadline_is_refused(world):
    frames = clip_frames(False)
    challenge = attendance.start_check(world["user"], "check_in")
    answer = attendance.stream_frame(world["user"], challenge.nonce, frames[PACED_FRAMES["neutral"][0]])
    action = answer["prompt"]["action"]
    with transaction() as session:  # the prompt went out 11 s ago (the deadline is 10 s)
        row = session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == challenge.nonce))
        row.state = {**row.state, "prompt_at": row.state["prompt_at"] - 11}
    # not the frame just sent again: the colour step's still frames begin with it (frames_identical)
    late = [frames[i] for i in PACED_FRAMES[action] if i != PACED_FRAMES["neutral"][0]]
    answer = send_all(world["user"], challenge.nonce, late)
    assert answer["phase"] == "failed" and answer["reason"] == "too_late"
    refused(attendance.check_personal(world["user"], "check_in", challenge.nonce, []), "too_late")
    unchanged(world)


def test_a_photo_moved_about_without_following_prompts_is_refused(world):
    """A single photo, shifted and re-lit a little in every frame (so no two frames are equal)."""
    image = cv2.imdecode(np.frombuffer(talking_head()[99], np.uint8), cv2.IMREAD_COLOR)
    frames = []
    for k in range(8):
        moved = cv2.warpAffine(image, np.float32([[1, 0, 2 * k], [0, 1, k]]), image.shape[1::-1])
        frames.append(cv2.imencode(".jpg", cv2.convertScaleAbs(moved, alpha=1 + k / 50))[1].tobytes())
    challenge = attendance.start_check(world["user"], "check_in")
    assert send_all(world["user"], challenge.nonce, frames)["phase"] == "acting"
    refused(attendance.check_personal(world["user"], "check_in", challenge.nonce, []), "challenge_not_done")
    unchanged(world)


def test_the_one_burst_request_is_refused_on_site(world, client, auth):
    """The old attack path: a burst of real frames with a one-burst challenge's nonce. Its route is
    gone, and a one-burst challenge still in the table (or forged into it) is refused."""
    from tests.attendance_helpers import burst_challenge, live_frames
    from tests.factories import PASSWORD
    auth.login("trainee1", PASSWORD)
    token = client.get("/me/attendance").text.split('data-csrf="', 1)[1].split('"', 1)[0]
    assert client.post("/api/attendance/challenge", json={"purpose": "check_in"},
                       headers={"X-CSRFToken": token}).status_code == 404
    nonce = burst_challenge(trainee_id=world["trainee"].id)
    frames = [(io.BytesIO(f), f"{i}.jpg") for i, f in enumerate(live_frames("blink"))]
    response = client.post("/api/attendance/check-in", headers={"X-CSRFToken": token},
                           content_type="multipart/form-data", data={"nonce": nonce, "frames": frames})
    assert response.status_code == 409 and response.json["error"] == "challenge_not_paced", response.json
    unchanged(world)


def test_the_one_burst_request_is_refused_at_a_kiosk(world, client):
    from tests.attendance_helpers import burst_challenge, live_frames
    kiosk = signed_kiosk(client, world["admin"], world["class"].institution_id, "实训楼 201")
    assert kiosk.post("/api/kiosk/challenge", json={"purpose": "check_in"}).status_code == 404
    frames = [(io.BytesIO(f), f"{i}.jpg") for i, f in enumerate(live_frames("blink"))]
    response = kiosk.post("/api/kiosk/check-in", content_type="multipart/form-data",
                          data={"nonce": burst_challenge(kiosk_id=kiosk.kiosk.id), "frames": frames})
    assert response.status_code == 409 and response.json["error"] == "challenge_not_paced", response.json
    unchanged(world)


def test_challenges_cannot_be_re_rolled_without_limit(world, app):
    limit = app.config["CHALLENGE_LIMIT_PER_TRAINEE"]
    for _ in range(limit):
        attendance.start_check(world["user"], "check_in")  # re-rolled before any frame
    with pytest.raises(ConflictError) as refused_:
        attendance.start_check(world["user"], "check_in")
    assert refused_.value.code == "challenge_rate"
    assert count(CheckInChallenge) == limit
    assert not attendance.is_locked_out(world["trainee"].id)  # no face seen: no failure counted


def test_abandoned_challenges_with_a_face_seen_lock_self_check_in(world, app):
    app.config["CHALLENGE_LIMIT_PER_TRAINEE"] = 20
    frames = clip_frames(False)
    for _ in range(app.config["CHECK_IN_LOCK_FAILURES"]):  # look at the prompt, then give up
        challenge = attendance.start_check(world["user"], "check_in")
        attendance.stream_frame(world["user"], challenge.nonce, frames[PACED_FRAMES["neutral"][0]])
    with transaction() as session:
        session.execute(update(CheckInChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(ConflictError) as refused_:
        attendance.start_check(world["user"], "check_in")
    assert refused_.value.code == "locked_out" and attendance.is_locked_out(world["trainee"].id)
    unchanged(world)


def test_a_replayed_accepted_burst_is_refused_byte_for_byte_and_re_encoded(world):
    recorded = []
    frames = clip_frames(False)
    challenge = attendance.start_check(world["user"], "check_in")

    def send(data):
        recorded.append(data)
        return attendance.stream_frame(world["user"], challenge.nonce, data)

    from tests.attendance_helpers import respond
    assert respond(send)["phase"] == "done"
    assert attendance.check_personal(world["user"], "check_in", challenge.nonce, []).accepted
    assert count(FaceFingerprint, FaceFingerprint.source == "check") > 0
    assert frames[PACED_FRAMES["neutral"][0]] in recorded

    def reencoded(data):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        image = cv2.resize(image, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)
        return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes()

    for variant in (lambda d: d, reencoded):
        stored = count(FaceFingerprint)
        nonce = answer_paced_with(world["user"], "check_out", variant)
        attempt = attendance.check_personal(world["user"], "check_out", nonce, [])
        refused(attempt, "replayed")
        assert count(HoursEntry) == 0 and count(FaceFingerprint) == stored
        assert count(PresenceInterval, PresenceInterval.closed_at.is_(None)) == 1


def answer_paced_with(user, purpose, transform):
    """The live responder's frames passed through ``transform`` (a replay of them)."""
    from tests.attendance_helpers import respond
    challenge = attendance.start_check(user, purpose)
    respond(lambda data: attendance.stream_frame(user, challenge.nonce, transform(data)))
    return challenge.nonce


def test_the_enrolment_frames_under_a_new_challenge_are_refused(world):
    """The enrolment pictures (or the photo they came from) replayed: the fingerprints match."""
    enrolment = [talking_head()[i] for i in ENROL_FRAMES]
    challenge = attendance.start_check(world["user"], "check_in")
    attendance.stream_frame(world["user"], challenge.nonce, enrolment[0])
    with transaction() as session:  # grant the action whatever the frames show (only replay is under test)
        row = session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == challenge.nonce))
        row.state = {**row.state, "phase": "done", "done_at": row.state["prompt_at"]}
    refused(attendance.check_personal(world["user"], "check_in", challenge.nonce, []), "replayed")
    unchanged(world)


def test_a_live_check_in_and_out_are_accepted_and_withdrawal_forgets_the_fingerprints(world):
    assert paced_check(world["user"]).accepted
    assert paced_check(world["user"], "check_out", mirrored=True).accepted
    assert count(FaceFingerprint, FaceFingerprint.trainee_id == world["trainee"].id) > 3
    withdraw_consent(world["admin"], world["trainee"].id, "撤回同意书 2026-001")
    assert count(FaceFingerprint) == 0


def test_no_face_seen_is_refused_but_not_counted_toward_the_lock_out(world, app, faces_dir):
    blank = cv2.imencode(".jpg", np.full((480, 640, 3), 128, np.uint8))[1].tobytes()
    for _ in range(app.config["CHECK_IN_LOCK_FAILURES"]):
        nonce = attendance.start_check(world["user"], "check_in").nonce
        assert attendance.stream_frame(world["user"], nonce, blank)["face"] is False
        refused(attendance.check_personal(world["user"], "check_in", nonce, []), "no_face_seen")
    assert not attendance.is_locked_out(world["trainee"].id)
    assert answer_paced(world["user"])  # still allowed to try
