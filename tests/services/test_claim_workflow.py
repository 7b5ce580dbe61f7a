"""The bureau's claim workflow: submit → review every line at once → public notice → paid, each
step refused out of turn or by the wrong account with nothing changed, audited with its statement."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import AuditEntry, ClaimStatus, Role, SubsidyClaim
from app.services import subsidy
from app.services.claim_workflow import mark_paid, review_claim, submit_claim
from app.services.working_days import working_days_after
from app.services.catalogue import create_listed_entry
from lrs.storage.tables import Statement
from tests.factories import PASSWORD, make_trainee, make_user
from tests.subsidy_helpers import class_on, complete_enrolment, enrolment_of, make_world

REVIEWED = datetime(2026, 3, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Beijing


@pytest.fixture
def claim(app):
    world = make_world()
    first, second = make_trainee("李雷", actor=world.admin), make_trainee("韩梅梅", actor=world.admin)
    klass = class_on(world, date(2026, 3, 2), [first, second])
    complete_enrolment(world, enrolment_of(klass, first))
    complete_enrolment(world, enrolment_of(klass, second))
    make_user(Role.REVIEWER)
    make_user(Role.AUDITOR)
    return world, subsidy.prepare_claim(world.instructor, klass.id)


def _fresh(claim_id) -> SubsidyClaim:
    db.session.rollback()
    return db.session.get(SubsidyClaim, claim_id)


def _user(username):
    from app.models import User
    return db.session.scalar(select(User).where(User.username == username))


def _decisions(claim, returned_reason="身份证复印件缺失"):
    lines = sorted(claim.lines, key=lambda l: l.position)
    return {str(lines[0].id): ("accepted", ""), str(lines[1].id): ("returned", returned_reason)}


def test_working_days_skip_weekends(app):
    assert working_days_after(date(2026, 3, 20), 5) == date(2026, 3, 27)  # Fri → next Fri
    assert working_days_after(date(2026, 3, 21), 1) == date(2026, 3, 23)  # Sat → Mon


def test_working_days_skip_public_holidays_and_count_weekend_working_days(app):
    # from Wed 30 Sep: 1–7 Oct are off (国庆), Sat 10 Oct is worked (调休)
    assert working_days_after(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_the_notice_spanning_national_day_ends_later(claim):
    world, prepared = claim
    submit_claim(world.instructor, prepared.id)
    before_national_day = datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc)  # Wed 10:00 in Beijing
    review_claim(_user("reviewer"), prepared.id, _decisions(_fresh(prepared.id)), now=before_national_day)
    reviewed = _fresh(prepared.id)
    assert (reviewed.notice_from, reviewed.notice_until) == (date(2026, 9, 30), date(2026, 10, 13))
    with pytest.raises(ConflictError) as running:  # on the day five weekdays would have ended it
        mark_paid(_user("reviewer"), prepared.id, "BANK-2026-101", now=datetime(2026, 10, 8, 2, tzinfo=timezone.utc))
    assert running.value.code == "notice_running" and _fresh(prepared.id).status is ClaimStatus.IN_NOTICE


def test_the_whole_workflow_is_audited_with_statements(claim):
    world, prepared = claim
    reviewer = _user("reviewer")
    submit_claim(world.instructor, prepared.id)
    with pytest.raises(ConflictError):  # the claim is with the bureau: not prepared again
        subsidy.prepare_claim(world.instructor, prepared.class_id)
    reviewed = review_claim(reviewer, prepared.id, _decisions(_fresh(prepared.id)), now=REVIEWED)
    reviewed = _fresh(prepared.id)
    assert reviewed.status is ClaimStatus.IN_NOTICE
    assert (reviewed.notice_from, reviewed.notice_until) == (date(2026, 3, 20), date(2026, 3, 27))
    lines = sorted(reviewed.lines, key=lambda l: l.position)
    assert [l.review for l in lines] == ["accepted", "returned"] and lines[1].review_reason == "身份证复印件缺失"
    assert reviewed.accepted_amount == lines[0].amount == Decimal("1200.00")
    with pytest.raises(ConflictError) as running:
        mark_paid(reviewer, prepared.id, "BANK-2026-001", now=datetime(2026, 3, 27, 8, tzinfo=timezone.utc))
    assert running.value.code == "notice_running"
    mark_paid(reviewer, prepared.id, "BANK-2026-001", now=datetime(2026, 3, 29, 16, 30, tzinfo=timezone.utc))
    paid = _fresh(prepared.id)
    assert paid.status is ClaimStatus.PAID and paid.payment_reference == "BANK-2026-001"
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_id == str(prepared.id)).order_by(AuditEntry.seq))]
    assert actions == ["subsidy.claim_prepared", "subsidy.claim_submitted", "subsidy.claim_reviewed",
                       "subsidy.claim_paid"]
    verbs = [s.verb_iri.rsplit("/", 1)[1] for s in db.session.scalars(select(Statement)).all()
             if s.payload["object"]["id"].endswith(f"/subsidy-claims/{prepared.id}")]
    assert sorted(verbs) == ["paid-claim", "reviewed-claim", "submitted-claim"]


def test_steps_out_of_turn_or_by_the_wrong_account_change_nothing(claim):
    world, prepared = claim
    reviewer, auditor = _user("reviewer"), _user("auditor")
    other = create_listed_entry(world.admin, "institution", "OTHER-1", "别的学校")
    stranger = make_user(Role.INSTRUCTOR, "stranger", institution=other)
    with pytest.raises(ConflictError):
        review_claim(reviewer, prepared.id, _decisions(prepared))
    with pytest.raises(PermissionDeniedError):
        submit_claim(stranger, prepared.id)
    assert _fresh(prepared.id).status is ClaimStatus.PREPARED
    submit_claim(world.instructor, prepared.id)
    submitted = _fresh(prepared.id)
    for actor in (world.instructor, auditor, world.admin):
        with pytest.raises(PermissionDeniedError):
            review_claim(actor, prepared.id, _decisions(submitted))
    half = dict(list(_decisions(submitted).items())[:1])
    with pytest.raises(ValidationError):  # every eligible line at once
        review_claim(reviewer, prepared.id, half)
    with pytest.raises(ValidationError):  # a return needs its reason
        review_claim(reviewer, prepared.id, _decisions(submitted, returned_reason=" "))
    with pytest.raises(ConflictError):
        mark_paid(reviewer, prepared.id, "BANK-1")
    unchanged = _fresh(prepared.id)
    assert unchanged.status is ClaimStatus.SUBMITTED and all(l.review == "" for l in unchanged.lines)
    review_claim(reviewer, prepared.id, _decisions(unchanged), now=REVIEWED)
    with pytest.raises(PermissionDeniedError):
        mark_paid(auditor, prepared.id, "BANK-1", now=datetime(2026, 4, 1, tzinfo=timezone.utc))
    with pytest.raises(ValidationError):
        mark_paid(reviewer, prepared.id, "", now=datetime(2026, 4, 1, tzinfo=timezone.utc))
    assert _fresh(prepared.id).status is ClaimStatus.IN_NOTICE


def test_all_lines_returned_sends_the_claim_back_for_resubmission(claim):
    world, prepared = claim
    reviewer = _user("reviewer")
    submit_claim(world.instructor, prepared.id)
    lines = _fresh(prepared.id).lines
    review_claim(reviewer, prepared.id, {str(l.id): ("returned", "考勤存疑") for l in lines}, now=REVIEWED)
    returned = _fresh(prepared.id)
    assert returned.status is ClaimStatus.RETURNED and returned.notice_until is None
    assert returned.accepted_amount == Decimal("0.00")
    submit_claim(world.instructor, prepared.id)
    assert _fresh(prepared.id).status is ClaimStatus.SUBMITTED


def test_the_public_notice_page_masks_names_and_ids(claim, client):
    world, prepared = claim
    submit_claim(world.instructor, prepared.id)
    review_claim(_user("reviewer"), prepared.id, _decisions(_fresh(prepared.id)), now=REVIEWED)
    page = client.get("/subsidy/notices").text
    assert "李*" in page and "李雷" not in page and "韩*" not in page  # the returned line is not published
    assert "2026-03-27" in page and "1200.00" in page
    number = _fresh(prepared.id).lines[0].trainee.id_number
    assert number not in page


def test_the_steps_are_on_the_learners_trace(claim, client, auth):
    world, prepared = claim
    submit_claim(world.instructor, prepared.id)
    review_claim(_user("reviewer"), prepared.id, _decisions(_fresh(prepared.id)), now=REVIEWED)
    mark_paid(_user("reviewer"), prepared.id, "BANK-9", now=datetime(2026, 4, 1, tzinfo=timezone.utc))
    trainee_id = sorted(_fresh(prepared.id).lines, key=lambda l: l.position)[0].trainee_id
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{trainee_id}").text
    for words in ("补贴申报已提交人社局", "补贴明细已审核：通过", "补贴已拨付", "BANK-9", "补贴标准 1200.00 元"):
        assert words in page, words
