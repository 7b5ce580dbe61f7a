"""The session editor's rules: full-width input, repeat rules (skipping dates and holidays),
past sessions refused with nothing saved, planned hours, clash warnings."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.clock import LOCAL_TZ
from app.errors.exceptions import ValidationError
from app.extensions import db
from app.models import Role, TrainingClass
from app.services.classes import draft_class, revise_class, withdraw_class
from app.services.session_plans import (SessionRow, expand, parse_repeat, planned_hours, clash_warnings,
                                        sessions_from_rows)
from tests.factories import application, make_catalogue, make_trainee, make_user, session_at


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, _, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    return admin, institution, programme, instructor


def test_session_plans_full_width_input_is_accepted(app):
    sessions, problems = sessions_from_rows([
        SessionRow("２０２６/12/14", "09：00－12：00", "", "理论", "实训楼３０１"),
        SessionRow("2026年12月15日", "14:00", "17：30", "practice", "在线"),
        SessionRow("", "", "", "theory", ""),  # an empty row is ignored
    ])
    assert problems == []
    first, second = sessions
    assert first.starts_at == datetime(2026, 12, 14, 9, tzinfo=LOCAL_TZ)
    assert first.ends_at == datetime(2026, 12, 14, 12, tzinfo=LOCAL_TZ)
    assert (first.kind, first.place, first.online) == ("theory", "实训楼301", False)
    assert second.ends_at.astimezone(LOCAL_TZ).time() == time(17, 30) and second.online


def test_session_plans_bad_rows_are_named(app):
    sessions, problems = sessions_from_rows([SessionRow("2026-02-30", "09:00", "12:00", "theory", "A"),
                                             SessionRow("2026-12-14", "九点", "", "theory", "A")])
    assert sessions == [] and len(problems) == 2
    assert problems[0].startswith("第 1 行") and problems[1].startswith("第 2 行")


def test_session_plans_repeat_rule_skips_dates_and_holidays(app):
    rule, errors = parse_repeat("2026-09-28", "2026/10/09", ["0", "1", "2", "3", "4"], "08：30－11：30",
                                "practice", "车间", "2026-09-30", working_days_only=True)
    assert errors == {}
    days = [s.starts_at.date() for s in expand(rule)]
    # 30 Sep skipped by hand, 1–7 Oct the National Day holiday
    assert days == [date(2026, 9, 28), date(2026, 9, 29), date(2026, 10, 8), date(2026, 10, 9)]
    rule.working_days_only = False
    assert len(expand(rule)) == 9
    assert expand(rule)[0].starts_at == datetime(2026, 9, 28, 8, 30, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("fields, field", [
    (("2026-10-09", "2026-09-28", ["0"], "09:00-12:00", ""), "repeat_dates"),
    (("2026-09-28", "2026-10-09", [], "09:00-12:00", ""), "repeat_weekdays"),
    (("2026-09-28", "2026-10-09", ["0"], "上午", ""), "repeat_times"),
    (("2026-09-28", "2026-10-09", ["0"], "09:00-12:00", "国庆"), "repeat_skip"),
])
def test_session_plans_bad_repeat_rule_is_named(app, fields, field):
    first, last, weekdays, times, skip = fields
    rule, errors = parse_repeat(first, last, weekdays, times, "theory", "A", skip, False)
    assert rule is None and field in errors


def test_session_plans_past_session_refused_with_nothing_saved(world):
    admin, institution, programme, instructor = world
    now = datetime(2026, 12, 14, 1, 30, tzinfo=timezone.utc)        # 09:30 in Beijing
    started = [session_at(date(2026, 12, 14), 9, 12)]              # began half an hour ago
    with pytest.raises(ValidationError) as refused:
        draft_class(instructor, application(institution, programme, [instructor], sessions=started), now=now)
    assert "已经过去" in refused.value.errors["sessions"] and "2026-12-14 09:30" in refused.value.errors["sessions"]
    assert db.session.scalar(select(func.count()).select_from(TrainingClass)) == 0
    later = [session_at(date(2026, 12, 14), 10, 12)]
    klass = draft_class(instructor, application(institution, programme, [instructor], sessions=later), now=now)
    with pytest.raises(ValidationError):  # a revision may not move a session into the past either
        revise_class(instructor, klass.id, application(institution, programme, [instructor], sessions=started),
                     now=now)
    db.session.rollback()
    kept = db.session.get(TrainingClass, klass.id)
    assert [s.starts_at.astimezone(LOCAL_TZ).hour for s in kept.sessions] == [10]


def test_session_plans_planned_hours_against_the_programme(world):
    _admin, _institution, programme, _instructor = world
    day = date(2026, 12, 14)
    plan = planned_hours(db.session, programme, [session_at(day, 9, 12), session_at(day, 14, 17, "practice"),
                                                 session_at(day + timedelta(days=1), 9, 10, "practice")])
    assert (plan.theory, plan.practice, plan.total, plan.required, plan.hour_length) == (3, 4, 7, 80, 60)
    assert plan.short


def test_session_plans_clash_warnings_name_place_instructor_and_trainee(world):
    admin, institution, programme, instructor = world
    other_instructor = make_user(Role.INSTRUCTOR, "other-teacher", institution=institution)
    trainee, free = make_trainee("钱七"), make_trainee("孙八")
    day = date.today() + timedelta(days=10)
    existing = draft_class(admin, application(institution, programme, [instructor], [trainee], code="BUSY-1",
                                              sessions=[session_at(day, 9, 12, place="实训楼301")]))
    overlapping = [session_at(day, 11, 13, place="实训楼301")]
    warnings = clash_warnings(db.session, overlapping, [instructor.id], [trainee.id, free.id])
    assert len(warnings) == 3 and all("BUSY-1" in w for w in warnings)
    assert any("实训楼301" in w for w in warnings) and any(instructor.display_name in w for w in warnings)
    assert any("钱七" in w and "孙八" not in w for w in warnings)
    assert clash_warnings(db.session, [session_at(day, 12, 14, place="实训楼301")], [instructor.id], [trainee.id]) == []
    assert clash_warnings(db.session, overlapping, [other_instructor.id], [free.id], ) != []  # the place still
    assert clash_warnings(db.session, overlapping, [instructor.id], [trainee.id], class_id=existing.id) == []
    withdraw_class(admin, existing.id, "招生不足")
    assert clash_warnings(db.session, overlapping, [instructor.id], [trainee.id]) == []
