"""One clock for the province: at 00:30 Beijing time (16:30 UTC the day before, New Year's night)
every "today", certificate date, serial year and displayed time is Beijing's."""
from datetime import date, datetime, timezone

import pytest

from app.clock import local_stamp, local_today
from app.models import Role
from app.services import completion
from app.services.certificates import add_certificate
from app.services.completion import AssessmentInput, record_assessment
from tests.factories import PASSWORD, make_trainee, make_user
from tests.subsidy_helpers import attend, class_on, enrolment_of, make_world

# 2027-01-01 00:30 in Beijing; the host's UTC calendar still says 2026-12-31
NOW = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)
NEW_YEAR = date(2027, 1, 1)


@pytest.fixture
def world(app):
    return make_world()


def test_the_clock_helpers_at_half_past_midnight():
    assert local_today(NOW) == NEW_YEAR
    assert local_stamp(NOW) == "2027-01-01 00:30:00"


def test_an_assessment_dated_today_is_accepted_and_the_certificate_is_dated_and_numbered_in_beijing(world):
    trainee = make_trainee("新年", actor=world.admin)
    klass = class_on(world, date(2026, 12, 31), [trainee])
    enrolment = enrolment_of(klass, trainee)
    attend(enrolment, 180)
    result = record_assessment(world.instructor, enrolment.id, AssessmentInput(
        "80", "80", NEW_YEAR, world.organisation.id), now=NOW)
    assert result.passed and result.assessed_on == NEW_YEAR
    with pytest.raises(Exception) as later:
        record_assessment(world.instructor, enrolment.id, AssessmentInput(
            "80", "80", date(2027, 1, 2), world.organisation.id, "改期"), now=NOW)
    assert "assessed_on" in later.value.errors
    certificate = completion.issue_certificate(world.instructor, enrolment.id, now=NOW)
    assert certificate.issued_on == NEW_YEAR >= klass.start_date
    assert certificate.serial == f"{world.institution.code}-2027-00001"
    held = add_certificate(world.admin, trainee.id, world.occupation.id, "level_4", "S000044000001213000901", NEW_YEAR, now=NOW)
    assert held.issued_on == NEW_YEAR


def test_the_trace_shows_presence_in_beijing_time(world, client, auth):
    trainee = make_trainee("时区", actor=world.admin)
    klass = class_on(world, date(2026, 12, 31), [trainee])
    attend(enrolment_of(klass, trainee), 60)
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{trainee.id}").text
    assert "2026-12-31 09:00:00" in page and "2026-12-31 10:00:00" in page  # from/to of the presence
    assert "T01:00:00" not in page and "2026-12-31 01:00:00" not in page
