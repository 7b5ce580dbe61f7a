"""The hours ledger: window clipping, 45-minute 课时 rounding down, the daily cap, reversals as
new entries (the ledger refuses updates and deletes), progress, and closing stale intervals."""
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import (ClassSession, EntryType, HoursEntry, IntervalStatus, LedgerIsAppendOnly,
                        PresenceInterval, Role, VerificationMode)
from app.models.base import utcnow
from app.services import hours
from app.services._tx import transaction
from tests.attendance_helpers import running_class
from tests.hour_rule_helpers import set_rule
from tests.factories import make_trainee, make_user


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    trainee = make_trainee(actor=admin)
    start = utcnow() - timedelta(hours=10)
    klass = running_class(admin, instructor, [trainee], start=start, minutes=600)
    return {"admin": admin, "instructor": instructor, "trainee": trainee, "class": klass, "start": start}


def credit(world, from_min: int, to_min: int) -> HoursEntry:
    """Close an interval from ``from_min`` to ``to_min`` minutes after the session start."""
    klass = world["class"]
    enrolment = klass.enrolments[0]
    with transaction() as session:
        cs = session.get(ClassSession, klass.sessions[0].id)
        interval = PresenceInterval(enrolment_id=enrolment.id, trainee_id=enrolment.trainee_id,
                                    session_id=cs.id, mode=VerificationMode.PERSONAL,
                                    status=IntervalStatus.OPEN, open_slot=enrolment.trainee_id,
                                    opened_at=world["start"] + timedelta(minutes=from_min),
                                    last_verified_at=world["start"] + timedelta(minutes=from_min))
        session.add(interval)
        session.flush()
        entry = hours.close_interval(session, interval, world["start"] + timedelta(minutes=to_min), None)
    return entry


def test_minutes_outside_the_window_do_not_count(world):
    assert credit(world, -30, 40).minutes == 40


def test_45_minute_unit_rounds_down(world):
    set_rule(world["admin"], world["class"].programme_id, 480, 45, 15)
    entry = credit(world, 0, 134)
    assert entry.minutes == 90 and entry.rule["raw_minutes"] == 134 and entry.rule["unit_minutes"] == 45
    enrolment = world["class"].enrolments[0]
    progress = hours.progress(db.session, enrolment)
    assert progress.hour_length == 45 and progress.required == 80 * 45


def test_daily_cap(world):
    set_rule(world["admin"], world["class"].programme_id, 120, 1, 15)
    assert credit(world, 0, 100).minutes == 100
    second = credit(world, 110, 200)
    assert second.minutes == 20 and second.rule["capped"] is True
    assert credit(world, 210, 300).minutes == 0


def test_reversal_is_a_new_entry_and_the_ledger_is_append_only(world):
    entry = credit(world, 0, 60)
    with pytest.raises(ValidationError):
        hours.reverse_entry(world["instructor"], entry.id, "  ")
    trainee_user = make_user(Role.TRAINEE, username="someone")
    with pytest.raises(PermissionDeniedError):
        hours.reverse_entry(trainee_user, entry.id, "错误")
    reversal = hours.reverse_entry(world["instructor"], entry.id, "代签，已核实")
    assert reversal.minutes == -60 and reversal.reverses_id == entry.id
    with pytest.raises(ConflictError):
        hours.reverse_entry(world["instructor"], entry.id, "again")
    db.session.rollback()
    rows = db.session.scalars(select(HoursEntry).order_by(HoursEntry.at)).all()
    assert [(r.entry_type, r.minutes) for r in rows] == [(EntryType.CREDIT, 60), (EntryType.REVERSAL, -60)]
    progress = hours.progress(db.session, world["class"].enrolments[0])
    assert (progress.credited, progress.reversed, progress.net) == (60, 60, 0)
    original = db.session.get(HoursEntry, entry.id)
    original.minutes = 600
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(HoursEntry, entry.id))
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("sql", ["UPDATE hours_ledger SET minutes = 600 WHERE id = :id",
                                 "DELETE FROM hours_ledger WHERE id = :id",
                                 "DELETE FROM hours_ledger"])
def test_the_database_refuses_raw_updates_and_deletes_of_the_ledger(world, sql):
    entry = credit(world, 0, 60)
    raw_id = entry.id.hex if db.engine.dialect.name == "sqlite" else entry.id
    with db.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="hours_ledger is append-only"):
            conn.execute(text(sql), {"id": raw_id})
        conn.rollback()
    hours.reverse_entry(world["instructor"], entry.id, "代签，已核实")  # corrections still work
    db.session.rollback()
    assert sorted(db.session.scalars(select(HoursEntry.minutes))) == [-60, 60]


def test_the_guard_is_also_made_by_create_all(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    db.metadata.create_all(engine)
    with engine.connect() as conn:
        triggers = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    engine.dispose()
    assert triggers == {"hours_ledger_no_delete", "hours_ledger_no_update"}


def test_stale_intervals_are_closed_up_to_the_last_verified_face(world):
    klass = world["class"]
    enrolment = klass.enrolments[0]
    with transaction() as session:
        session.add(PresenceInterval(
            enrolment_id=enrolment.id, trainee_id=enrolment.trainee_id, session_id=klass.sessions[0].id,
            mode=VerificationMode.PERSONAL, status=IntervalStatus.OPEN, open_slot=enrolment.trainee_id,
            opened_at=world["start"], last_verified_at=world["start"] + timedelta(minutes=50)))
    assert hours.close_stale_intervals(now=utcnow() + timedelta(hours=1)) == 1
    assert hours.close_stale_intervals(now=utcnow() + timedelta(hours=1)) == 0
    db.session.rollback()
    assert db.session.scalar(select(HoursEntry.minutes)) == 50
