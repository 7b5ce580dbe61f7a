"""The screen-colour step and the risk score of paced checks (issue 15) on real faces: a face that
does not reflect the screen is refused with nothing changed; the step follows the configuration
and the kiosk's ``screen_facing``; a risky check stands but the minutes of its interval are held
(not in progress) while a clean one credits; the score's signals one by one."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CheckInChallenge, FaceFingerprint, FaceVerification, HeldHours, HoursEntry, PresenceInterval, Role
from app.services import attendance, held_hours, hours, kiosks, risk
from app.services._tx import transaction
from tests.attendance_helpers import answer_paced, backdate_check_in, respond, running_class, trainee_with_face
from tests.factories import make_user


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


def set_state(nonce, **values):
    with transaction() as session:
        row = session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == nonce))
        row.state = {**row.state, **values}


def check(user, purpose, label, mirrored):
    nonce = answer_paced(user, purpose, mirrored, camera_label=label)
    return attendance.check_personal(user, purpose, nonce, [], "pytest")


def verification(attempt) -> FaceVerification:
    db.session.rollback()
    return db.session.get(FaceVerification, attempt.verification_id)


def test_a_face_that_does_not_reflect_the_screen_is_refused(world):
    """The attack: a recording or a photo cannot follow colours drawn after it was made. Here the
    live responder's frames, every action right, but unlit under the colour prompts."""
    challenge = attendance.start_check(world["user"], "check_in", camera_label="Integrated Camera")
    assert "colour" in challenge.state["actions"]
    set_state(challenge.nonce, colours=[{"colour": c, "seconds": 0.0} for c in ("red", "green", "blue", "white")])
    answer = respond(lambda data: attendance.stream_frame(world["user"], challenge.nonce, data), reflection=False)
    assert answer["phase"] == "failed" and answer["reason"] == "no_colour_response", answer
    attempt = attendance.check_personal(world["user"], "check_in", challenge.nonce, [], "pytest")
    assert not attempt.accepted and attempt.reason == "no_colour_response"
    assert "颜色" in answer["message"] and "颜色" in attempt.message
    assert count(PresenceInterval) == 0 and count(HoursEntry) == 0
    assert count(FaceFingerprint, FaceFingerprint.source == "check") == 0


def test_the_colour_prompts_name_each_colour_one_at_a_time(world):
    challenge = attendance.start_check(world["user"], "check_in")
    shown = []

    def send(data):
        answer = attendance.stream_frame(world["user"], challenge.nonce, data)
        if answer.get("prompt", {}).get("action") == "colour":
            shown.append(answer["prompt"]["colour"])
        return answer

    assert respond(send)["phase"] == "done"
    colours = [c["colour"] for c in db.session.get(CheckInChallenge, challenge.id).state["colours"]]
    assert [c for i, c in enumerate(shown) if i == 0 or c != shown[i - 1]] == colours


def test_the_colour_step_follows_the_configuration_and_the_kiosk(world, app):
    assert "colour" in attendance.start_check(world["user"], "check_in").state["actions"]
    facing, _secret = kiosks.create_kiosk(world["admin"], "一号机", world["class"].institution_id, "实训楼 201")
    away, _secret = kiosks.create_kiosk(world["admin"], "二号机", world["class"].institution_id, "实训楼 201",
                                        screen_facing=False)
    assert "colour" in attendance.start_check(None, "check_in", kiosk=facing).state["actions"]
    assert "colour" not in attendance.start_check(None, "check_in", kiosk=away).state["actions"]
    app.config["LIVENESS_COLOUR"] = False
    assert "colour" not in attendance.start_check(world["user"], "check_out").state["actions"]


def test_a_risky_check_in_holds_the_minutes_of_its_interval(world):
    """The page reported a virtual camera at check-in: the check stands, the minutes wait."""
    check_in = check(world["user"], "check_in", "OBS Virtual Camera", False)
    assert check_in.accepted
    row = verification(check_in)
    assert row.risk_score >= 50 and "virtual_camera" in row.risk_reasons
    backdate_check_in(30)
    out = check(world["user"], "check_out", "Integrated Camera", True)
    assert out.accepted and out.minutes_credited == 30, out
    db.session.rollback()
    item = db.session.scalar(select(HeldHours))
    assert item is not None and item.minutes == 30 and "virtual_camera" in item.reasons
    progress = hours.progress(db.session, world["class"].enrolments[0])
    assert (progress.credited, progress.held, progress.net) == (30, 30, 0)
    assert "虚拟摄像头" in held_hours.mine(world["user"])[0]["reasons"][0]


