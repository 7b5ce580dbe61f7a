"""Subsidy eligibility and amounts (R5, R6): each reason, the uplift on both sides of the
shortage listing's start, standards by effective date, a revoked programme, an exemption, a
failed assessment, rounding to the fen, and idempotent preparation (the limits against other
claims are in test_subsidy_limits.py)."""
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.errors.exceptions import PermissionDeniedError
from app.extensions import db
from app.models import AuditEntry, ClassStatus, FaceTemplate, Role, SubsidyClaim, User, VerificationMode
from app.services import subsidy
from app.services.catalogue import add_shortage_listing, add_subsidy_standard, set_listing_status
from app.services._tx import transaction
from app.services.certificates import add_certificate, confirm_exemption, grant_exemption
from app.services.consent import arrange_alternative_verification, confirm_alternative_verification
from app.queries.subsidy import list_ledger_ids
from tests.factories import make_trainee, make_user
from tests.subsidy_helpers import assess, attend, class_on, complete_enrolment, enrolment_of, make_world

MARCH = date(2026, 3, 2)


@pytest.fixture
def world(app):
    return make_world()


def only_line(world, klass):
    claim = subsidy.prepare_claim(world.admin, klass.id)
    assert len(claim.lines) == 1
    return claim.lines[0]


def test_eligible_line_keeps_amount_rule_ledger_and_trace(world):
    trainee = make_trainee("李雷", actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    enrolment = enrolment_of(klass, trainee)
    complete_enrolment(world, enrolment)
    line = only_line(world, klass)
    ledger = list_ledger_ids(db.session, enrolment.id)
    assert line.eligible and line.reasons == []
    assert line.amount == Decimal("1200.00") and isinstance(line.amount, Decimal)
    assert line.uplift == 0 and line.standard.amount == Decimal("1200.00")
    assert line.rule == "standard 1200.00 (from 2026-01-01) = 1200.00"
    assert line.net_minutes == 180 and line.hour_minutes == 60
    assert line.ledger_entry_ids == ledger and len(ledger) == 1
    assert line.trace_id == subsidy.trace_id(enrolment.id, ledger) and len(line.trace_id) == 16


def test_uplift_applies_from_the_listing_date_not_the_day_before(world):
    add_shortage_listing(world.admin, world.occupation.id, date(2026, 3, 1), note="急需紧缺")
    before, on = make_trainee("张甲", actor=world.admin), make_trainee("王乙", actor=world.admin)
    class_before = class_on(world, date(2026, 2, 28), [before])
    class_on_day = class_on(world, date(2026, 3, 1), [on])
    complete_enrolment(world, enrolment_of(class_before, before))
    complete_enrolment(world, enrolment_of(class_on_day, on))
    line_before = only_line(world, class_before)
    line_on = only_line(world, class_on_day)
    assert line_before.amount == Decimal("1200.00") and line_before.uplift == 0
    assert line_on.amount == Decimal("1320.00") and line_on.uplift == Decimal("0.10")
    assert line_on.rule == "standard 1200.00 (from 2026-01-01) × 1.10 (shortage list 2026-03-01) = 1320.00"


def test_uplift_on_the_listings_first_and_last_day_but_not_after(world):
    add_shortage_listing(world.admin, world.occupation.id, date(2026, 3, 1), date(2026, 3, 31), note="急需紧缺")
    lines = {}
    for day in (date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)):
        trainee = make_trainee(actor=world.admin)
        klass = class_on(world, day, [trainee])
        complete_enrolment(world, enrolment_of(klass, trainee))
        lines[day] = only_line(world, klass)
    assert [lines[d].amount for d in sorted(lines)] == [Decimal("1200.00"), Decimal("1320.00"),
                                                         Decimal("1320.00"), Decimal("1200.00")]
    assert "shortage list 2026-03-01" in lines[date(2026, 3, 31)].rule


@pytest.mark.parametrize("kind", ["institution", "occupation"])
def test_revoked_institution_or_occupation_gets_no_line(world, kind):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    complete_enrolment(world, enrolment_of(klass, trainee))
    set_listing_status(world.admin, kind, getattr(world, kind).id, False, "违规清退")
    line = only_line(world, klass)
    assert not line.eligible and line.reasons == [f"{kind}_revoked"] and line.amount == 0


