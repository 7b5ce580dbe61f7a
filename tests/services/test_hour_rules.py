"""Hour rules versioned by effective date: the version in force on the credited day applies, each
credit keeps the version it used, a version cannot reach back into a credited day, only
administrators set them, and the roll-call rate of study comes from the rule."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.clock import LOCAL_TZ
from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import (AuditEntry, HourRule, HoursEntry, IntervalStatus, PresenceInterval, Role,
                        VerificationMode)
from app.services import hour_rules, hours
from app.services._tx import transaction
from app.queries.trace import rule_version_words
from app.models.base import utcnow
from tests.attendance_helpers import running_class
from tests.factories import make_trainee, make_user
from tests.hour_rule_helpers import set_rule


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    trainee = make_trainee(actor=admin)
    start = utcnow() - timedelta(hours=10)
    klass = running_class(admin, instructor, [trainee], start=start, minutes=600)
    return {"admin": admin, "instructor": instructor, "class": klass, "start": start,
            "day": start.astimezone(LOCAL_TZ).date(), "programme_id": klass.programme_id}


def credit(world, from_min: int, to_min: int) -> HoursEntry:
    klass = world["class"]
    enrolment = klass.enrolments[0]
    with transaction() as session:
        interval = PresenceInterval(enrolment_id=enrolment.id, trainee_id=enrolment.trainee_id,
                                    session_id=klass.sessions[0].id, mode=VerificationMode.PERSONAL,
                                    status=IntervalStatus.OPEN, open_slot=enrolment.trainee_id,
                                    opened_at=world["start"] + timedelta(minutes=from_min),
                                    last_verified_at=world["start"] + timedelta(minutes=from_min))
        session.add(interval)
        session.flush()
        entry = hours.close_interval(session, interval, world["start"] + timedelta(minutes=to_min), None)
    return entry


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_version_in_force_on_the_credited_day_applies_and_is_kept(world):
    first = set_rule(world["admin"], world["programme_id"], 480, 1, 15)
    second = set_rule(world["admin"], world["programme_id"], 60, 1, 15, effective_from=world["day"])
    set_rule(world["admin"], world["programme_id"], 30, 1, 15, effective_from=date(2099, 1, 1))
    entry = credit(world, 0, 100)
    assert entry.minutes == 60 and entry.hour_rule_id == second.id and entry.hour_rule_id != first.id
    assert entry.rule["rule_version"] == 2 and entry.rule["effective_from"] == world["day"].isoformat()
    assert "2" in rule_version_words(entry)


def test_a_programme_without_rules_credits_under_the_defaults(world):
    entry = credit(world, 0, 30)
    assert entry.hour_rule_id is None and entry.rule["rule_version"] is None
    assert hour_rules.rules_for(db.session, world["programme_id"]).roll_calls_per_hour == 2


def test_a_version_cannot_be_backdated_into_a_credited_day(world):
    set_rule(world["admin"], world["programme_id"], 480, 1, 15)
    credit(world, 0, 30)
    rules, audits = _count(HourRule), _count(AuditEntry)
    for day in (world["day"], world["day"] - timedelta(days=3)):
        with pytest.raises(ConflictError) as refused:
            set_rule(world["admin"], world["programme_id"], 30, 1, 15, effective_from=day)
        assert refused.value.code in ("backdated", "not_after_newest")
    with pytest.raises(ConflictError) as refused:
        set_rule(world["admin"], world["programme_id"], 30, 1, 15, effective_from=world["day"])
    assert refused.value.code == "backdated" and world["day"].isoformat() in refused.value.message
    assert (_count(HourRule), _count(AuditEntry)) == (rules, audits)
    # the credited day keeps its rule: the next day is the earliest a new version may start
    set_rule(world["admin"], world["programme_id"], 30, 1, 15, effective_from=world["day"] + timedelta(days=1))
    assert credit(world, 40, 100).rule["rule_version"] == 1


def test_the_first_version_cannot_reach_back_into_days_credited_under_the_defaults(world):
    credit(world, 0, 30)
    with pytest.raises(ConflictError):
        set_rule(world["admin"], world["programme_id"], 30, 1, 15)
    assert _count(HourRule) == 0


def test_only_administrators_set_rules_and_fields_are_checked(world):
    with pytest.raises(PermissionDeniedError):
        set_rule(world["instructor"], world["programme_id"], 480, 1, 15)
    for bad in ({"unit": 45, "hour_length": 60}, {"daily_cap": 0}, {"tolerance": 121},
                {"hour_length": 50}, {"practical_percent": 101}, {"roll_calls_per_hour": 0},
                {"roll_calls_per_hour": 13}):
        args = {"daily_cap": 480, "unit": 1, "tolerance": 15, **bad}
        with pytest.raises(ValidationError):
            set_rule(world["admin"], world["programme_id"], args.pop("daily_cap"), args.pop("unit"),
                     args.pop("tolerance"), **args)
    assert _count(HourRule) == 0


def test_the_roll_call_rate_comes_from_the_rule_of_the_day(world):
    set_rule(world["admin"], world["programme_id"], roll_calls_per_hour=6)
    set_rule(world["admin"], world["programme_id"], roll_calls_per_hour=1, effective_from=date(2099, 1, 1))
    assert hour_rules.roll_calls_per_hour(db.session, world["programme_id"], world["day"]) == 6
    assert hour_rules.roll_calls_per_hour(db.session, world["programme_id"], date(2099, 1, 2)) == 1
