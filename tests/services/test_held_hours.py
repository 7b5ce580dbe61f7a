"""Held hours (issue 16) on real faces: a failed roll-call followed by a pass holds the study's
credit (not counted in progress), the trainee sees why in words, an instructor of the class
accepts or rejects it with a reason (audited, with a statement; a rejection is a reversal), an
instructor of another institution cannot decide, and of two decisions at once exactly one stands."""
import threading
from datetime import timedelta

import flask
import pytest
from sqlalchemy import select, update

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import (AuditEntry, EntryType, HeldHours, HeldStatus, HoursEntry, Role,
                        StudyState, User)
from app.models.base import utcnow
from app.services import held_hours, hours
from app.services._tx import transaction
from app.services.reconciliation import reconcile
from lrs.storage.tables import Statement
from tests.attendance_helpers import backdate_check_in, running_class, still_photo, trainee_with_face
from tests.factories import make_catalogue, make_user
from tests.services.test_study import _due_roll_call, face


@pytest.fixture
def held(app, faces_dir):
    # test policy: one clip answers every face check here, so the replay memory is off (it would
    # refuse the second live check); replayed roll-calls are refused in test_paced_roll_calls.py
    app.config["LIVENESS_RELAX"] = ("replay",)
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "student1")
    klass = running_class(admin, instructor, [trainee], start=utcnow() - timedelta(minutes=120),
                          minutes=240, online=True)
    world = {"admin": admin, "instructor": instructor, "user": user, "trainee": trainee, "class": klass}
    assert face(user, "check_in").accepted
    _due_roll_call(world)
    assert not face(user, "roll_call", still_photo()).accepted     # a photo fails the roll-call
    assert face(user, "roll_call").accepted                        # then a live face passes
    with transaction() as session:
        session.execute(update(StudyState).values(counted_seconds=20 * 60 + 5))
    backdate_check_in(30)  # the interval, its check-in verification and statement move together
    out = face(user, "check_out")
    assert out.accepted and out.minutes_credited == 20, out
    db.session.rollback()
    world["item"] = db.session.scalar(select(HeldHours))
    return world


def _progress(world):
    db.session.rollback()
    return hours.progress(db.session, world["class"].enrolments[0])


def test_a_failed_then_passed_roll_call_holds_the_credit(held):
    item = held["item"]
    assert item is not None and item.status == HeldStatus.PENDING and item.minutes == 20
    assert item.reasons == ["roll_call_failed_then_passed"]
    progress = _progress(held)
    assert (progress.credited, progress.held, progress.net) == (20, 20, 0)   # not counted yet
    mine = held_hours.mine(held["user"])
    assert mine[0]["reasons"] == ["有一次人脸点名未通过或未应答，之后的点名又通过了。"]
    assert reconcile().is_clean


def test_an_instructor_of_another_institution_cannot_decide(held):
    outsider = make_user(Role.INSTRUCTOR, username="outsider")
    institution, _occ, _programme = make_catalogue(held["admin"])
    outsider.institution_id = institution.id
    db.session.commit()
    with pytest.raises(PermissionDeniedError):
        held_hours.decide(outsider, [held["item"].id], True, "看着没问题")
    with pytest.raises(PermissionDeniedError):
        held_hours.queue(outsider, held["class"].id)
    with pytest.raises(ConflictError):      # nor can anyone reverse it behind the queue's back
        hours.reverse_entry(held["instructor"], held["item"].entry_id, "绕过审核")
    db.session.rollback()
    assert db.session.get(HeldHours, held["item"].id).status == HeldStatus.PENDING
    assert _progress(held).net == 0


def test_accepting_counts_the_minutes_with_an_audit_entry_and_a_statement(held):
    with pytest.raises(ValidationError):
        held_hours.decide(held["instructor"], [held["item"].id], True, "  ")
    assert held_hours.decide(held["instructor"], [held["item"].id], True, "本人在场，已电话核实") == 1
    db.session.rollback()
    item = db.session.get(HeldHours, held["item"].id)
    assert item.status == HeldStatus.ACCEPTED and item.decided_by_id == held["instructor"].id
    assert _progress(held).net == 20
    stored = db.session.scalar(select(Statement).where(Statement.id == item.decision_statement_id))
    assert stored.payload["verb"]["id"].endswith("accepted-held-hours")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "hours.held_accepted")) is not None
    with pytest.raises(ConflictError):
        held_hours.decide(held["instructor"], [held["item"].id], False, "改主意")
    assert reconcile().is_clean


def test_rejecting_reverses_the_credit(held):
    held_hours.decide(held["instructor"], [held["item"].id], False, "点名照片作弊")
    db.session.rollback()
    rows = db.session.scalars(select(HoursEntry).order_by(HoursEntry.at)).all()
    assert [(r.entry_type, r.minutes) for r in rows] == [(EntryType.CREDIT, 20), (EntryType.REVERSAL, -20)]
    assert rows[1].reason == "点名照片作弊"
    progress = _progress(held)
    assert (progress.held, progress.net) == (0, 0)
    assert reconcile().is_clean


def test_two_instructors_deciding_at_once_one_decision_stands(held):
    second = make_user(Role.INSTRUCTOR, username="second")
    second.institution_id = held["instructor"].institution_id
    db.session.commit()
    app = flask.current_app._get_current_object()
    barrier, outcomes = threading.Barrier(2), []

    def decide(user_id, accept):
        with app.app_context():
            try:
                barrier.wait()
                held_hours.decide(db.session.get(User, user_id), [held["item"].id], accept, "决定")
                outcomes.append("decided")
            except ConflictError:
                outcomes.append("conflict")
            except Exception as exc:  # noqa: BLE001 - reported below
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    workers = [threading.Thread(target=decide, args=(held["instructor"].id, True)),
               threading.Thread(target=decide, args=(second.id, False))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sorted(outcomes) == ["conflict", "decided"], outcomes
    db.session.rollback()
    item = db.session.get(HeldHours, held["item"].id)
    reversals = db.session.scalars(select(HoursEntry).where(HoursEntry.entry_type == EntryType.REVERSAL)).all()
    assert len(reversals) == (1 if item.status == HeldStatus.REJECTED else 0)
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("hours.held_%ed"))).all()) == 1
