"""Face-verified check-in and check-out on real faces (talking_head.mp4 as the live person):
every refusal recorded with its reason and no hours, lock-outs, kiosks, the ID-card alternative,
concurrent check-ins making one interval, and the xAPI statements written in the same commit."""
import threading

import flask
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.errors.exceptions import ValidationError
from app.extensions import db
from app.models import (AuditEntry, CheckInChallenge, Decision, FaceVerification, HoursEntry,
                        PresenceInterval, Role)
from app.models.base import utcnow
from app.services import attendance, kiosks
from app.services._tx import transaction
from app.services.audit import verify_chain
from app.services.consent import arrange_alternative_verification, confirm_alternative_verification
from lrs.storage.tables import Statement
from tests.attendance_helpers import live_frames, running_class, still_photo, trainee_with_face
from tests.factories import make_user


@pytest.fixture
def world(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    klass = running_class(admin, instructor, [trainee])
    return {"admin": admin, "instructor": instructor, "user": user, "trainee": trainee, "class": klass}


def check(user, purpose="check_in", frames=None, nonce=None):
    challenge = attendance.issue_challenge(user, purpose)
    return attendance.check_personal(user, purpose, nonce or challenge.nonce,
                                     frames if frames is not None else live_frames(challenge.action), "pytest")


def fresh(model, *where):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def statement(statement_id):
    db.session.rollback()
    return db.session.scalar(select(Statement).where(Statement.id == statement_id))


def test_check_in_and_out_records_interval_ledger_statements_and_audit(world):
    attempt = check(world["user"])
    assert attempt.accepted, attempt
    interval = db.session.get(PresenceInterval, attempt.interval_id)
    assert interval.open_slot == world["trainee"].id and interval.closed_at is None
    # the check-in 20 minutes ago (the session began 30 minutes ago)
    db.session.execute(update(PresenceInterval).where(PresenceInterval.id == interval.id)
                       .values(opened_at=utcnow() - timedelta(minutes=20)))
    db.session.commit()
    out = check(world["user"], "check_out")
    assert out.accepted and out.minutes_credited in (19, 20), out
    db.session.rollback()
    interval = db.session.get(PresenceInterval, attempt.interval_id)
    assert interval.status == "closed" and interval.open_slot is None
    entry = db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == interval.id))
    assert entry.minutes == out.minutes_credited and entry.kind == "theory"
    enrolment_id = str(interval.enrolment_id)
    for sid in (interval.check_in_statement_id, interval.check_out_statement_id, entry.statement_id):
        stored = statement(sid)
        assert stored is not None
        assert stored.payload["context"]["registration"] == enrolment_id
        assert str(stored.registration) == enrolment_id
        assert stored.payload["context"]["contextActivities"]["parent"][0]["id"].endswith(str(world["class"].id))
    assert statement(entry.statement_id).payload["result"]["duration"].startswith("PT0H")
    verification = db.session.get(FaceVerification, out.verification_id)
    ver_statement = statement(verification.statement_id).payload
    ext = ver_statement["context"]["extensions"]
    assert any(k.endswith("face-distance") and v == verification.distance for k, v in ext.items())
    assert any(k.endswith("device") and v == "pytest" for k, v in ext.items())
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"attendance.verified", "presence.opened", "presence.closed", "hours.credited"} <= actions
    assert verify_chain(db.session) == []


def _refused(attempt, reason):
    assert not attempt.accepted and attempt.reason == reason, attempt
    verification = db.session.get(FaceVerification, attempt.verification_id)
    assert verification.decision == Decision.REFUSED and verification.reason == reason
    assert statement(verification.statement_id).payload["result"]["success"] is False
    assert fresh(HoursEntry) == 0
    assert fresh(AuditEntry, AuditEntry.action == "attendance.refused") >= 1


def test_replayed_nonce_is_refused(world):
    challenge = attendance.issue_challenge(world["user"], "check_in")
    frames = live_frames(challenge.action)
    assert attendance.check_personal(world["user"], "check_in", challenge.nonce, frames).accepted
    _refused(attendance.check_personal(world["user"], "check_in", challenge.nonce, frames), "nonce_used")


