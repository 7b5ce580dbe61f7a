"""Yearly statistics with known data: person-times per category and institution (only approved,
running and completed classes, by the year of their first session), targets, full-time-student
equivalents, face-verification failure rates and ID-card check counts; and the page."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import ClassStatus, Role, TrainingCategory
from app.queries.statistics import year_statistics
from app.services import attendance
from app.services.catalogue import create_listed_entry, create_programme
from app.services.classes import LOCAL_TZ
from tests.attendance_helpers import blind_check, paced_check, running_class, still_photo, trainee_with_face
from tests.factories import PASSWORD, arrange_confirmed_alternative, make_catalogue, make_trainee, make_user

THIS_YEAR = datetime.now(LOCAL_TZ).year
TARGETS = {"employment": 150_000, "entrepreneurship": 20_000, "high_skill": 30_000, "apprenticeship": 20_000}


def check(user, frames=None):
    return paced_check(user) if frames is None else blind_check(user, frames)


@pytest.fixture
def year(app):
    """Institution A: a running employment class (2 trainees) and an approved one starting in
    2031 (1); institution B: a completed entrepreneurship class (1) and a draft (not counted).
    Verifications: a face refused (a photo) and accepted; an ID-card check refused (no
    arrangement, so no class) and accepted after the arrangement."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    user, first = trainee_with_face(admin, "trainee1", "张甲")
    second, third = make_trainee("李乙", actor=admin), make_trainee("王丙", actor=admin)
    inst_a, _occ, employment = make_catalogue(admin)
    inst_b = create_listed_entry(admin, "institution", "INST-B", "乙职业学院")
    occupation = create_listed_entry(admin, "occupation", "4-99-99-01", "创业指导")
    business = create_programme(admin, code="P-SYB", name="SYB 创业培训", occupation_id=occupation.id,
                                level="level_5", category="entrepreneurship", theory_hours=40, practice_hours=0,
                                delivery_mode="offline", subsidy_amount="1000", subsidy_from=date(2026, 1, 1))
    running_class(admin, instructor, [first, second], institution=inst_a, programme=employment)
    running_class(admin, instructor, [second], institution=inst_a, programme=employment,
                  start=datetime(2031, 3, 2, 1, tzinfo=timezone.utc), status=ClassStatus.APPROVED)
    running_class(admin, make_user(Role.INSTRUCTOR, "instructor_b"), [third], institution=inst_b,
                  programme=business, status=ClassStatus.COMPLETED)
    running_class(admin, make_user(Role.INSTRUCTOR, "instructor_c"), [first, third], institution=inst_b,
                  programme=business, status=ClassStatus.DRAFT)
    assert not check(user, still_photo()).accepted
    assert check(user).accepted
    assert not attendance.check_alternative(instructor, second.id, "check_in").accepted
    arrange_confirmed_alternative(admin, second.id, "本人拒绝人脸识别")
    assert attendance.check_alternative(instructor, second.id, "check_in").accepted
    db.session.rollback()
    return {"a": inst_a.name, "b": inst_b.name}


def test_person_times_targets_and_equivalents(year):
    stats = year_statistics(db.session, THIS_YEAR, TARGETS, Decimal("0.30"))
    lines = {c.category: c for c in stats.categories}
    assert (lines[TrainingCategory.EMPLOYMENT].person_times, lines[TrainingCategory.EMPLOYMENT].target) == (2, 150_000)
    assert lines[TrainingCategory.EMPLOYMENT].full_time_equivalents == Decimal("0.60")
    assert (lines[TrainingCategory.ENTREPRENEURSHIP].person_times,
            lines[TrainingCategory.ENTREPRENEURSHIP].full_time_equivalents) == (1, Decimal("0.30"))
    assert lines[TrainingCategory.UPGRADING].target is None and lines[TrainingCategory.HIGH_SKILL].person_times == 0
    assert stats.overall.total_person_times == 3 and stats.full_time_equivalents == Decimal("0.90")
    by_name = {t.name: t for t in stats.institutions}
    assert by_name[year["a"]].person_times == {TrainingCategory.EMPLOYMENT: 2}
    assert by_name[year["b"]].person_times == {TrainingCategory.ENTREPRENEURSHIP: 1}
    later = year_statistics(db.session, 2031, TARGETS, Decimal("0.5"))
    assert later.overall.person_times == {TrainingCategory.EMPLOYMENT: 1} and later.full_time_equivalents == Decimal("0.50")
    assert later.overall.face_verifications == 0 and later.overall.failure_rate is None


def test_failure_rates_and_alternative_counts(year):
    stats = year_statistics(db.session, THIS_YEAR, TARGETS, Decimal("0.30"))
    overall = stats.overall
    assert (overall.face_verifications, overall.face_failures, overall.failure_rate) == (2, 1, Decimal("0.5"))
    assert overall.alternative_checks == 2 and stats.arrangements == 1
    a = {t.name: t for t in stats.institutions}[year["a"]]
    assert a.alternative_checks == 1  # the refused ID-card check named no class: its own row
    # the photo was refused before a session was looked up: it is in the row of no class
    assert (a.face_verifications, a.face_failures, a.failure_rate) == (1, 0, Decimal("0"))
    unattributed = stats.institutions[-1]
    assert unattributed.unattributed and (unattributed.face_failures, unattributed.alternative_checks) == (1, 1)


def test_the_rows_add_up_to_the_total(year):
    stats = year_statistics(db.session, THIS_YEAR, TARGETS, Decimal("0.30"))
    for figure in ("total_person_times", "face_verifications", "face_failures", "alternative_checks"):
        assert sum(getattr(t, figure) for t in stats.institutions) == getattr(stats.overall, figure), figure
    assert sum(c.person_times for c in stats.categories) == stats.overall.total_person_times


def test_bars_are_drawn_to_the_largest_count_not_the_province_target(year):
    from app.web.audit.statistics_pages import targets_chart
    stats = year_statistics(db.session, THIS_YEAR, TARGETS, Decimal("0.30"))
    bars = {b["category"]: b for b in targets_chart(stats.categories)["bars"]}
    assert bars[TrainingCategory.EMPLOYMENT]["w"] == 480  # 2, the largest count, fills the width
    assert bars[TrainingCategory.ENTREPRENEURSHIP]["w"] == 240
    assert bars[TrainingCategory.EMPLOYMENT]["beyond"] and bars[TrainingCategory.HIGH_SKILL]["w"] == 0
    assert bars[TrainingCategory.EMPLOYMENT]["label"] == "2 / 150000 (0.0%)"


def test_statistics_page(client, auth, year, app):
    make_user(Role.REVIEWER)
    auth.login("reviewer", PASSWORD)
    app.config["STATISTICS_TARGETS"] = {**TARGETS, "employment": 4}
    page = client.get(f"/audit/statistics?year={THIS_YEAR}").text
    assert 'id="targets-chart"' in page and page.count('class="category-bar"') == 5
    assert page.count('class="target-mark"') == 4  # upgrading has no target
    assert '<td class="person-times">2</td>' in page and "2 / 4 (50.0%)" in page
    assert "无法确定班级" in page  # the row of verifications that named no class, in words
    assert '<th class="fte">0.90</th>' in page and "50.00%" in page
    assert client.get("/audit/statistics?year=1066").status_code == 200


def test_trainees_and_instructors_may_not_see_statistics(client, auth, app):
    make_user(Role.INSTRUCTOR)
    auth.login("instructor", PASSWORD)
    assert client.get("/audit/statistics").status_code == 403
