"""Subsidy limits (R5, R6) played as attacks: the same person claimed again for the same
occupation and level (even years later), a lower level after a higher one, and more subsidised
classes in a year than the limit (once for a student, twice for others); each refused line
carries its reason in words and pays nothing, and a line the bureau returned does not count."""
import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.services import claim_workflow, subsidy
from app.services.catalogue import add_subsidy_standard, create_listed_entry, create_programme
from tests.factories import make_trainee, make_user
from tests.subsidy_helpers import class_on, complete_enrolment, enrolment_of, make_world
from app.models import Role

WORKER = "下岗失业人员"
_codes = itertools.count(1)
STUDENT = "高校毕业生"


@pytest.fixture
def world(app):
    return make_world()


def programme_for(world, level: str, new_occupation: bool = False):
    """A world teaching the same (or a new) occupation at ``level``."""
    occupation = world.occupation
    if new_occupation:
        occupation = create_listed_entry(world.admin, "occupation", f"6-30-{next(_codes):02d}", "电工")
    programme = create_programme(
        world.admin, code=f"P-{level}-{next(_codes)}", name=f"培训 {level}", occupation_id=occupation.id,
        level=level, category="employment", theory_hours=2, practice_hours=1, delivery_mode="offline",
        subsidy_amount="1500", subsidy_from=date(2024, 1, 1))
    return replace(world, occupation=occupation, programme=programme)


def claimed_line(world, day: date, trainee):
    """The trainee completes a class of ``world``'s programme on ``day``; its prepared line."""
    klass = class_on(world, day, [trainee])
    complete_enrolment(world, enrolment_of(klass, trainee))
    return subsidy.prepare_claim(world.admin, klass.id).lines[0]


def assert_refused(line, reason: str):
    assert not line.eligible and line.amount == Decimal("0.00")
    assert reason in line.reasons
    assert subsidy.reason_message(reason) in subsidy.rule_words(line)


def test_same_occupation_and_level_never_twice_even_years_later(world):
    add_subsidy_standard(world.admin, world.programme.id, "1000", date(2024, 1, 1))
    trainee = make_trainee(category=WORKER, actor=world.admin)
    first = claimed_line(world, date(2025, 3, 2), trainee)
    assert first.eligible, first.reasons
    line = claimed_line(world, date(2026, 9, 1), trainee)  # 18 months later, another year
    assert_refused(line, "already_claimed")
    assert line.reasons == ["already_claimed"]


def test_a_lower_level_after_a_higher_one_is_refused(world):
    trainee = make_trainee(category=WORKER, actor=world.admin)
    high, low = programme_for(world, "level_3"), programme_for(world, "level_5")
    assert claimed_line(high, date(2026, 1, 10), trainee).eligible
    line = claimed_line(low, date(2026, 3, 2), trainee)
    assert_refused(line, "lower_level")
    assert line.reasons == ["lower_level"]


def test_a_higher_level_after_a_lower_one_is_paid(world):
    trainee = make_trainee(category=WORKER, actor=world.admin)
    low, high = programme_for(world, "level_5"), programme_for(world, "level_3")
    assert claimed_line(low, date(2026, 1, 10), trainee).eligible
    line = claimed_line(high, date(2026, 3, 2), trainee)
    assert line.eligible and line.amount == Decimal("1500.00")


def test_a_worker_is_subsidised_twice_a_year_not_three_times(world):
    trainee = make_trainee(category=WORKER, actor=world.admin)
    worlds = [programme_for(world, "level_4", new_occupation=True) for _ in range(3)]
    assert claimed_line(worlds[0], date(2026, 1, 10), trainee).eligible
    assert claimed_line(worlds[1], date(2026, 4, 10), trainee).eligible
    third = claimed_line(worlds[2], date(2026, 9, 1), trainee)
    assert_refused(third, "yearly_limit")
    assert third.reasons == ["yearly_limit"]
    fourth = programme_for(world, "level_4", new_occupation=True)
    next_year = claimed_line(fourth, date(2027, 1, 5), trainee)  # a new Beijing year
    assert next_year.eligible, next_year.reasons


def test_a_student_is_subsidised_once_a_year(world):
    trainee = make_trainee(category=STUDENT, actor=world.admin)
    first, second = (programme_for(world, "level_4", new_occupation=True) for _ in range(2))
    assert claimed_line(first, date(2026, 1, 10), trainee).eligible
    assert_refused(claimed_line(second, date(2026, 6, 1), trainee), "yearly_limit")


def test_the_yearly_limits_are_configurable(world, app):
    app.config["SUBSIDY_YEARLY_LIMIT_STUDENT"] = 2
    trainee = make_trainee(category=STUDENT, actor=world.admin)
    first, second = (programme_for(world, "level_4", new_occupation=True) for _ in range(2))
    assert claimed_line(first, date(2026, 1, 10), trainee).eligible
    assert claimed_line(second, date(2026, 6, 1), trainee).eligible


def test_a_line_the_bureau_returned_does_not_count(world):
    trainee = make_trainee(category=STUDENT, actor=world.admin)
    first, second = (programme_for(world, "level_4", new_occupation=True) for _ in range(2))
    line = claimed_line(first, date(2026, 1, 10), trainee)
    claim_workflow.submit_claim(world.admin, line.claim_id)
    claim_workflow.review_claim(make_user(Role.REVIEWER), line.claim_id,
                                {str(line.id): ("returned", "培训记录不完整")})
    assert claimed_line(second, date(2026, 6, 1), trainee).eligible