def test_expired_and_unknown_nonce_are_refused(world):
    challenge = attendance.issue_challenge(world["user"], "check_in")
    with transaction() as session:
        session.execute(update(CheckInChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    _refused(attendance.check_personal(world["user"], "check_in", challenge.nonce,
                                       live_frames(challenge.action)), "nonce_expired")
    _refused(check(world["user"], nonce="not-a-nonce"), "unknown_nonce")


def test_still_photo_fails_liveness(world):
    attempt = check(world["user"], frames=still_photo())
    _refused(attempt, "frames_identical")
    verification = db.session.get(FaceVerification, attempt.verification_id)
    assert verification.liveness_passed is False


def test_wrong_action_fails_liveness(world):
    challenge = attendance.issue_challenge(world["user"], "check_in")
    frames = {"blink": live_frames("no_blink"), "turn_left": live_frames("turn_right"),
              "turn_right": live_frames("turn_left")}[challenge.action]
    _refused(attendance.check_personal(world["user"], "check_in", challenge.nonce, frames), "liveness_failed")


def test_another_persons_face_is_refused(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    photos = [(faces_dir / n).read_bytes() for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    user, trainee = trainee_with_face(admin, "obama", "王强", frames=photos)
    running_class(admin, instructor, [trainee])
    attempt = check(user)
    _refused(attempt, "face_mismatch")
    assert attempt.distance is not None and attempt.distance > 0.58


def test_class_not_running_is_refused(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    running_class(admin, instructor, [trainee], status="submitted")
    _refused(check(user), "class_not_running")


def test_day_one_an_approved_class_opens_with_the_first_check_in_window(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    klass = running_class(admin, instructor, [trainee], start=utcnow() + timedelta(minutes=10),
                          status="approved")  # the scheduler has not started it yet
    assert check(user).accepted
    db.session.rollback()
    assert db.session.get(type(klass), klass.id).status.value == "running"
    assert db.session.scalar(select(AuditEntry.actor).where(
        AuditEntry.action == "class.started", AuditEntry.object_id == str(klass.id))) == "system"


def test_outside_window_is_refused(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    running_class(admin, instructor, [trainee], start=utcnow() + timedelta(minutes=40))
    _refused(check(user), "outside_window")


def test_check_in_within_tolerance_before_start_is_accepted(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    running_class(admin, instructor, [trainee], start=utcnow() + timedelta(minutes=10))
    assert check(user).accepted


def test_check_out_without_check_in_is_refused(world):
    _refused(check(world["user"], "check_out"), "not_checked_in")


def test_present_in_another_class_is_refused(world):
    second = running_class(world["admin"], world["instructor"], [world["trainee"]], place="车间")
    assert second.id != world["class"].id
    assert check(world["user"]).accepted
    attempt = check(world["user"])
    assert not attempt.accepted and attempt.reason in ("already_checked_in", "present_elsewhere")
    assert fresh(PresenceInterval) == 1


def test_repeated_failures_lock_out_until_an_instructor_unlocks(world):
    for _ in range(5):
        assert check(world["user"], frames=still_photo()).reason == "frames_identical"
    assert attendance.is_locked_out(world["trainee"].id)
    attempt = check(world["user"])  # a good face is refused while locked
    assert attempt.reason == "locked_out"
    with pytest.raises(ValidationError):
        attendance.unlock_trainee(world["instructor"], world["trainee"].id, "")
    attendance.unlock_trainee(world["instructor"], world["trainee"].id, "本人在场，已核对身份证")
    assert not attendance.is_locked_out(world["trainee"].id)
    assert check(world["user"]).accepted
    assert fresh(AuditEntry, AuditEntry.action == "attendance.unlocked") == 1
    assert fresh(AuditEntry, AuditEntry.action == "attendance.locked_out") == 1


def test_kiosk_identifies_trainee_among_the_roster_at_its_site(world):
    kiosk, secret = kiosks.create_kiosk(world["admin"], "一号机", world["class"].institution_id, "实训楼 201")
    assert kiosks.authenticate_kiosk(kiosk.key, secret).id == kiosk.id
    challenge = attendance.issue_challenge(None, "check_in", kiosk=kiosk)
    attempt = attendance.check_at_kiosk(kiosk, "check_in", challenge.nonce, live_frames(challenge.action), "kiosk")
    assert attempt.accepted and attempt.trainee_id == world["trainee"].id, attempt
    verification = db.session.get(FaceVerification, attempt.verification_id)
    assert verification.mode == "kiosk" and verification.kiosk_id == kiosk.id


def test_kiosk_at_another_site_is_refused(world):
    kiosk, _secret = kiosks.create_kiosk(world["admin"], "二号机", world["class"].institution_id, "另一校区")
    challenge = attendance.issue_challenge(None, "check_in", kiosk=kiosk)
    attempt = attendance.check_at_kiosk(kiosk, "check_in", challenge.nonce, live_frames(challenge.action),
                                        "kiosk", class_id=world["class"].id)
    assert not attempt.accepted and attempt.reason == "wrong_site", attempt
    assert fresh(PresenceInterval) == 0 and fresh(HoursEntry) == 0


def test_alternative_id_card_check_is_recorded_and_counted_separately(world):
    trainee = world["trainee"]
    refused = attendance.check_alternative(world["instructor"], trainee.id, "check_in")
    assert refused.reason == "no_arrangement"
    arrangement = arrange_alternative_verification(world["admin"], trainee.id, "本人拒绝人脸识别")
    pending = attendance.check_alternative(world["instructor"], trainee.id, "check_in", "身份证核验")
    assert pending.reason == "no_arrangement"  # not before a reviewer confirms it
    assert fresh(PresenceInterval) == 0
    confirm_alternative_verification(make_user(Role.REVIEWER, username="second-person"), arrangement.id)
    attempt = attendance.check_alternative(world["instructor"], trainee.id, "check_in", "身份证核验")
    assert attempt.accepted
    db.session.execute(update(PresenceInterval).values(opened_at=utcnow() - timedelta(minutes=20)))
    db.session.commit()
    out = attendance.check_alternative(world["instructor"], trainee.id, "check_out")
    assert out.accepted
    db.session.rollback()
    entry = db.session.scalar(select(HoursEntry))
    assert entry.mode == "alternative"


@pytest.mark.parametrize("threads", [4])
def test_concurrent_check_ins_make_one_interval(world, threads):
    user = world["user"]
    challenges = [attendance.issue_challenge(user, "check_in") for _ in range(threads)]
    frames = [live_frames(c.action) for c in challenges]
    app = flask.current_app._get_current_object()
    barrier = threading.Barrier(threads)
    results, errors = [], []

    def run(i):
        with app.app_context():
            try:
                barrier.wait()
                results.append(attendance.check_personal(db.session.get(type(user), user.id), "check_in",
                                                         challenges[i].nonce, frames[i], f"thread {i}"))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors, errors
    assert sum(r.accepted for r in results) == 1, results
    # The losers of the race are told the trainee is already present. (A shared dlib detector
    # once made a live burst look like "different_faces" here; each thread now has its own.)
    assert {r.reason for r in results if not r.accepted} <= {"already_checked_in"}
    assert fresh(PresenceInterval) == 1


def test_kiosk_with_a_malformed_class_id_is_refused_not_an_error(world):
    kiosk, _secret = kiosks.create_kiosk(world["admin"], "三号机", world["class"].institution_id, "实训楼 201")
    challenge = attendance.issue_challenge(None, "check_in", kiosk=kiosk)
    attempt = attendance.check_at_kiosk(kiosk, "check_in", challenge.nonce, live_frames(challenge.action),
                                        "kiosk", class_id="not-a-uuid")
    assert not attempt.accepted and attempt.reason == "wrong_site", attempt
