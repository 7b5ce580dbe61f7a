"""Final assessment and completion (R7): results with pass marks, corrections with a reason and
the earlier result audited, the xAPI statement of each result, the completion certificate
(once, after full hours and a pass, serial by institution and year), and class completion."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.clock import local_today
from app.models import Assessment, AuditEntry, ClassStatus, CompletionCertificate, Role, TrainingClass
from app.services import completion
from app.services.catalogue import set_listing_status
from app.services.certificates import add_certificate, confirm_exemption, grant_exemption
from app.services.completion import AssessmentInput, record_assessment
from lrs.queries import get_statement
from tests.factories import make_trainee, make_user
from tests.subsidy_helpers import assess, attend, class_on, complete_enrolment, enrolment_of, make_world

MARCH = date(2026, 3, 2)


@pytest.fixture
def world(app):
    return make_world()


@pytest.fixture
def enrolled(world):
    trainee = make_trainee("李雷", actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    return klass, enrolment_of(klass, trainee)


def test_result_passes_only_when_both_parts_reach_the_mark(world, enrolled):
    _klass, enrolment = enrolled
    result = assess(world, enrolment, theory="60", practical="59.9")
    assert not result.passed and str(result.theory_pass_mark) == "60.0"
    statement = get_statement(db.session, result.statement_id)
    assert statement.payload["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert statement.payload["context"]["registration"] == str(enrolment.id)
    assert statement.payload["result"]["score"] == {"min": 0, "max": 100, "raw": 59.95, "scaled": 0.5995}


def test_correction_needs_a_reason_and_keeps_the_earlier_result(world, enrolled):
    _klass, enrolment = enrolled
    first = assess(world, enrolment, theory="55", practical="70")
    with pytest.raises(ValidationError):
        assess(world, enrolment, theory="65", practical="70")
    corrected = assess(world, enrolment, theory="65", practical="70", reason="理论卷复核加分")
    assert corrected.id == first.id and corrected.passed and corrected.correction_reason == "理论卷复核加分"
    assert db.session.scalar(select(Assessment.theory_score)) == 65
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "assessment.corrected"))
    assert entry.payload["earlier"]["theory_score"] == "55.0" and entry.payload["reason"] == "理论卷复核加分"
    verb = get_statement(db.session, corrected.statement_id).payload["verb"]["id"]
    assert verb.endswith("/passed") and corrected.statement_id != entry.payload["earlier"]["statement_id"]


@pytest.mark.parametrize("theory, practical", [("101", "60"), ("-1", "60"), ("abc", "60")])
def test_scores_must_be_0_to_100(world, enrolled, theory, practical):
    with pytest.raises(ValidationError) as exc:
        assess(world, enrolled[1], theory=theory, practical=practical)
    assert "theory_score" in exc.value.errors


def test_organisation_must_be_listed(world, enrolled):
    set_listing_status(world.admin, "evaluation_organisation", world.organisation.id, False, "违规")
    with pytest.raises(ValidationError) as exc:
        assess(world, enrolled[1])
    assert "evaluation_organisation_id" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        record_assessment(world.instructor, enrolled[1].id, AssessmentInput("80", "80", MARCH, "not-an-id"))
    assert "evaluation_organisation_id" in exc.value.errors


def test_only_the_class_instructors_and_admins_record(world, enrolled):
    other = make_user(Role.INSTRUCTOR, username="other-instructor")
    for actor in (other, make_user(Role.AUDITOR)):
        with pytest.raises(PermissionDeniedError):
            record_assessment(actor, enrolled[1].id, AssessmentInput("80", "80", MARCH, world.organisation.id))
    assert assess(world, enrolled[1], actor=world.admin).passed


def test_draft_class_is_not_assessed(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee], status=ClassStatus.DRAFT)
    with pytest.raises(ConflictError):
        assess(world, enrolment_of(klass, trainee))


def test_certificate_needs_hours_and_a_pass_and_is_issued_once(world):
    first, second = make_trainee("李雷", actor=world.admin), make_trainee("韩梅梅", actor=world.admin)
    klass = class_on(world, MARCH, [first, second])
    e1, e2 = enrolment_of(klass, first), enrolment_of(klass, second)
    attend(e1, 120)
    assess(world, e1)
    with pytest.raises(ConflictError) as exc:
        completion.issue_certificate(world.instructor, e1.id)
    assert exc.value.code == "hours_incomplete"
    attend(e1, 60, offset=150)
    certificate = completion.issue_certificate(world.instructor, e1.id, now=datetime(2026, 4, 1, 2, tzinfo=timezone.utc))
    assert certificate.serial == f"{world.institution.code}-2026-00001"
    assert completion.issue_certificate(world.admin, e1.id).id == certificate.id
    complete_enrolment(world, e2, theory="30")
    with pytest.raises(ConflictError) as exc:
        completion.issue_certificate(world.instructor, e2.id)
    assert exc.value.code == "not_passed"
    assess(world, e2, theory="70", reason="补考通过")
    assert completion.issue_certificate(world.instructor, e2.id, now=datetime(2026, 4, 2, 2, tzinfo=timezone.utc)).serial.endswith("-2026-00002")


def test_class_completes_when_every_enrolment_is_assessed(world):
    first, second = make_trainee("李雷", actor=world.admin), make_trainee("韩梅梅", actor=world.admin)
    klass = class_on(world, MARCH, [first, second])
    assess(world, enrolment_of(klass, first))
    with pytest.raises(ConflictError) as exc:
        completion.complete_class(world.instructor, klass.id)
    assert exc.value.code == "not_assessed"
    assess(world, enrolment_of(klass, second), theory="10")
    completion.complete_class(world.instructor, klass.id)
    assert db.session.get(TrainingClass, klass.id).status == ClassStatus.COMPLETED
    with pytest.raises(ConflictError):
        completion.complete_class(world.instructor, klass.id)


def _certificates() -> int:
    db.session.rollback()
    return len(db.session.scalars(select(CompletionCertificate)).all())


def test_no_certificate_and_no_completion_while_a_session_is_still_to_come(world):
    """The attack: the class marked completed (已结业) and certificates issued at 08:14 with a
    session the next day."""
    trainee = make_trainee("李雷", actor=world.admin)
    klass = class_on(world, local_today() + timedelta(days=1), [trainee])
    enrolment = enrolment_of(klass, trainee)
    attend(enrolment, 180)  # even full hours credited ahead of time
    assess(world, enrolment)
    with pytest.raises(ConflictError) as exc:
        completion.issue_certificate(world.instructor, enrolment.id)
    assert exc.value.code == "sessions_remaining" and "1" in exc.value.message
    with pytest.raises(ConflictError) as exc:
        completion.complete_class(world.instructor, klass.id)
    assert exc.value.code == "sessions_remaining"
    assert _certificates() == 0 and db.session.get(TrainingClass, klass.id).status == ClassStatus.RUNNING


def test_no_certificate_on_exemptions_alone(world, app):
    app.config["EXEMPTION_MAX_SHARE"] = "1"
    trainee = make_trainee("李雷", actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    enrolment = enrolment_of(klass, trainee)
    certificate = add_certificate(world.admin, trainee.id, world.occupation.id, "level_4",
                                  "S000044000001213000555", date(2025, 1, 1))
    confirm_exemption(make_user(Role.REVIEWER), grant_exemption(world.admin, enrolment.id, certificate.id, 3,
                                                                "全部免修").id)
    assess(world, enrolment)
    with pytest.raises(ConflictError) as exc:
        completion.issue_certificate(world.instructor, enrolment.id)
    assert exc.value.code == "no_verified_minutes" and _certificates() == 0