def test_uplift_is_configurable(world, app):
    app.config["SUBSIDY_SHORTAGE_UPLIFT"] = Decimal("0.25")
    add_shortage_listing(world.admin, world.occupation.id, date(2026, 1, 1))
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    complete_enrolment(world, enrolment_of(klass, trainee))
    assert only_line(world, klass).amount == Decimal("1500.00")


def test_standard_in_force_on_the_first_session_day(world):
    add_subsidy_standard(world.admin, world.programme.id, "1500", date(2026, 6, 1))
    old, new = make_trainee("陈旧", actor=world.admin), make_trainee("刘新", actor=world.admin)
    class_old = class_on(world, date(2026, 5, 31), [old])
    class_new = class_on(world, date(2026, 6, 1), [new])
    complete_enrolment(world, enrolment_of(class_old, old))
    complete_enrolment(world, enrolment_of(class_new, new))
    assert only_line(world, class_old).amount == Decimal("1200.00")
    assert only_line(world, class_new).amount == Decimal("1500.00")


def test_amount_rounds_half_up_to_the_fen(app):
    world = make_world(amount="1234.55")
    add_shortage_listing(world.admin, world.occupation.id, date(2026, 1, 1))
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    complete_enrolment(world, enrolment_of(klass, trainee))
    line = only_line(world, klass)  # 1234.55 × 1.10 = 1358.005
    assert line.amount == Decimal("1358.01") and str(line.amount) == "1358.01"


def test_revoked_programme_gets_no_line_amount(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    complete_enrolment(world, enrolment_of(klass, trainee))
    set_listing_status(world.admin, "programme", world.programme.id, False, "违规清退")
    line = only_line(world, klass)
    assert not line.eligible and line.reasons == ["programme_revoked"] and line.amount == 0
    assert line.standard_id is None and line.rule == "not eligible: programme_revoked"


def test_class_never_approved(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee], status=ClassStatus.SUBMITTED)
    line = only_line(world, klass)
    assert line.reasons[0] == "class_not_approved"


