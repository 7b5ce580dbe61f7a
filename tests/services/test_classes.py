"""Class opening (R7): draft → submitted → approved/rejected → running, with its rules."""
from datetime import date, datetime, timedelta, timezone

import pytest

from app.errors.exceptions import ConflictError, PermissionDeniedError, ValidationError
from app.extensions import db
from app.models import AuditEntry, ClassStatus, Role, TrainingClass
from app.services.catalogue import set_listing_status
from app.services.classes import (accepts_check_ins, draft_class, review_class, start_due_classes,
                                  submit_class)
from tests.factories import (application, make_catalogue, make_class, make_trainee, make_user,
                             session_at)


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, _, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    reviewer = make_user(Role.REVIEWER)
    trainees = [make_trainee("张一"), make_trainee("张二")]
    return admin, institution, programme, instructor, reviewer, trainees


def test_full_workflow_is_audited(world):
    admin, institution, programme, instructor, reviewer, trainees = world
    klass = draft_class(instructor, application(institution, programme, [instructor], trainees))
    assert klass.status is ClassStatus.DRAFT and len(klass.sessions) == 2
    submit_class(instructor, klass.id)
    review_class(reviewer, klass.id, approve=True, comment="同意开班")
    assert klass.status is ClassStatus.APPROVED and not accepts_check_ins(klass)
    # the class opens with the first session's check-in window (15 minutes' tolerance by default)
    start_due_classes(now=klass.sessions[0].starts_at - timedelta(minutes=16))
    assert klass.status is ClassStatus.APPROVED
    start_due_classes(now=klass.sessions[0].starts_at - timedelta(minutes=15))
    db.session.refresh(klass)
    assert klass.status is ClassStatus.RUNNING and accepts_check_ins(klass)
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.seq)
               if e.object_id == str(klass.id)]
    assert actions == ["class.drafted", "class.submitted", "class.approved", "class.started"]


def test_revoked_programme_blocks_new_classes(world):
    admin, institution, programme, instructor, _, trainees = world
    set_listing_status(admin, "programme", programme.id, False, "清退")
    with pytest.raises(ValidationError) as info:
        draft_class(admin, application(institution, programme, [instructor], trainees))
    assert "programme_id" in info.value.errors


def _status(klass):
    db.session.expire_all()
    return db.session.get(TrainingClass, klass.id).status


@pytest.mark.parametrize("kind", ["occupation", "programme", "institution"])
def test_revoked_after_drafting_is_neither_submitted_nor_approved(world, kind):
    """R8 drift: an occupation revoked after drafting was still submitted and approved."""
    admin, institution, programme, instructor, reviewer, trainees = world
    entry_id = {"occupation": programme.occupation_id, "programme": programme.id,
                "institution": institution.id}[kind]
    drafted = draft_class(instructor, application(institution, programme, [instructor], trainees))
    submitted = draft_class(instructor, application(institution, programme, [instructor], trainees))
    submit_class(instructor, submitted.id)
    set_listing_status(admin, kind, entry_id, False, "违规清退")
    with pytest.raises(ValidationError) as info:
        submit_class(instructor, drafted.id)
    assert info.value.code == f"{kind}_revoked"
    with pytest.raises(ValidationError) as info:
        review_class(reviewer, submitted.id, True, "")
    assert info.value.code == f"{kind}_revoked"
    assert _status(drafted) == ClassStatus.DRAFT and _status(submitted) == ClassStatus.SUBMITTED
    with pytest.raises(ValidationError):
        draft_class(admin, application(institution, programme, [instructor], trainees))
    set_listing_status(admin, kind, entry_id, True, "整改后恢复")
    review_class(reviewer, submitted.id, True, "")
    assert _status(submitted) == ClassStatus.APPROVED


def test_overlapping_sessions_are_refused(world):
    admin, institution, programme, instructor, _, trainees = world
    day = date.today() + timedelta(days=3)
    sessions = [session_at(day, 9, 12), session_at(day, 11, 13, "practice")]
    with pytest.raises(ValidationError) as info:
        draft_class(admin, application(institution, programme, [instructor], trainees, sessions))
    assert "重叠" in info.value.errors["sessions"]


