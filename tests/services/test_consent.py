"""Biometric consent: versioned, withdrawable, withdrawal deletes templates, the alternative."""
import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import AlternativeVerification, AuditEntry, Consent, FaceTemplate, Role, Trainee
from app.services._tx import transaction
from app.services.audit import verify_chain
from app.services.consent import (DEFAULT_CONSENT_VERSION, active_consent, arrange_alternative_verification,
                                  confirm_alternative_verification, give_consent, withdraw_consent)
from tests.factories import make_catalogue, make_class, make_instructor, make_trainee, make_user


PAPER = "纸质同意书 2026-001"


@pytest.fixture
def people(app):
    """An instructor of the trainee's own institution, and the trainee."""
    trainee = make_trainee()
    return make_instructor(trainee), trainee


def test_consent_then_withdrawal_deletes_templates(people):
    staff, trainee = people
    consent = give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "paper", PAPER)
    assert consent.consent_text.version == DEFAULT_CONSENT_VERSION and consent.paper_reference == PAPER
    db.session.add(FaceTemplate(trainee_id=trainee.id, encoder="mobilefacenet", sealed=b"x" * 40, captures=3))
    db.session.commit()
    assert withdraw_consent(staff, trainee.id, "撤回书 2026-001") == 1
    assert db.session.scalar(select(func.count()).select_from(FaceTemplate)) == 0
    assert active_consent(db.session, trainee.id) is None
    assert verify_chain(db.session) == []
    with pytest.raises(ConflictError):
        withdraw_consent(staff, trainee.id, "撤回书 2026-001")


def test_consent_rules(people):
    staff, trainee = people
    with pytest.raises(ValidationError):
        give_consent(staff, trainee.id, "1999-01", "paper", PAPER)
    with pytest.raises(ValidationError):
        give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "telepathy")
    with pytest.raises(ValidationError) as info:  # paper without the form's reference
        give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "paper")
    assert "paper_reference" in info.value.errors
    give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "paper", PAPER)
    with pytest.raises(ConflictError):
        give_consent(staff, trainee.id, DEFAULT_CONSENT_VERSION, "paper", PAPER)


def _consents():
    db.session.rollback()
    return db.session.execute(select(Consent.id, Consent.withdrawn_at)).all()


def test_consent_is_the_trainees_and_nobody_elses(people):
    """The attack: staff of another institution (or staff at all, on screen) record consent for
    someone, or withdraw it, so that a stranger's face can be enrolled in their name."""
    staff, trainee = people
    account = make_user(Role.TRAINEE, username="zhaomin")
    with transaction() as session:
        session.get(Trainee, trainee.id).user_id = account.id
    stranger = make_user(Role.INSTRUCTOR, username="other-instructor")
    before = _consents()
    for actor, method in ((staff, "on_screen"), (stranger, "paper"), (make_user(Role.REVIEWER), "paper"),
                          (make_user(Role.TRAINEE, username="someone-else"), "on_screen")):
        with pytest.raises(PermissionDeniedError):
            give_consent(actor, trainee.id, DEFAULT_CONSENT_VERSION, method, PAPER)
    assert _consents() == before
    give_consent(account, trainee.id, DEFAULT_CONSENT_VERSION, "on_screen")
    before = _consents()
    for actor in (stranger, make_user(Role.AUDITOR)):
        with pytest.raises(PermissionDeniedError):
            withdraw_consent(actor, trainee.id, "撤回书")
    with pytest.raises(ValidationError):
        withdraw_consent(staff, trainee.id)  # own institution, but no signed withdrawal
    assert _consents() == before
    assert withdraw_consent(account, trainee.id) == 0


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
    trainee.registered_by_institution_id = home.id
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
