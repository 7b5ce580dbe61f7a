"""Biometric consent: versioned, withdrawable, withdrawal deletes templates, the alternative."""
import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import AlternativeVerification, AuditEntry, FaceTemplate, Role
from app.services.audit import verify_chain
from app.services.consent import (DEFAULT_CONSENT_VERSION, active_consent, arrange_alternative_verification,
                                  confirm_alternative_verification, give_consent, withdraw_consent)
from tests.factories import make_catalogue, make_class, make_trainee, make_user


@pytest.fixture
def people(app):
    return make_user(Role.INSTRUCTOR), make_trainee()


def test_consent_then_withdrawal_deletes_templates(people):
    staff, trainee = people
    consent = give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "paper")
    assert consent.consent_text.version == DEFAULT_CONSENT_VERSION
    db.session.add(FaceTemplate(trainee_id=trainee.id, encoder="mobilefacenet", sealed=b"x" * 40, captures=3))
    db.session.commit()
    assert withdraw_consent(staff, trainee.id) == 1
    assert db.session.scalar(select(func.count()).select_from(FaceTemplate)) == 0
    assert active_consent(db.session, trainee.id) is None
    assert verify_chain(db.session) == []
    with pytest.raises(ConflictError):
        withdraw_consent(staff, trainee.id)


def test_consent_rules(people):
    staff, trainee = people
    with pytest.raises(ValidationError):
        give_consent(staff, trainee.id, "1999-01", "paper")
    with pytest.raises(ValidationError):
        give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "telepathy")
    give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "on_screen")
    with pytest.raises(ConflictError):
        give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "on_screen")


def test_alternative_verification_needs_reason(people):
    staff, trainee = make_user(Role.ADMIN), people[1]
    with pytest.raises(ValidationError):
        arrange_alternative_verification(staff, trainee.id, "")
    arrangement = arrange_alternative_verification(staff, trainee.id, "本人拒绝人脸识别")
    assert arrangement.reason == "本人拒绝人脸识别"
    with pytest.raises(ConflictError):
        arrange_alternative_verification(staff, trainee.id, "again")


def _rows():
    return (db.session.scalar(select(func.count()).select_from(AlternativeVerification)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


def test_only_the_trainees_own_institution_arranges_the_id_card_check(app):
    admin = make_user(Role.ADMIN)
    home, _occupation, programme = make_catalogue(admin)
    elsewhere, _, _ = make_catalogue(admin)
    own = make_user(Role.INSTRUCTOR, username="own-instructor", institution=home)
    stranger = make_user(Role.INSTRUCTOR, username="other-instructor", institution=elsewhere)
    trainee = make_trainee("吕布")
    make_class(admin, home, programme, own, [trainee])
    before = _rows()
    for actor in (stranger, make_user(Role.REVIEWER), make_user(Role.AUDITOR)):
        with pytest.raises(PermissionDeniedError):
            arrange_alternative_verification(actor, trainee.id, "本人拒绝人脸识别")
    assert _rows() == before
    arrangement = arrange_alternative_verification(own, trainee.id, "本人拒绝人脸识别")
    assert arrangement.confirmed_at is None


def test_a_reviewer_other_than_the_arranger_confirms(app):
    admin, reviewer, trainee = make_user(Role.ADMIN), make_user(Role.REVIEWER), make_trainee()
    arrangement = arrange_alternative_verification(admin, trainee.id, "本人拒绝人脸识别")
    before = _rows()
    for actor in (admin, make_user(Role.INSTRUCTOR), make_user(Role.AUDITOR)):
        with pytest.raises(PermissionDeniedError):
            confirm_alternative_verification(actor, arrangement.id)
    assert _rows() == before
    confirmed = confirm_alternative_verification(reviewer, arrangement.id)
    assert confirmed.confirmed_by_id == reviewer.id and confirmed.confirmed_at is not None
    with pytest.raises(ConflictError):
        confirm_alternative_verification(make_user(Role.REVIEWER, username="reviewer2"), arrangement.id)
