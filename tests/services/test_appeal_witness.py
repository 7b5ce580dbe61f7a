"""The witnessed face check of an appeal approval: the instructor runs a real server-paced check
of the trainee on their own device, and only a passed check (1:1 against the trainee's template)
approves; it is recorded as a face verification linked to the appeal. A failed or absent check,
a check the trainee started themself, another institution's instructor and a second decision at
once are refused with nothing credited."""
import threading
from datetime import timedelta

import flask
import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import (Appeal, AppealStatus, Decision, FaceVerification, HoursEntry, Purpose, Role, User,
                        VerificationMode)
from app.models.base import utcnow
from app.services import appeals
from tests.attendance_helpers import answer_paced, respond, running_class, still_photo, trainee_with_face
from tests.factories import make_catalogue, make_user


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "student1")
    start = utcnow() - timedelta(minutes=120)
    klass = running_class(admin, instructor, [trainee], start=start, minutes=100)
    appeal = appeals.file_appeal(user, klass.enrolments[0].id, klass.sessions[0].id, "check_in", "face",
                                 "戴了新眼镜，人脸一直不通过", start + timedelta(minutes=10), start + timedelta(minutes=70))
    return {"admin": admin, "instructor": instructor, "user": user, "appeal": appeal}


def _witness(world, instructor=None, frames=None) -> str:
    """Start the witnessed check and answer it (as a live person, or with ``frames`` blindly)."""
    instructor = instructor or world["instructor"]
    nonce = appeals.start_witnessed_check(instructor, world["appeal"].id).nonce

    def send(data):
        return appeals.witness_frame(instructor, world["appeal"].id, nonce, data)
    if frames is None:
        respond(send)
    else:
        for data in frames:
            if send(data)["phase"] in ("done", "failed", "expired"):
                break
    return nonce


def _state():
    db.session.rollback()
    appeal = db.session.scalar(select(Appeal))
    credited = db.session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)))
    return appeal, credited


def test_a_passed_witnessed_check_approves_and_is_linked_as_evidence(world):
    nonce = _witness(world)
    decided = appeals.decide_appeal(world["instructor"], world["appeal"].id, True, "witnessed_face", "当面核验",
                                    nonce=nonce, device="pytest")
    appeal, credited = _state()
    assert decided.status == AppealStatus.APPROVED and credited == 60
    verification = db.session.get(FaceVerification, appeal.witness_verification_id)
    assert (verification.purpose, verification.mode, verification.decision) == (
        Purpose.WITNESS, VerificationMode.APPEAL, Decision.ACCEPTED)
    assert verification.actor_id == world["instructor"].id and verification.distance is not None
    with pytest.raises(ConflictError):  # the check cannot approve twice
        appeals.decide_appeal(world["instructor"], world["appeal"].id, True, "witnessed_face", "再来", nonce=nonce)


def test_a_failed_witnessed_check_approves_nothing_and_is_kept(world):
    nonce = _witness(world, frames=still_photo() * 20)
    with pytest.raises(ConflictError) as refused:
        appeals.decide_appeal(world["instructor"], world["appeal"].id, True, "witnessed_face", "当面核验", nonce=nonce)
    assert refused.value.code == "witness_failed"
    appeal, credited = _state()
    assert appeal.status == AppealStatus.PENDING and credited == 0 and appeal.interval_id is None
    verification = db.session.get(FaceVerification, appeal.witness_verification_id)
    assert verification.decision == Decision.REFUSED and verification.reason


def test_no_check_or_the_trainees_own_check_cannot_approve(world):
    with pytest.raises(ValidationError):
        appeals.decide_appeal(world["instructor"], world["appeal"].id, True, "witnessed_face", "看过了")
    own = answer_paced(world["user"])  # a check the trainee ran alone, not the witnessed one
    with pytest.raises(NotFoundError):
        appeals.decide_appeal(world["instructor"], world["appeal"].id, True, "witnessed_face", "看过了", nonce=own)
    appeal, credited = _state()
    assert appeal.status == AppealStatus.PENDING and credited == 0 and appeal.witness_verification_id is None


def test_another_institutions_instructor_cannot_start_or_stream(world):
    outsider = make_user(Role.INSTRUCTOR, username="outsider")
    institution, _occ, _programme = make_catalogue(world["admin"])
    outsider.institution_id = institution.id
    db.session.commit()
    with pytest.raises(PermissionDeniedError):
        appeals.start_witnessed_check(outsider, world["appeal"].id)
    nonce = appeals.start_witnessed_check(world["instructor"], world["appeal"].id).nonce
    with pytest.raises(PermissionDeniedError):
        appeals.witness_frame(outsider, world["appeal"].id, nonce, still_photo()[0])
    assert _state()[0].status == AppealStatus.PENDING


def test_two_decisions_at_once_one_stands(world):
    second = make_user(Role.INSTRUCTOR, username="second")
    second.institution_id = world["instructor"].institution_id
    db.session.commit()
    nonce = _witness(world)
    app = flask.current_app._get_current_object()
    barrier, outcomes = threading.Barrier(2), []

    def decide(user_id, approve):
        with app.app_context():
            try:
                barrier.wait()
                appeals.decide_appeal(db.session.get(User, user_id), world["appeal"].id, approve,
                                      "witnessed_face" if approve else "", "决定", nonce=nonce)
                outcomes.append("decided")
            except ConflictError:
                outcomes.append("conflict")
            except Exception as exc:  # noqa: BLE001 - reported below
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    workers = [threading.Thread(target=decide, args=(world["instructor"].id, True)),
               threading.Thread(target=decide, args=(second.id, False))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert sorted(outcomes) == ["conflict", "decided"], outcomes
    appeal, credited = _state()
    assert credited == (60 if appeal.status == AppealStatus.APPROVED else 0)
