"""Pages for registration, catalogues and the class-opening workflow (test client)."""
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ClassStatus, ListingStatus, Role, Trainee, TrainingClass
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_catalogue, make_trainee, make_user, resident_id


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    make_user(Role.REVIEWER)
    return institution, occupation, programme, instructor


def _post(client, page_url, action_url, data, **kwargs):
    token = csrf_token_from(client.get(page_url).text)
    return client.post(action_url, data={**data, "csrf_token": token}, **kwargs)


def test_register_trainee_page_names_problems_in_chinese(client, auth, world):
    auth.login("instructor", PASSWORD)
    bad = _post(client, "/trainees/new", "/trainees/new", {
        "name": "张三", "id_number": "110105194912310021", "phone": "138", "category": "高校毕业生"})
    assert bad.status_code == 400
    assert "校验码错误：最后一位应为 X" in bad.text and "11 位手机号码" in bad.text
    assert 'value="张三"' in bad.text  # what was typed stays in the form
    good = _post(client, "/trainees/new", "/trainees/new", {
        "name": "张三", "id_number": "11010519491231002X", "phone": "13800001234", "category": "高校毕业生"})
    assert good.status_code == 200 and "激活码" in good.text  # the activation slip, shown once
    trainee_id = db.session.scalar(select(Trainee.id).where(Trainee.id_number == "11010519491231002X"))
    page = client.get(f"/trainees/{trainee_id}").text
    assert "110105********002X" in page and "1949" in page
    assert "1949-12-31" not in page  # beside the masked number the birth date would rebuild it


def test_application_form_review_and_approval(client, auth, world):
    institution, _, programme, instructor = world
    trainee = make_trainee()
    day = date.today() + timedelta(days=5)
    auth.login("instructor", PASSWORD)
    form = {"code": "WEB-1", "name": "网页班", "institution_id": str(institution.id),
            "programme_id": str(programme.id), "instructor_ids": str(instructor.id),
            "roster": trainee.id_number, "teaching_plan": "计划", "assessment_plan": "考核",
            "s_day": [str(day)] * 2, "s_start": ["09:00", "11:00"], "s_end": ["12:00", "13:00"],
            "s_kind": ["theory", "practice"], "s_place": ["教室A", "车间"]}
    overlap = _post(client, "/classes/new", "/classes/new", form)
    assert overlap.status_code == 400 and "时间重叠" in overlap.text
    bad_line = _post(client, "/classes/new", "/classes/new", {**form, "s_day": ["明天上午", str(day)]})
    assert "第 1 行" in bad_line.text
    form.update({"s_day": [str(day)] * 3, "s_start": ["09:00", "14:00", "19:00"], "s_end": ["12:00", "17:00", "21:00"],
                 "s_kind": ["theory", "practice", "theory"], "s_place": ["教室A", "车间", "在线"]})
    created = _post(client, "/classes/new", "/classes/new", form)
    assert created.status_code == 302
    class_url = created.headers["Location"]
    submitted = _post(client, class_url, class_url + "/submit", {}, follow_redirects=True)
    assert "已提交审核" in submitted.text
    auth.logout()
    auth.login("reviewer", PASSWORD)
    queue = client.get("/classes?status=submitted").text
    assert "网页班" in queue
    refused = _post(client, class_url, class_url + "/review", {"decision": "reject", "comment": ""},
                    follow_redirects=True)
    assert "请填写驳回原因" in refused.text
    approved = _post(client, class_url, class_url + "/review", {"decision": "approve", "comment": "同意"},
                     follow_redirects=True)
    assert "已批准" in approved.text
    db.session.rollback()
    klass = db.session.scalar(select(TrainingClass).where(TrainingClass.code == "WEB-1"))
    assert klass.status is ClassStatus.APPROVED and len(klass.sessions) == 3
    assert [s.online for s in klass.sessions] == [False, False, True]


def test_roster_upload_page_shows_report(client, auth, world):
    institution, _, programme, instructor = world
    from tests.factories import make_class
    admin = db.session.scalar(select(type(instructor)).where(type(instructor).username == "admin"))
    klass = make_class(admin, institution, programme, instructor)
    auth.login("instructor", PASSWORD)
    url = f"/classes/{klass.id}"
    data = f"姓名,身份证号,手机号,人员类别\n貂蝉,{resident_id()},13500000001,高校毕业生\n吕布,123,1,x\n".encode()
    page = _post(client, url, url + "/roster", {"file": (io.BytesIO(data), "名册.csv")},
                 content_type="multipart/form-data")
    assert page.status_code == 200
    assert "加入名册 1 人" in page.text and "第 3 行" in page.text
    db.session.rollback()
    assert db.session.scalar(select(Trainee.name).where(Trainee.name == "貂蝉")) == "貂蝉"


def test_catalogue_admin_revokes_and_lists_programme(client, auth, world):
    _, occupation, programme, _ = world
    auth.login("admin", PASSWORD)
    no_reason = _post(client, "/catalogue/", f"/catalogue/programme/{programme.id}/status",
                      {"status": "revoked", "reason": ""}, follow_redirects=True)
    assert "请填写原因" in no_reason.text
    revoked = _post(client, "/catalogue/", f"/catalogue/programme/{programme.id}/status",
                    {"status": "revoked", "reason": "违规清退"}, follow_redirects=True)
    assert "已清退" in revoked.text
    created = _post(client, "/catalogue/", "/catalogue/programmes", {
        "code": "P-NEW", "name": "焊工初级", "occupation_id": str(occupation.id), "level": "level_5",
        "category": "upgrading", "delivery_mode": "blended", "theory_hours": "30",
        "practice_hours": "50", "subsidy_amount": "1000", "subsidy_from": "2026-01-01"},
        follow_redirects=True)
    assert "焊工初级 已列入目录" in created.text
    assert "<td>P-NEW</td><td>焊工初级</td>" in created.text
    db.session.rollback()
    db.session.refresh(programme)
    assert programme.status is ListingStatus.REVOKED


def test_reviewer_cannot_use_admin_catalogue_forms(client, auth, world):
    _, _, programme, _ = world
    auth.login("reviewer", PASSWORD)
    response = _post(client, "/catalogue/", f"/catalogue/programme/{programme.id}/status",
                     {"status": "revoked", "reason": "x"})
    assert response.status_code == 403
