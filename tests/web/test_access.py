"""Pages by role: navigation, 403 for the wrong role, sign-in for nobody, masked ID numbers."""
import pytest

from app.models import Role
from app.services.demo import seed_demo
from app.services.resident_id import check_digit, mask_resident_id
from tests.factories import PASSWORD, make_user

PAGES = {"/classes", "/catalogue/", "/trainees", "/camera", "/admin/users", "/audit/", "/subsidy/"}
ALLOWED = {
    Role.ADMIN: {"/classes", "/catalogue/", "/trainees", "/camera", "/admin/users", "/audit/", "/subsidy/"},
    Role.REVIEWER: {"/classes", "/catalogue/", "/subsidy/"},
    Role.INSTRUCTOR: {"/classes", "/catalogue/", "/trainees", "/camera"},
    Role.AUDITOR: {"/classes", "/catalogue/", "/trainees", "/audit/", "/subsidy/"},
    Role.TRAINEE: {"/camera"},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_its_pages_and_no_others(client, auth, role):
    make_user(role)
    auth.login(role.value, PASSWORD)
    home = client.get("/")
    for path in PAGES:
        status = client.get(path).status_code
        if path in ALLOWED[role]:
            assert status == 200, path
            assert f'href="{path}"' in home.text, path
        else:
            assert status == 403, path
            assert f'href="{path}"' not in home.text, path


def test_forbidden_page_explains_in_chinese(client, auth):
    make_user(Role.TRAINEE)
    auth.login("trainee", PASSWORD)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "无权访问" in response.text


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_id_numbers_are_masked_except_for_admins(client, auth):
    seed_demo(PASSWORD)
    auth.login("instructor", PASSWORD)
    full = "13010219900101123" + check_digit("13010219900101123")
    page = client.get("/trainees").text
    assert mask_resident_id(full) in page
    assert full[:17] not in page
    auth.logout()
    auth.login("admin", PASSWORD)
    assert "13010219900101123" in client.get("/trainees").text


def test_unknown_api_path_answers_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
