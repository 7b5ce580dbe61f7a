"""Trainee accounts: pending on registration, activated with a one-time code and the ID number."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors.exceptions import PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import AccountActivation, AuditEntry, Enrolment, Role, Trainee, User
from app.models.base import utcnow
from app.services.accounts import authenticate
from app.services.trainee_accounts import (activate_account, issue_class_slips, issue_first_code,
                                           reissue_code)
from tests.factories import make_catalogue, make_class, make_trainee, make_user

NEW_PASSWORD = "my-own-pass-1"


def _user(trainee) -> User:
    db.session.rollback()
    return db.session.scalar(select(User).join(Trainee, Trainee.user_id == User.id)
                             .where(Trainee.id == trainee.id))


def _row(user) -> AccountActivation:
    db.session.rollback()
    return db.session.scalar(select(AccountActivation).where(AccountActivation.user_id == user.id))


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN)


def test_registration_opens_an_account_nobody_can_sign_in_to(admin):
    trainee = make_trainee()
    user = _user(trainee)
    assert user.role is Role.TRAINEE and not user.active and user.display_name == trainee.name
    assert authenticate(user.username, "") is None and authenticate(user.username, "!activation-pending") is None


def test_code_and_id_number_activate_once_and_the_code_is_stored_hashed(admin):
    trainee = make_trainee()
    slip = issue_first_code(admin, trainee.id)
    user = _user(trainee)
    row = _row(user)
    assert slip.username == user.username and slip.masked_id_number != trainee.id_number
    assert slip.code.replace("-", "") not in row.code_hash
    assert all(slip.code.replace("-", "") not in str(e.payload) for e in db.session.scalars(select(AuditEntry)))
    activated = activate_account(trainee.id_number.lower(), slip.code.lower(), NEW_PASSWORD, NEW_PASSWORD)
    assert activated.id == user.id and authenticate(user.username, NEW_PASSWORD) is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.activated"))
    assert entry.actor == user.username
    # single use: the same code cannot set another password
    with pytest.raises(ValidationError):
        activate_account(trainee.id_number, slip.code, "attacker-pass", "attacker-pass")
    assert authenticate(user.username, "attacker-pass") is None
    assert authenticate(user.username, NEW_PASSWORD) is not None


def test_wrong_codes_are_counted_and_lock_the_code(app, admin):
    trainee = make_trainee()
    slip = issue_first_code(admin, trainee.id)
    for _ in range(app.config["ACTIVATION_MAX_FAILURES"]):
        with pytest.raises(ValidationError) as refused:
            activate_account(trainee.id_number, "AAAAA-AAAAA", "guess-pass-1", "guess-pass-1")
        assert "不匹配" in refused.value.message
    with pytest.raises(ValidationError) as locked:
        activate_account(trainee.id_number, slip.code, NEW_PASSWORD, NEW_PASSWORD)
    assert "新的激活码" in locked.value.message
    user = _user(trainee)
    assert not user.active and authenticate(user.username, NEW_PASSWORD) is None
    # a reissued code works again
    fresh = reissue_code(admin, trainee.id)
    activate_account(trainee.id_number, fresh.code, NEW_PASSWORD, NEW_PASSWORD)
    assert authenticate(user.username, NEW_PASSWORD) is not None


def test_a_code_does_not_work_for_another_id_number(admin):
    mine, other = make_trainee("甲乙"), make_trainee("丙丁")
    slip = issue_first_code(admin, mine.id)
    issue_first_code(admin, other.id)
    with pytest.raises(ValidationError):
        activate_account(other.id_number, slip.code, NEW_PASSWORD, NEW_PASSWORD)
    assert not _user(other).active and _row(_user(other)).failed_attempts == 1


def test_expired_codes_and_bad_passwords_are_refused(admin):
    trainee = make_trainee()
    slip = issue_first_code(admin, trainee.id)
    later = utcnow() + timedelta(days=15)
    with pytest.raises(ValidationError) as expired:
        activate_account(trainee.id_number, slip.code, NEW_PASSWORD, NEW_PASSWORD, now=later)
    assert "过期" in expired.value.message
    for password, confirm in (("short", "short"), (NEW_PASSWORD, NEW_PASSWORD + "x"),
                              (trainee.id_number, trainee.id_number)):
        with pytest.raises(ValidationError):
            activate_account(trainee.id_number, slip.code, password, confirm)
    assert not _user(trainee).active and _row(_user(trainee)).failed_attempts == 0


def test_reissue_replaces_the_code_is_audited_and_checks_the_policy(admin):
    institution, _, programme = make_catalogue(admin)
    other_institution, _, _ = make_catalogue(admin)
    ours = make_user(Role.INSTRUCTOR, "ours", institution=institution)
    theirs = make_user(Role.INSTRUCTOR, "theirs", institution=other_institution)
    trainee = make_trainee()
    trainee.registered_by_institution_id = institution.id
    make_class(admin, institution, programme, ours, [trainee])
    first = issue_first_code(admin, trainee.id)
    with pytest.raises(PermissionDeniedError):
        issue_first_code(admin, trainee.id)  # only the registration issues without the policy
    with pytest.raises(PermissionDeniedError):
        reissue_code(theirs, trainee.id)
    with pytest.raises(PermissionDeniedError):
        issue_class_slips(theirs, trainee_class(trainee))
    second = reissue_code(ours, trainee.id)
    assert second.code != first.code
    issued = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "trainee.activation_code_issued")).all()
    assert [e.actor for e in issued] == ["admin", "ours"]
    with pytest.raises(ValidationError):
        activate_account(trainee.id_number, first.code, NEW_PASSWORD, NEW_PASSWORD)
    activate_account(trainee.id_number, second.code, NEW_PASSWORD, NEW_PASSWORD)


def trainee_class(trainee):
    return db.session.scalar(select(Enrolment.class_id).where(Enrolment.trainee_id == trainee.id))


def test_class_slips_cover_the_roster_not_yet_activated(admin):
    institution, _, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    done, waiting = make_trainee("王五"), make_trainee("李四")
    klass = make_class(admin, institution, programme, instructor, [done, waiting])
    slip = issue_first_code(admin, done.id)
    activate_account(done.id_number, slip.code, NEW_PASSWORD, NEW_PASSWORD)
    slips = issue_class_slips(instructor, klass.id)
    assert [s.name for s in slips] == ["李四"]
