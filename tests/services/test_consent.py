"""Biometric consent: versioned, withdrawable, withdrawal deletes templates, the alternative."""
import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, ValidationError
from app.extensions import db
from app.models import FaceTemplate, Role
from app.services.audit import verify_chain
from app.services.consent import (DEFAULT_CONSENT_VERSION, active_consent,
                                  arrange_alternative_verification, give_consent, withdraw_consent)
from tests.factories import make_instructor, make_trainee, make_user


@pytest.fixture
def people(app):
    trainee = make_trainee()
    return make_instructor(trainee), trainee


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
    staff, trainee = people
    with pytest.raises(ValidationError):
        arrange_alternative_verification(staff, trainee.id, "")
    arrangement = arrange_alternative_verification(staff, trainee.id, "本人拒绝人脸识别")
    assert arrangement.reason == "本人拒绝人脸识别"
    with pytest.raises(ConflictError):
        arrange_alternative_verification(staff, trainee.id, "again")
