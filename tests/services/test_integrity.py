"""`flask audit verify` names every record changed behind the application's back: a ledger
entry's minutes, an interval's end, a verification's decision, a statement deleted from the
LRS, and audit entries reordered, deleted or edited."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditEntry, HoursEntry, PresenceInterval, Role
from app.models.base import utcnow
from app.services import attendance
from app.services.integrity import check_integrity
from tests.attendance_helpers import running_class
from tests.factories import arrange_confirmed_alternative, make_trainee, make_user
from tests.tamper import behind_the_back


@pytest.fixture
def day(app):
    """A trainee checked in and out by ID card: verifications, an interval, a credit and their
    statements, all written by the real services."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    trainee = make_trainee("张甲", actor=admin)
    running_class(admin, instructor, [trainee])
    arrange_confirmed_alternative(admin, trainee.id, "本人拒绝人脸识别")
    assert attendance.check_alternative(instructor, trainee.id, "check_in").accepted
    db.session.execute(update(PresenceInterval).values(opened_at=utcnow() - timedelta(minutes=25)))
    db.session.commit()
    out = attendance.check_alternative(instructor, trainee.id, "check_out")
    assert out.accepted and out.minutes_credited >= 24, out
    db.session.rollback()
    return db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == out.interval_id))


def verify(runner, clean: bool):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == (0 if clean else 1), result.output
    return result.output


def test_clean_records_verify(day, runner):
    output = verify(runner, clean=True)
    assert "audit chain intact" in output and "agree" in output
    assert check_integrity(db.session).is_clean


def test_changed_ledger_minutes_are_named(app, day, runner):
    entry_id, minutes, statement_id = day.id, day.minutes, day.statement_id
    behind_the_back(app, "UPDATE hours_ledger SET minutes = minutes - 5 WHERE id = :id", id=entry_id)
    output = verify(runner, clean=False)
    assert f"ledger entry {entry_id}: {minutes - 5} minutes, its statement {statement_id} says {minutes}" in output


def test_changed_interval_end_is_named(app, day, runner):
    interval = db.session.get(PresenceInterval, day.interval_id)
    behind_the_back(app, "UPDATE presence_intervals SET closed_at = :t WHERE id = :id",
                    t=interval.closed_at + timedelta(hours=2), id=interval.id)
    assert f"interval {interval.id}: closed_at changed" in verify(runner, clean=False)


def test_interval_end_moved_before_its_credit_is_named(app, day, runner):
    interval = db.session.get(PresenceInterval, day.interval_id)
    behind_the_back(app, "UPDATE presence_intervals SET closed_at = :t WHERE id = :id",
                    t=interval.closed_at - timedelta(minutes=20), id=interval.id)
    output = verify(runner, clean=False)
    assert f"interval {interval.id}: closed_at changed" in output
    assert f"ledger entry {day.id}: {day.minutes} minutes exceed the verified time of interval {interval.id}" in output


def test_changed_verification_decision_is_named(app, day, runner):
    verification_id = db.session.get(PresenceInterval, day.interval_id).check_out_verification_id
    behind_the_back(app, "UPDATE face_verifications SET decision = 'refused' WHERE id = :id", id=verification_id)
    output = verify(runner, clean=False)
    assert f"verification {verification_id}: refused at" in output and "says accepted" in output


def test_statement_deleted_from_the_lrs_is_named(app, day, runner):
    pk = "(SELECT pk FROM lrs_statements WHERE id = :id)"
    for table in ("lrs_statement_agents", "lrs_statement_activities"):
        behind_the_back(app, f"DELETE FROM {table} WHERE statement_pk = {pk}", id=day.statement_id)
    assert behind_the_back(app, "DELETE FROM lrs_statements WHERE id = :id", id=day.statement_id) == 1
    output = verify(runner, clean=False)
    assert f"credit statement {day.statement_id} of ledger entry {day.id} is missing from the LRS" in output
    assert "audit entry" not in output


def test_reordered_audit_entries_are_named(app, day, runner):
    for old, new in ((2, 1_000_002), (3, 2), (1_000_002, 3)):
        behind_the_back(app, "UPDATE audit_entries SET seq = :new WHERE seq = :old", old=old, new=new)
    output = verify(runner, clean=False)
    assert "audit entry 2: out of order: it links to entry 3, which comes after it" in output
    assert "audit entry 3: out of order" in output and "audit entry 1:" not in output


def test_deleted_audit_entry_is_named(app, day, runner):
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq = 3")
    output = verify(runner, clean=False)
    assert "audit entry 4: missing entry between 2 and 4" in output
    assert "audit entry 4: previous-hash" not in output and "audit entry 5" not in output


def test_edited_audit_payload_is_named(app, day, runner):
    behind_the_back(app, "UPDATE audit_entries SET payload = :p WHERE seq = 1", p=json.dumps({"name": "别人"}))
    output = verify(runner, clean=False)
    assert "audit entry 1: payload edited" in output
    assert "audit entry 2" not in output


def test_audit_entries_cut_from_the_end_are_named(app, day, runner):
    entry_id, interval_id = day.id, day.interval_id
    last = db.session.scalar(select(func.max(AuditEntry.seq)))
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq >= :seq", seq=last - 1)  # hours.credited, presence.closed
    output = verify(runner, clean=False)
    assert "audit entry" not in output  # the chain that is left verifies
    assert f"ledger entry {entry_id}: has no entry in the audit log" in output
    assert f"interval {interval_id}:" not in output  # presence.opened is still there
