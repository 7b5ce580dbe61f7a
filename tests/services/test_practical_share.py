"""The hour rule's practical share (R5): theory minutes alone never complete a programme that asks
for practice; only practice minutes net of their reversals count toward the share, and the subsidy
line and the completion certificate both say so in words."""
from datetime import date, datetime, timezone

import pytest

from app.errors.exceptions import ConflictError
from app.extensions import db
from app.models import ClassSession, SessionKind, TrainingClass
from app.services import completion, hours, subsidy
from tests.factories import PASSWORD, make_trainee
from tests.hour_rule_helpers import set_rule
from tests.subsidy_helpers import assess, attend, class_on, enrolment_of, make_world

MARCH = date(2026, 3, 2)
AFTER = datetime(2026, 4, 1, 2, tzinfo=timezone.utc)


@pytest.fixture
def world(app):
    return make_world()


def _class(world, kind: SessionKind):
    trainee = make_trainee("李雷", actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    db.session.get(ClassSession, db.session.get(TrainingClass, klass.id).sessions[0].id).kind = kind
    db.session.commit()
    return enrolment_of(klass, trainee)


def test_theory_alone_is_short_of_a_practical_share(world):
    set_rule(world.admin, world.programme.id, practical_percent=40)
    enrolment = _class(world, SessionKind.THEORY)
    attend(enrolment, 180)
    assess(world, enrolment)
    progress = hours.progress(db.session, enrolment)
    assert (progress.net, progress.needed, progress.practical, progress.practical_needed) == (180, 180, 0, 72)
    assert not progress.complete
    reasons = subsidy.eligibility(db.session, enrolment)
    assert "practice_short" in reasons and "hours_short" not in reasons
    with pytest.raises(ConflictError) as exc:
        completion.issue_certificate(world.instructor, enrolment.id, now=AFTER)
    assert exc.value.code == "practice_short"


def test_the_same_theory_hours_complete_without_a_practical_share(world):
    enrolment = _class(world, SessionKind.THEORY)
    attend(enrolment, 180)
    assess(world, enrolment)
    assert hours.progress(db.session, enrolment).complete
    assert subsidy.eligibility(db.session, enrolment) == []
    assert completion.issue_certificate(world.instructor, enrolment.id, now=AFTER) is not None


def test_practice_minutes_count_and_their_reversal_takes_them_back(world):
    set_rule(world.admin, world.programme.id, practical_percent=40)
    enrolment = _class(world, SessionKind.PRACTICE)
    entry = attend(enrolment, 180)
    assess(world, enrolment)
    assert hours.progress(db.session, enrolment).practical == 180
    assert subsidy.eligibility(db.session, enrolment) == []
    hours.reverse_entry(world.instructor, entry.id, "代签，撤销")
    progress = hours.progress(db.session, enrolment)
    assert (progress.net, progress.practical) == (0, 0)
    assert "practice_short" in subsidy.eligibility(db.session, enrolment)


def test_the_class_page_shows_the_practice_part_in_words(world, client, auth):
    set_rule(world.admin, world.programme.id, practical_percent=40)
    enrolment = _class(world, SessionKind.THEORY)
    attend(enrolment, 180)
    auth.login(world.instructor.username, PASSWORD)
    page = client.get(f"/classes/{enrolment.class_id}/attendance")
    assert page.status_code == 200
    assert "实操 0.0 / 1.2 学时" in page.text
