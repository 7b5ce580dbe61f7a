"""Certificates and exemptions (R10)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.errors.exceptions import ConflictError, ValidationError
from app.extensions import db
from app.models import Enrolment, Role
from app.services.certificates import add_certificate, grant_exemption
from tests.factories import make_catalogue, make_class, make_trainee, make_user


@pytest.fixture
def enrolled(app):
    admin = make_user(Role.ADMIN)
    institution, occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    trainee, other = make_trainee("黄忠"), make_trainee("魏延")
    make_class(admin, institution, programme, instructor, [trainee, other])
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.trainee_id == trainee.id))
    return admin, occupation, trainee, other, enrolment


def test_exemption_lowers_required_hours_with_reason(enrolled):
    admin, occupation, trainee, _, enrolment = enrolled
    certificate = add_certificate(admin, trainee.id, occupation.id, "level_5", "S-001", date(2024, 5, 1))
    grant_exemption(admin, enrolment.id, certificate.id, 20, "持电工五级证书，免修基础理论")
    db.session.refresh(enrolment)
    assert enrolment.exempted_hours == 20
    assert enrolment.exemptions[0].certificate.serial == "S-001"
    with pytest.raises(ValidationError) as info:
        grant_exemption(admin, enrolment.id, certificate.id, 61, "再免")  # only 60 h remain
    assert "hours" in info.value.errors


def test_exemption_rules(enrolled):
    admin, occupation, trainee, other, enrolment = enrolled
    foreign = add_certificate(admin, other.id, occupation.id, "level_4", "S-002", date(2024, 5, 1))
    with pytest.raises(ValidationError) as info:
        grant_exemption(admin, enrolment.id, foreign.id, 10, "借用证书")
    assert "certificate_id" in info.value.errors
    own = add_certificate(admin, trainee.id, occupation.id, "level_5", "S-003", date(2024, 5, 1))
    with pytest.raises(ValidationError) as info:
        grant_exemption(admin, enrolment.id, own.id, 10, "")
    assert "reason" in info.value.errors


def test_certificate_validation(enrolled):
    admin, occupation, trainee, _, _ = enrolled
    add_certificate(admin, trainee.id, occupation.id, "level_3", "S-9", date(2023, 1, 1))
    with pytest.raises(ConflictError):
        add_certificate(admin, trainee.id, occupation.id, "level_3", "S-9", date(2023, 1, 1))
    with pytest.raises(ValidationError) as info:
        add_certificate(admin, trainee.id, occupation.id, "level_0", "", date.today() + timedelta(days=1))
    assert set(info.value.errors) == {"level", "serial", "issued_on"}