def test_a_clean_check_credits_its_minutes(world):
    check_in = check(world["user"], "check_in", "Integrated Camera", False)
    assert check_in.accepted and verification(check_in).risk_score < 50
    backdate_check_in(30)
    out = check(world["user"], "check_out", "Integrated Camera", True)
    assert out.accepted and out.minutes_credited == 30
    assert count(HeldHours) == 0
    assert hours.progress(db.session, world["class"].enrolments[0]).net == 30


def test_a_reaction_faster_than_a_person_and_re_rolls_are_scored(world, app):
    """The state's timings (stamped by the server) and the challenges left before this one reach
    the score; with the limits as in production."""
    app.config["RISK_MIN_REACTION_SECONDS"] = 0.15
    for _ in range(2):  # started and left unanswered
        attendance.start_check(world["user"], "check_in")
    nonce = answer_paced(world["user"], "check_in", camera_label="Integrated Camera")
    set_state(nonce, reactions=[0.6, 0.05, 0.8])
    attempt = attendance.check_personal(world["user"], "check_in", nonce, [], "pytest")
    assert attempt.accepted
    row = verification(attempt)
    assert {"reaction_too_fast", "rerolled_challenges"} <= set(row.risk_reasons), row.risk_reasons
    assert row.risk_score >= 60


@pytest.mark.parametrize("label, reasons", [
    ("OBS Virtual Camera", ["virtual_camera"]), ("ManyCam Virtual Webcam", ["virtual_camera"]),
    ("XSplit VCam", ["virtual_camera"]), ("Snap Camera", ["virtual_camera"]), ("e2eSoft VCam", ["virtual_camera"]),
    ("Integrated Camera (04f2:b6dd)", []), ("FaceTime HD Camera", []), ("", ["no_camera_label"]),
    (None, ["no_camera_label"])])
def test_risk_camera_labels(label, reasons):
    assert risk.camera_reasons(label) == reasons


def test_risk_signals_fire_in_their_bands_only():
    clean = risk.RiskSignals(camera_label="USB Camera", replay_distance=60, colour_strength=0.3, reactions=[0.4, 0.7],
                             arrivals=[0.0, 0.31, 0.55, 0.9, 1.12, 1.5, 1.71, 2.05, 2.3, 2.66], margin=0.3,
                             distance=0.3, threshold=0.58, rerolls=1)
    assert risk.assess(clean) == (0, [])
    cases = {
        "replay_near_miss": {"replay_distance": 30},
        "weak_colour_response": {"colour_strength": 0.1},
        "reaction_too_fast": {"reactions": [0.4, 0.1]},
        "frames_too_regular": {"arrivals": [0.25 * i for i in range(10)]},
        "small_identification_margin": {"margin": 0.07},
        "near_match_threshold": {"distance": 0.55},
        "rerolled_challenges": {"rerolls": 2},
        "virtual_camera": {"camera_label": "OBS Virtual Camera"},
    }
    for reason, change in cases.items():
        score, reasons = risk.assess(risk.RiskSignals(**{**clean.__dict__, **change}))
        assert reasons == [reason] and score == risk.WEIGHTS[reason], (reason, reasons)
    assert risk.assess(risk.RiskSignals(**{**clean.__dict__, "replay_distance": 24}))[1] == []  # refused, not risky
    everything = {k: v for change in cases.values() for k, v in change.items()}
    assert risk.assess(risk.RiskSignals(**{**clean.__dict__, **everything}))[0] == 100


def test_risk_timing_signals_can_be_turned_off():
    limits = risk.RiskLimits(min_reaction=0.0, regular_frames=0.0)
    assert risk.timing_reasons([0.01], [0.25 * i for i in range(12)], limits) == []