@pytest.mark.parametrize("sessions, phrase", [
    ([], "至少"),
    ("backwards", "结束时间早于"),
    ("no_place", "地点"),
])
def test_bad_sessions_are_named(world, sessions, phrase):
    admin, institution, programme, instructor, _, trainees = world
    day = date.today() + timedelta(days=3)
    if sessions == "backwards":
        sessions = [session_at(day, 12, 9)]
    elif sessions == "no_place":
        sessions = [session_at(day, 9, 12, place="")]
    with pytest.raises(ValidationError) as info:
        draft_class(admin, application(institution, programme, [instructor], trainees, sessions))
    assert phrase in info.value.errors["sessions"]


def test_other_institutions_staff_cannot_apply(world):
    admin, institution, programme, instructor, _, trainees = world
    outsider = make_user(Role.INSTRUCTOR, "outsider")
    with pytest.raises(PermissionDeniedError):
        draft_class(outsider, application(institution, programme, [instructor], trainees))


def test_reviewer_of_the_same_institution_cannot_approve(world):
    admin, institution, programme, instructor, _, trainees = world
    insider = make_user(Role.REVIEWER, "insider", institution=institution)
    klass = make_class(admin, institution, programme, instructor, trainees)
    submit_class(admin, klass.id)
    with pytest.raises(PermissionDeniedError):
        review_class(insider, klass.id, approve=True, comment="")
    db.session.refresh(klass)
    assert klass.status is ClassStatus.SUBMITTED


def test_rejection_needs_a_comment_and_allows_resubmission(world):
    admin, institution, programme, instructor, reviewer, trainees = world
    klass = make_class(admin, institution, programme, instructor, trainees)
    submit_class(admin, klass.id)
    with pytest.raises(ValidationError):
        review_class(reviewer, klass.id, approve=False, comment=" ")
    review_class(reviewer, klass.id, approve=False, comment="教学计划不完整")
    assert klass.status is ClassStatus.REJECTED
    submit_class(admin, klass.id)
    assert klass.status is ClassStatus.SUBMITTED


def test_incomplete_application_cannot_be_submitted(world):
    admin, institution, programme, instructor, _, _ = world
    klass = draft_class(admin, application(institution, programme, [instructor], []))
    with pytest.raises(ValidationError) as info:
        submit_class(admin, klass.id)
    assert "roster" in info.value.errors
    assert info.value.message == "申请材料不完整：学员名册。"   # in words, not the field's name


def test_state_rules(world):
    admin, institution, programme, instructor, reviewer, trainees = world
    klass = make_class(admin, institution, programme, instructor, trainees)
    with pytest.raises(ConflictError):
        review_class(reviewer, klass.id, approve=True, comment="")
    with pytest.raises(PermissionDeniedError):
        review_class(admin, klass.id, approve=True, comment="")
    submit_class(admin, klass.id)
    with pytest.raises(ConflictError):
        submit_class(admin, klass.id)


def test_duplicate_class_code(world):
    admin, institution, programme, instructor, _, trainees = world
    draft_class(admin, application(institution, programme, [instructor], trainees, code="C-DUP"))
    with pytest.raises(ConflictError):
        draft_class(admin, application(institution, programme, [instructor], trainees, code="C-DUP"))


def test_naive_times_are_refused(world):
    admin, institution, programme, instructor, _, trainees = world
    from app.services.classes import SessionInput
    naive = [SessionInput(datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 12), "theory", "A")]
    with pytest.raises(ValidationError):
        draft_class(admin, application(institution, programme, [instructor], trainees, naive))
    aware = [SessionInput(datetime(2026, 12, 1, 1, tzinfo=timezone.utc),
                          datetime(2026, 12, 1, 4, tzinfo=timezone.utc), "theory", "A")]
    before = datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert draft_class(admin, application(institution, programme, [instructor], trainees, aware), now=before)
