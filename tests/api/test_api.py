"""The JSON API: sign-in, roles, CSRF, validation and the class-opening flow."""
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Role, Trainee
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_catalogue, make_trainee, make_user, resident_id


class Api:
    """Signs in through the page, then sends JSON with the CSRF header."""

    def __init__(self, client, auth):
        self.client, self.auth, self.token = client, auth, None

    def sign_in(self, username):
        self.auth.login(username, PASSWORD)
        self.token = csrf_token_from(self.client.get("/").text)

    def get(self, path):
        return self.client.get(path)

    def post(self, path, body=None, **kwargs):
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.token}, **kwargs)

    def patch(self, path, body):
        return self.client.patch(path, json=body, headers={"X-CSRFToken": self.token})


@pytest.fixture
def api(client, auth):
    return Api(client, auth)


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    make_user(Role.REVIEWER)
    make_user(Role.REVIEWER, "insider", institution=institution)
    make_user(Role.TRAINEE)
    return institution, occupation, programme, instructor


def _trainee_count():
    db.session.rollback()  # end the test's read snapshot so the requests' commits are seen
    return db.session.scalar(select(func.count()).select_from(Trainee))


def test_signed_out_gets_401_json(api, world):
    response = api.get("/api/trainees")
    assert response.status_code == 401 and response.json["error"] == "unauthenticated"


def test_wrong_role_gets_403(api, world):
    api.sign_in("trainee")
    assert api.get("/api/trainees").status_code == 403
    assert api.post("/api/trainees", {"name": "x"}).status_code == 403


def test_register_trainee_and_errors(api, world):
    api.sign_in("instructor")
    number = resident_id()
    body = {"name": "马超", "id_number": number, "phone": "13700000000", "category": "退役军人"}
    created = api.post("/api/trainees", body)
    assert created.status_code == 201
    assert created.json["id_number"] == number[:6] + "********" + number[-4:]
    assert created.json["birth_year"] == 1990 and "birth_date" not in created.json  # masked: no birth date
    duplicate = api.post("/api/trainees", body)
    assert duplicate.status_code == 409 and duplicate.json["error"] == "duplicate_id_number"
    bad = api.post("/api/trainees", {**body, "id_number": number[:17] + "Y", "phone": 123})
    assert bad.status_code == 400 and set(bad.json["errors"]) == {"id_number", "phone"}
    assert _trainee_count() == 1


def test_malformed_json_and_missing_csrf(api, world):
    api.sign_in("admin")
    raw = api.client.post("/api/trainees", data="{not json", content_type="application/json",
                          headers={"X-CSRFToken": api.token})
    assert raw.status_code == 400 and raw.json["error"] == "invalid_json"
    no_token = api.client.post("/api/trainees", json={"name": "x"})
    assert no_token.status_code == 400 and no_token.json["error"] == "csrf"
    assert _trainee_count() == 0


def test_admin_sees_full_id_and_can_patch(api, world):
    trainee = make_trainee()
    api.sign_in("admin")
    assert api.get(f"/api/trainees/{trainee.id}").json["id_number"] == trainee.id_number
    patched = api.patch(f"/api/trainees/{trainee.id}", {"phone": "13611112222"})
    assert patched.status_code == 200 and patched.json["phone"] == "13611112222"
    assert api.get("/api/trainees/00000000-0000-0000-0000-000000000000").status_code == 404


def test_class_flow_through_the_api(api, client, auth, world):
    institution, _, programme, instructor = world
    trainee = make_trainee()
    day = (date.today() + timedelta(days=10)).isoformat()
    body = {"code": "API-1", "name": "接口班", "institution_id": str(institution.id),
            "programme_id": str(programme.id), "instructor_ids": [str(instructor.id)],
            "trainee_ids": [str(trainee.id)], "teaching_plan": "计划", "assessment_plan": "考核",
            "sessions": [{"starts_at": f"{day}T09:00:00+08:00", "ends_at": f"{day}T12:00:00+08:00",
                          "kind": "theory", "place": "教室"}]}
    api.sign_in("instructor")
    naive = api.post("/api/classes", {**body, "sessions": [{**body["sessions"][0], "starts_at": f"{day}T09:00:00"}]})
    assert naive.status_code == 400 and "sessions[0].starts_at" in naive.json["errors"]
    created = api.post("/api/classes", body)
    assert created.status_code == 201, created.json
    class_id = created.json["id"]
    assert created.json["sessions"][0]["starts_at"].startswith(f"{day}T01:00:00")  # stored in UTC
    assert api.post(f"/api/classes/{class_id}/submit").json["status"] == "submitted"
    auth.logout()
    api.sign_in("insider")
    assert api.post(f"/api/classes/{class_id}/review", {"approve": True}).status_code == 403
    auth.logout()
    api.sign_in("reviewer")
    assert api.post(f"/api/classes/{class_id}/review", {"approve": "yes"}).status_code == 400
    approved = api.post(f"/api/classes/{class_id}/review", {"approve": True, "comment": "同意"})
    assert approved.json["status"] == "approved"
    listed = api.get("/api/classes?status=approved").json["classes"]
    assert [c["code"] for c in listed] == ["API-1"]
    assert api.get("/api/classes?status=bogus").status_code == 400


