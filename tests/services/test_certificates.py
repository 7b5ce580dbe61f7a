"""Certificates and exemptions (R10): national number formats, the class's own occupation, the
cap on exempted hours, and a reviewer's confirmation before an exemption lowers anything."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.clock import local_today
from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import AuditEntry, Enrolment, Exemption, Role
from app.services import hours
from app.services.catalogue import create_listed_entry
from app.services.certificates import add_certificate, confirm_exemption, grant_exemption
from tests.factories import make_catalogue, make_class, make_trainee, make_user

SERIALS = iter(f"S{n:021d}" for n in range(1, 10_000))


@pytest.fixture
def enrolled(app):
    admin = make_user(Role.ADMIN)
    institution, occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    trainee, other = make_trainee("黄忠"), make_trainee("魏延")
    make_class(admin, institution, programme, instructor, [trainee, other])
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.trainee_id == trainee.id))
    return admin, occupation, trainee, other, enrolment


def certificate_of(admin, trainee, occupation, serial=None):
    return add_certificate(admin, trainee.id, occupation.id, "level_5", serial or next(SERIALS), date(2024, 5, 1))


def fresh_enrolment(enrolment) -> Enrolment:
    db.session.expire_all()
    return db.session.get(Enrolment, enrolment.id)


def counts():
    return (db.session.scalar(select(func.count()).select_from(Exemption)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


def test_exemption_is_pending_until_a_reviewer_confirms_it(enrolled):
    admin, occupation, trainee, _, enrolment = enrolled
    certificate = certificate_of(admin, trainee, occupation, "S000044000001213000123")
    exemption = grant_exemption(admin, enrolment.id, certificate.id, 20, "持电工五级证书，免修基础理论")
    enrolment = fresh_enrolment(enrolment)
    assert enrolment.exempted_hours == 0 and enrolment.pending_exemption_hours == 20
    assert hours.progress(db.session, enrolment).exempted == 0
    confirm_exemption(make_user(Role.REVIEWER), exemption.id)
    enrolment = fresh_enrolment(enrolment)
    assert enrolment.exempted_hours == 20 and enrolment.exemptions[0].certificate.serial == "S000044000001213000123"
    assert hours.progress(db.session, enrolment).exempted == 20 * 60


def test_the_granter_and_non_reviewers_cannot_confirm(enrolled):
    admin, occupation, trainee, _, enrolment = enrolled
    reviewer = make_user(Role.INSTRUCTOR, username="granter", institution=enrolment.training_class.institution)
    exemption = grant_exemption(reviewer, enrolment.id, certificate_of(admin, trainee, occupation).id, 10, "免修")
    reviewer.role = Role.REVIEWER  # moved to the bureau since: still not the second person of their own act
    db.session.commit()
    before = counts()
    for actor in (reviewer, admin, make_user(Role.INSTRUCTOR, username="instructor2"), make_user(Role.AUDITOR)):
        with pytest.raises(PermissionDeniedError):
            confirm_exemption(actor, exemption.id)
    assert counts() == before and fresh_enrolment(enrolment).exempted_hours == 0
    confirm_exemption(make_user(Role.REVIEWER, username="reviewer2"), exemption.id)
    with pytest.raises(ConflictError):
        confirm_exemption(make_user(Role.REVIEWER, username="reviewer3"), exemption.id)


def test_exemptions_are_capped_at_half_the_programme_hours(enrolled, app):
    admin, occupation, trainee, _, enrolment = enrolled  # 80 h programme: at most 40 h
    certificate = certificate_of(admin, trainee, occupation)
    before = counts()
    with pytest.raises(ValidationError) as info:
        grant_exemption(admin, enrolment.id, certificate.id, 80, "免修全部学时")
    assert "hours" in info.value.errors and counts() == before
    grant_exemption(admin, enrolment.id, certificate.id, 30, "免修理论")
    with pytest.raises(ValidationError) as info:  # pending hours count against the cap too
        grant_exemption(admin, enrolment.id, certificate.id, 11, "再免")
    assert "10" in info.value.errors["hours"]
    grant_exemption(admin, enrolment.id, certificate.id, 10, "再免")
    with pytest.raises(ValidationError) as info:
        grant_exemption(admin, enrolment.id, certificate.id, 1, "再免")
    assert "40" in info.value.errors["hours"]
    app.config["EXEMPTION_MAX_SHARE"] = "0.75"
    grant_exemption(admin, enrolment.id, certificate.id, 20, "按 75% 上限")
    assert fresh_enrolment(enrolment).pending_exemption_hours == 60


def test_certificate_must_be_the_trainees_own_and_for_the_class_occupation(enrolled):
    admin, occupation, trainee, other, enrolment = enrolled
    foreign = certificate_of(admin, other, occupation)
    childcare = create_listed_entry(admin, "occupation", "4-10-01-02", "育婴员")
    unrelated = certificate_of(admin, trainee, childcare)
    before = counts()
    for certificate, reason in ((foreign, "借用证书"), (unrelated, "育婴员证书免修电工")):
        with pytest.raises(ValidationError) as info:
            grant_exemption(admin, enrolment.id, certificate.id, 10, reason)
        assert "certificate_id" in info.value.errors
    with pytest.raises(ValidationError) as info:
        grant_exemption(admin, enrolment.id, certificate_of(admin, trainee, occupation).id, 10, "")
    assert "reason" in info.value.errors
    assert counts()[0] == before[0]


@pytest.mark.parametrize("serial", ["S-001", "S00004400000121300012", "S0000440000012130001234",
                                    "1000044000001213000123", "S00004400000121300012X", "Ｓ000044000001213000123",
                                    "S00004400000121300012\u0663"])
def test_skill_certificate_number_must_have_the_national_format(enrolled, serial):
    admin, occupation, trainee, _, _ = enrolled
    with pytest.raises(ValidationError) as info:
        add_certificate(admin, trainee.id, occupation.id, "level_3", serial, date(2023, 1, 1))
    assert "21 位数字" in info.value.errors["serial"]


def test_special_operation_certificate_is_t_and_the_holders_id_number(enrolled):
    admin, occupation, trainee, other, _ = enrolled
    with pytest.raises(ValidationError) as info:
        add_certificate(admin, trainee.id, occupation.id, "level_5", "T" + other.id_number, date(2023, 1, 1),
                        kind="special_operation")
    assert "serial" in info.value.errors
    certificate = add_certificate(admin, trainee.id, occupation.id, "level_5", "t" + trainee.id_number.lower(),
                                  date(2023, 1, 1), kind="special_operation")
    assert certificate.serial == "T" + trainee.id_number and certificate.kind == "special_operation"


def test_certificate_validation(enrolled):
    admin, occupation, trainee, _, _ = enrolled
    add_certificate(admin, trainee.id, occupation.id, "level_3", "S000000000000000000009", date(2023, 1, 1))
    with pytest.raises(ConflictError):
        add_certificate(admin, trainee.id, occupation.id, "level_3", "S000000000000000000009", date(2023, 1, 1))
    with pytest.raises(ValidationError) as info:
        add_certificate(admin, trainee.id, occupation.id, "level_0", "", local_today() + timedelta(days=1),
                        kind="diploma")
    assert set(info.value.errors) == {"level", "serial", "issued_on", "kind"}