def test_an_id_card_arrangement_alone_verifies_nobody(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    enrolment = enrolment_of(klass, trainee)
    attend(enrolment, 180, verified=False)
    assess(world, enrolment)
    assert only_line(world, klass).reasons == ["not_verified"]
    arrangement = arrange_alternative_verification(world.admin, trainee.id, "拒绝人脸识别，持身份证核验")
    assert only_line(world, klass).reasons == ["not_verified"]  # pending, and no ID-card check here
    confirm_alternative_verification(make_user(Role.REVIEWER), arrangement.id)
    assert only_line(world, klass).reasons == ["not_verified"]  # confirmed, still no ID-card check


def test_confirmed_arrangement_and_an_id_card_check_verify(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    enrolment = enrolment_of(klass, trainee)
    attend(enrolment, 180, mode=VerificationMode.ALTERNATIVE)
    assess(world, enrolment)
    arrangement = arrange_alternative_verification(world.admin, trainee.id, "拒绝人脸识别，持身份证核验")
    assert only_line(world, klass).reasons == ["not_verified"]  # the reviewer has not confirmed
    confirm_alternative_verification(make_user(Role.REVIEWER), arrangement.id)
    assert only_line(world, klass).eligible


def test_zero_attendance_is_never_eligible_whatever_the_exemptions(world, app):
    """The attack: a certificate, every hour exempted (cap raised to 100 %), the ID-card
    alternative confirmed and a passed assessment, with 0 minutes and 0 ledger entries."""
    app.config["EXEMPTION_MAX_SHARE"] = "1"
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    enrolment = enrolment_of(klass, trainee)
    certificate = add_certificate(world.admin, trainee.id, world.occupation.id, "level_5",
                                  "S000044000001213000123", date(2025, 6, 1))
    reviewer = make_user(Role.REVIEWER)
    confirm_exemption(reviewer, grant_exemption(world.admin, enrolment.id, certificate.id, 3, "免修全部").id)
    confirm_alternative_verification(reviewer, arrange_alternative_verification(
        world.admin, trainee.id, "拒绝人脸识别").id)
    with transaction() as session:  # even a face template on file does not stand in for minutes
        session.add(FaceTemplate(trainee_id=trainee.id, encoder="test", sealed=b"x", captures=3))
    assess(world, enrolment)
    line = only_line(world, klass)
    assert not line.eligible and line.amount == 0 and line.net_minutes == 0 and line.ledger_entry_ids == []
    assert line.reasons == ["no_verified_minutes"]
    assert "仅凭免修不予补贴" in subsidy.reason_message("no_verified_minutes")


def test_short_hours_and_an_exemption_lowering_the_requirement(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    enrolment = enrolment_of(klass, trainee)
    attend(enrolment, 120)
    assess(world, enrolment)
    assert only_line(world, klass).reasons == ["hours_short"]
    certificate = add_certificate(world.admin, trainee.id, world.occupation.id, "level_5",
                                  "S000044000001213000124", date(2025, 6, 1))
    exemption = grant_exemption(world.admin, enrolment.id, certificate.id, 1, "持五级证书，免修 1 学时")
    assert only_line(world, klass).reasons == ["hours_short"]  # pending: lowers nothing yet
    confirm_exemption(make_user(Role.REVIEWER), exemption.id)
    line = only_line(world, klass)
    assert line.eligible and line.amount == Decimal("1200.00") and line.net_minutes == 120


def test_missing_and_failed_assessment(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    enrolment = enrolment_of(klass, trainee)
    attend(enrolment, 180)
    assert only_line(world, klass).reasons == ["assessment_missing"]
    assess(world, enrolment, theory="59.9", practical="90")
    line = only_line(world, klass)
    assert line.reasons == ["assessment_failed"] and line.amount == 0


def test_preparing_again_is_idempotent_and_a_ledger_change_makes_a_new_version(world):
    trainee, other = make_trainee("张甲", actor=world.admin), make_trainee("王乙", actor=world.admin)
    klass = class_on(world, MARCH, [trainee, other])
    complete_enrolment(world, enrolment_of(klass, trainee))
    attend(enrolment_of(klass, other), 100)
    first = subsidy.prepare_claim(world.admin, klass.id)
    again = subsidy.prepare_claim(world.instructor, klass.id)
    assert again.id == first.id and again.version == 1
    assert [(l.trace_id, l.amount) for l in again.lines] == [(l.trace_id, l.amount) for l in first.lines]
    assert first.total_amount == Decimal("1200.00") and first.eligible_count == 1
    attend(enrolment_of(klass, other), 80, offset=120)
    assess(world, enrolment_of(klass, other))
    second = subsidy.prepare_claim(world.admin, klass.id)
    assert second.version == 2 and second.total_amount == Decimal("2400.00")
    assert db.session.scalar(select(SubsidyClaim).where(SubsidyClaim.version == 1)) is not None
    prepared = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "subsidy.claim_prepared")).all()
    assert len(prepared) == 2


def test_only_admins_and_the_class_instructors_prepare(world):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    for role, name in ((Role.INSTRUCTOR, "other-instructor"), (Role.AUDITOR, "auditor"),
                       (Role.REVIEWER, "reviewer"), (Role.TRAINEE, "trainee")):
        with pytest.raises(PermissionDeniedError):
            subsidy.prepare_claim(make_user(role, username=name), klass.id)


def test_concurrent_preparers_make_one_version(world, app):
    trainee = make_trainee(actor=world.admin)
    klass = class_on(world, MARCH, [trainee])
    complete_enrolment(world, enrolment_of(klass, trainee))
    admin_id, errors, claims = world.admin.id, [], []

    def prepare():
        with app.app_context():
            try:
                claims.append(subsidy.prepare_claim(db.session.get(User, admin_id), klass.id).id)
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=prepare) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(claims)) == 1
    db.session.rollback()  # end the test's read snapshot
    assert db.session.scalars(select(SubsidyClaim.version)).all() == [1]
