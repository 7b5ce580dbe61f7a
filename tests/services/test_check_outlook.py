"""What the check-in page says before the face action: today's sessions, the trainee's state
and why a check-in cannot happen now, decided by the check's own rules and changing nothing."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.models.base import utcnow
from app.models import (CheckInLock, ClassStatus, FaceTemplate, IntervalStatus, PresenceInterval, Role,
                        TrainingClass, VerificationMode)
from app.services._tx import transaction
from app.services.refusals import refusal_message
from app.services.check_outlook import check_outlook
from app.services.consent import current_consent_text, give_consent
from tests.attendance_helpers import running_class
from tests.factories import PASSWORD, make_trainee, make_user

START = datetime(2026, 12, 14, 1, 0, tzinfo=timezone.utc)    # 09:00 in Beijing
NOW = START + timedelta(minutes=30)


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    user = make_user(Role.TRAINEE, username="trainee1")
    trainee = make_trainee("周芷若", actor=admin)
    with transaction() as session:
        session.get(type(trainee), trainee.id).user_id = user.id
    return admin, instructor, trainee


def _consent_and_template(admin, trainee):
    with transaction() as session:
        version = current_consent_text(session).version
    give_consent(admin, trainee.id, version, "paper", "纸质同意书 2026-019")
    with transaction() as session:
        session.add(FaceTemplate(trainee_id=trainee.id, encoder="test", sealed=b"sealed", captures=3))


def test_check_outlook_no_consent_then_no_template(world):
    admin, instructor, trainee = world
    running_class(admin, instructor, [trainee], start=START)
    assert check_outlook(trainee.id, NOW).blocker == "no_consent"
    with transaction() as session:
        version = current_consent_text(session).version
    give_consent(admin, trainee.id, version, "paper", "纸质同意书 2026-019")
    outlook = check_outlook(trainee.id, NOW)
    assert outlook.blocker == "no_template" and outlook.message == refusal_message("no_template")


def test_check_outlook_window_and_class_state(world):
    admin, instructor, trainee = world
    _consent_and_template(admin, trainee)
    assert check_outlook(trainee.id, NOW).blocker == "outside_window"
    klass = running_class(admin, instructor, [trainee], start=START, place="实训楼301")
    outlook = check_outlook(trainee.id, NOW)
    assert outlook.blocker == "" and [(k.id, s.place) for k, s in outlook.sessions] == [(klass.id, "实训楼301")]
    assert check_outlook(trainee.id, START + timedelta(hours=4)).blocker == "outside_window"  # after the end
    # the next day: no session today
    assert check_outlook(trainee.id, START + timedelta(days=1)).sessions == []
    with transaction() as session:
        session.get(TrainingClass, klass.id).status = ClassStatus.SUBMITTED
    assert check_outlook(trainee.id, NOW).blocker == "class_not_running"


def test_check_outlook_reads_only_an_approved_class_stays_approved(world):
    admin, instructor, trainee = world
    _consent_and_template(admin, trainee)
    klass = running_class(admin, instructor, [trainee], start=START, status=ClassStatus.APPROVED)
    assert check_outlook(trainee.id, START - timedelta(minutes=10)).blocker == ""  # within the tolerance
    db.session.rollback()
    assert db.session.get(TrainingClass, klass.id).status is ClassStatus.APPROVED


def test_check_outlook_state_and_lock_out(world):
    admin, instructor, trainee = world
    _consent_and_template(admin, trainee)
    klass = running_class(admin, instructor, [trainee], start=START, place="实训楼301")
    opened = START + timedelta(minutes=3)
    with transaction() as session:
        klass = session.get(TrainingClass, klass.id)
        session.add(PresenceInterval(enrolment_id=klass.enrolments[0].id, trainee_id=trainee.id,
                                     session_id=klass.sessions[0].id, mode=VerificationMode.PERSONAL,
                                     status=IntervalStatus.OPEN, open_slot=trainee.id, opened_at=opened,
                                     last_verified_at=opened))
    outlook = check_outlook(trainee.id, NOW)
    assert outlook.blocker == "already_checked_in" and outlook.open_interval.opened_at == opened
    with transaction() as session:
        session.add(CheckInLock(trainee_id=trainee.id, locked_at=NOW, failures=5))
    assert check_outlook(trainee.id, NOW).blocker == "locked_out"


def test_check_outlook_on_the_page(world, client, auth):
    admin, instructor, trainee = world
    running_class(admin, instructor, [trainee], place="实训楼301")  # began 30 minutes ago
    auth.login("trainee1", PASSWORD)
    page = client.get("/me/attendance").text
    assert 'id="check-outlook"' in page and "考勤测试班" in page and "实训楼301" in page
    assert 'data-blocker="no_consent"' in page and 'id="check-blocker"' in page
    _consent_and_template(admin, trainee)
    page = client.get("/me/attendance").text
    assert 'data-blocker=""' in page and 'id="check-blocker"' not in page and "未签到" in page
    with transaction() as session:
        session.add(CheckInLock(trainee_id=trainee.id, locked_at=NOW, failures=5))
    page = client.get("/me/attendance").text
    assert "现在无法签到" in page and "自助签到已锁定" in page


def _button(page: str, button_id: str) -> str:
    return re.search(rf'<button type="button" id="{button_id}"[^>]*>', page).group(0)


def test_the_buttons_are_disabled_with_the_reason_beside_while_a_blocker_is_named(world, client, auth):
    admin, instructor, trainee = world
    klass = running_class(admin, instructor, [trainee], place="实训楼301")  # began 30 minutes ago
    auth.login("trainee1", PASSWORD)
    page = client.get("/me/attendance").text                    # no consent: neither check can happen
    assert " disabled" in _button(page, "check-in-button") and " disabled" in _button(page, "check-out-button")
    reason = re.search(r'<span id="check-buttons-reason"[^>]*>([^<]*)</span>', page).group(1)
    assert reason == refusal_message("no_consent") and "人脸" in reason
    _consent_and_template(admin, trainee)
    page = client.get("/me/attendance").text                    # nothing in the way
    assert " disabled" not in _button(page, "check-in-button") + _button(page, "check-out-button")
    assert 'id="check-buttons-reason"' not in page
    opened = utcnow() - timedelta(minutes=20)
    with transaction() as session:                              # checked in: only the check-out is left
        klass = session.get(TrainingClass, klass.id)
        session.add(PresenceInterval(enrolment_id=klass.enrolments[0].id, trainee_id=trainee.id,
                                     session_id=klass.sessions[0].id, mode=VerificationMode.PERSONAL,
                                     status=IntervalStatus.OPEN, open_slot=trainee.id, opened_at=opened,
                                     last_verified_at=opened))
    page = client.get("/me/attendance").text
    assert " disabled" in _button(page, "check-in-button") and " disabled" not in _button(page, "check-out-button")
    assert "已在本课次签到" in re.search(r'<span id="check-buttons-reason"[^>]*>([^<]*)</span>', page).group(1)
