"""Working on an application: change a draft, revise after a rejection with the reviewer's
comment beside the form, withdraw with a reason; others' and late changes are refused."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, ClassStatus, Role, TrainingClass
from app.services.catalogue import create_listed_entry
from app.services.classes import draft_class, review_class, submit_class
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, application, make_catalogue, make_trainee, make_user


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, _occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    reviewer = make_user(Role.REVIEWER)
    first, second = make_trainee("甲一"), make_trainee("乙二")
    klass = draft_class(instructor, application(institution, programme, [instructor], [first]))
    return admin, instructor, reviewer, klass, first, second


def _status(klass):
    db.session.rollback()
    return db.session.get(TrainingClass, klass.id)


def test_a_draft_is_changed_then_revised_after_rejection(client, auth, world):
    _admin, instructor, reviewer, klass, first, second = world
    auth.login("instructor", PASSWORD)
    url = f"/classes/{klass.id}/edit"
    page = client.get(url).text
    day = klass.start_date.isoformat()
    assert f'value="{day}"' in page and 'value="09:00"' in page and 'value="12:00"' in page
    assert first.id_number in page and 'value="教室 A"' in page
    form = {"csrf_token": csrf_token_from(page), "name": "电工初级 1 班（修改）",
            "programme_id": str(klass.programme_id), "instructor_ids": str(instructor.id),
            "s_day": [day, day], "s_start": ["09:00", "14:00"], "s_end": ["12:00", "17:00"],
            "s_kind": ["theory", "practice"], "s_place": ["教室 A", "实训车间"],
            "roster": f"{first.id_number}\n{second.id_number}", "teaching_plan": "新计划", "resources": "教室",
            "assessment_plan": "笔试"}
    saved = client.post(url, data=form, follow_redirects=True)
    assert "申请已保存" in saved.text and "电工初级 1 班（修改）" in saved.text
    changed = _status(klass)
    assert len(changed.enrolments) == 2 and changed.teaching_plan == "新计划"
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "class.revised"))
    bad = client.post(url, data={**form, "s_day": ["明天", day]})
    assert bad.status_code == 400 and "第 1 行" in bad.text
    submit_class(instructor, klass.id)
    for method in (client.get, client.post):  # submitted: no more changes
        refused = method(url, data=form, follow_redirects=True)
        assert "只有草稿或被驳回的申请" in refused.text
    review_class(reviewer, klass.id, approve=False, comment="课时安排不足")
    page = client.get(url).text
    assert 'id="review-comment"' in page and "课时安排不足" in page
    assert "申请已保存" in client.post(url, data={**form, "teaching_plan": "补足课时"}, follow_redirects=True).text
    submit_class(instructor, klass.id)
    assert _status(klass).status is ClassStatus.SUBMITTED


def test_withdraw_needs_a_reason_and_staff_of_the_institution(client, auth, world):
    admin, _instructor, _reviewer, klass, _first, _second = world
    other = create_listed_entry(admin, "institution", "OTHER-W", "别的学校")
    make_user(Role.INSTRUCTOR, "stranger", institution=other)
    auth.login("stranger", PASSWORD)
    page = client.get(f"/classes/{klass.id}").text
    token = csrf_token_from(page)
    assert client.post(f"/classes/{klass.id}/withdraw", data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert client.post(f"/classes/{klass.id}/edit", data={"csrf_token": token, "name": "偷改"}).status_code == 403
    assert _status(klass).status is ClassStatus.DRAFT and _status(klass).name == "电工初级 1 班"
    auth.logout()
    auth.login("instructor", PASSWORD)
    page = client.get(f"/classes/{klass.id}").text
    token = csrf_token_from(page)
    no_reason = client.post(f"/classes/{klass.id}/withdraw", data={"csrf_token": token, "reason": ""},
                            follow_redirects=True)
    assert "请说明撤回申请的原因" in no_reason.text and _status(klass).status is ClassStatus.DRAFT
    done = client.post(f"/classes/{klass.id}/withdraw", data={"csrf_token": token, "reason": "招生不足"},
                       follow_redirects=True)
    assert "申请已撤回" in done.text and _status(klass).status is ClassStatus.WITHDRAWN
    again = client.post(f"/classes/{klass.id}/withdraw", data={"csrf_token": token, "reason": "再撤"},
                        follow_redirects=True)
    assert "只有尚未批准的申请才能撤回" in again.text
