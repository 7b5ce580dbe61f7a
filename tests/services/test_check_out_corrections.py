"""A forgotten check-out: the scheduler's close says why, the reminder lists who is still in, and
an instructor's correction (reason and evidence) is a separate, reconciled, counted-apart credit."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import AuditEntry, HoursEntry, PresenceInterval, Role, VerificationMode
from app.queries.attendance import list_missed_check_outs, list_not_checked_out
from app.services import hours
from app.services.check_out_corrections import correct_missed_check_out
from app.services.reconciliation import find_differences
from tests.attendance_helpers import paced_check, running_class, trainee_with_face
from tests.factories import make_catalogue, make_user


@pytest.fixture
def day(app, faces_dir):
    """张伟 checked in to a session that started 30 minutes ago and ends in 60, and never checks out."""
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1", name="张伟")
    klass = running_class(admin, instructor, [trainee], minutes=90)
    assert paced_check(user, "check_in").accepted
    db.session.rollback()
    return admin, instructor, trainee, klass, db.session.get(type(klass), klass.id).sessions[0]


def _ledger():
    db.session.rollback()
    return db.session.scalars(select(HoursEntry).order_by(HoursEntry.at)).all()


def test_reminder_then_the_scheduler_closes_with_a_reason(day):
    _admin, _instructor, trainee, klass, cs = day
    assert list_not_checked_out(db.session, cs.ends_at - timedelta(minutes=45), class_id=klass.id) == []
    reminded = list_not_checked_out(db.session, cs.ends_at - timedelta(minutes=20), class_id=klass.id)
    assert [(t.name, s.id) for t, s in reminded] == [("张伟", cs.id)]
    assert list_not_checked_out(db.session, cs.ends_at - timedelta(minutes=20), trainee_id=trainee.id)
    assert hours.close_stale_intervals(now=cs.ends_at + timedelta(minutes=16)) == 1
    [entry] = _ledger()
    interval = db.session.scalar(select(PresenceInterval))
    assert interval.close_reason == entry.reason == "no_check_out"
    assert "系统" in hours.close_reason_words(entry.reason)
    assert list_not_checked_out(db.session, cs.ends_at, class_id=klass.id) == []
    assert [t.name for _i, t in list_missed_check_outs(db.session, klass.id)] == ["张伟"]
    assert find_differences(db.session)[1] == []  # the system's close has its "checked-out" statement


def test_an_instructor_corrects_a_missed_check_out_counted_apart(day):
    admin, instructor, trainee, klass, cs = day
    hours.close_stale_intervals(now=cs.ends_at + timedelta(minutes=16))
    missed = db.session.scalar(select(PresenceInterval))
    later = cs.ends_at + timedelta(minutes=20)
    left = cs.ends_at - timedelta(minutes=5)
    correction = correct_missed_check_out(instructor, missed.id, left, "忘记签退", "签到表第 2 页，王老师见证",
                                          now=later)
    db.session.rollback()
    entries = _ledger()
    assert [e.mode for e in entries] == [VerificationMode.PERSONAL, VerificationMode.CORRECTION]
    corrected = entries[1]
    assert corrected.reason == "corrected" and corrected.interval_id == correction.id
    assert corrected.minutes == int((left - missed.last_verified_at).total_seconds() // 60)
    enrolment = db.session.get(PresenceInterval, correction.id).enrolment
    progress = hours.progress(db.session, enrolment)
    assert progress.corrected == corrected.minutes and progress.alternative == 0
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "presence.corrected"))
    assert audit.payload["evidence"] == "签到表第 2 页，王老师见证" and audit.actor == "instructor"
    assert list_missed_check_outs(db.session, klass.id) == []
    assert find_differences(db.session)[1] == []
    with pytest.raises(ConflictError):  # once only
        correct_missed_check_out(instructor, missed.id, left, "再来", "证据", now=later)
    with pytest.raises(ConflictError):  # a correction is not itself corrected
        correct_missed_check_out(instructor, correction.id, left, "再来", "证据", now=later)


def test_refused_corrections_change_nothing(day):
    admin, _instructor, _trainee, _klass, cs = day
    hours.close_stale_intervals(now=cs.ends_at + timedelta(minutes=16))
    missed = db.session.scalar(select(PresenceInterval))
    other_institution, _o, _p = make_catalogue(admin)
    stranger = make_user(Role.INSTRUCTOR, "stranger", institution=other_institution)
    later, left = cs.ends_at + timedelta(minutes=20), cs.ends_at - timedelta(minutes=5)
    before = _ledger()
    with pytest.raises(PermissionDeniedError):
        correct_missed_check_out(stranger, missed.id, left, "忘记签退", "签到表", now=later)
    for when, reason, evidence in ((left, "", "签到表"), (left, "忘记签退", ""),
                                   (cs.ends_at + timedelta(minutes=10), "忘记签退", "签到表"),
                                   (missed.last_verified_at, "忘记签退", "签到表")):
        with pytest.raises(ValidationError):
            correct_missed_check_out(admin, missed.id, when, reason, evidence, now=later)
    assert len(_ledger()) == len(before)
    assert db.session.scalar(select(func.count()).select_from(PresenceInterval)) == 1