def test_revoke_programme_through_the_api(api, world):
    _, _, programme, _ = world
    api.sign_in("admin")
    url = f"/api/catalogue/programme/{programme.id}/status"
    assert api.post(url, {"listed": False}).status_code == 400
    revoked = api.post(url, {"listed": False, "reason": "违规清退"})
    assert revoked.json["status"] == "revoked"
    assert api.get("/api/catalogue/unknown").status_code == 404
    entries = api.get("/api/catalogue/programme").json["entries"]
    assert entries[0]["standards"] == [{"amount": "1200.00", "effective_from": "2026-01-01"}]


def test_roster_upload_through_the_api(api, world):
    institution, _, programme, instructor = world
    from tests.factories import make_class
    admin = db.session.scalar(select(type(instructor)).where(type(instructor).username == "admin"))
    klass = make_class(admin, institution, programme, instructor)
    api.sign_in("instructor")
    csv_bytes = f"姓名,身份证号,手机号,人员类别\n黄月英,{resident_id()},13500000000,高校毕业生\n坏行,1,2,3\n".encode()
    report = api.post(f"/api/classes/{klass.id}/roster",
                      data={"file": (io.BytesIO(csv_bytes), "名册.csv")}, content_type="multipart/form-data")
    assert report.status_code == 200
    assert report.json["enrolled"] == 1 and report.json["refused"][0]["line"] == 3
    wrong = api.post(f"/api/classes/{klass.id}/roster",
                     data={"file": (io.BytesIO(b"x"), "a.pdf")}, content_type="multipart/form-data")
    assert wrong.status_code == 400 and wrong.json["errors"]["file"] == "unsupported_type"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "class.roster_imported")) == 1


def test_unicode_digit_id_number_is_a_400_with_a_message(api, world):
    api.sign_in("instructor")
    number = resident_id()
    body = {"name": "马超", "id_number": number, "phone": "13700000000", "category": "退役军人"}
    assert api.post("/api/trainees", body).status_code == 201
    arabic = number[:-2] + "\u0660\u0661"[0] + number[-1]  # an Arabic-Indic zero where a digit was
    refused = api.post("/api/trainees", {**body, "id_number": arabic})
    assert refused.status_code == 400 and "其他文字的数字" in refused.json["errors"]["id_number"]
    assert _trainee_count() == 1


def test_birth_date_only_beside_the_full_number(api, world):
    """A masked number (6 + 4 shown) plus the birth date is the whole number again."""
    number = resident_id()
    api.sign_in("admin")
    created = api.post("/api/trainees", {"name": "马超", "id_number": number, "phone": "13700000000",
                                         "category": "退役军人"}).json
    assert created["id_number"] == number and created["birth_date"] == "1990-05-17"
    api.auth.logout()
    make_user(Role.AUDITOR)
    api.sign_in("auditor")
    seen = api.get(f"/api/trainees/{created['id']}").json
    assert seen["id_number"] != number and "birth_date" not in seen and seen["birth_year"] == 1990
    assert "05-17" not in str(seen) and "0517" not in str(seen)


def test_payee_through_the_api_full_for_admins_masked_for_instructors(api, world):
    trainee = make_trainee(actor=world[3])
    api.sign_in("admin")
    bad = api.patch(f"/api/trainees/{trainee.id}", {"payee_bank": "中国银行", "payee_account": "123"})
    assert bad.status_code == 400 and "payee_account" in bad.json["errors"]
    ok = api.patch(f"/api/trainees/{trainee.id}", {"payee_bank": "中国银行", "payee_account": "6013820012345678901"})
    assert ok.status_code == 200 and ok.json["payee_account"] == "6013820012345678901"
    api.auth.logout()
    api.sign_in("instructor")
    seen = api.get(f"/api/trainees/{trainee.id}").json
    assert seen["payee_bank"] == "中国银行" and seen["payee_account"] == "***************8901"
