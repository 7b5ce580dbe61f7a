"""Trainee accounts through the pages: the slip shown once at registration, activation from the
sign-in page, and an activated trainee who sees only their own record."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, Trainee, User
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_catalogue, make_class, make_trainee, make_user, resident_id

NEW_PASSWORD = "my-own-pass-1"
CODE = re.compile(r'class="slip-code"><strong>([A-Z0-9]{5}-[A-Z0-9]{5})</strong>')
USERNAME = re.compile(r'class="slip-username">(t\d{9})<')


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, _, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    return admin, institution, programme, instructor


def _post(client, page_url, action_url, data, **kwargs):
    token = csrf_token_from(client.get(page_url).text)
    return client.post(action_url, data={**data, "csrf_token": token}, **kwargs)


def _activate(client, id_number, code, password=NEW_PASSWORD):
    return _post(client, "/activate", "/activate", {"id_number": id_number, "code": code,
                                                     "password": password, "confirm": password})


def test_registration_shows_the_slip_once_and_the_trainee_activates_from_the_sign_in_page(client, auth, world):
    auth.login("instructor", PASSWORD)
    number = resident_id()
    slip = _post(client, "/trainees/new", "/trainees/new", {
        "name": "钱七", "id_number": number, "phone": "13800001234", "category": "高校毕业生"})
    assert slip.status_code == 200 and slip.headers["Cache-Control"] == "no-store"
    code, username = CODE.search(slip.text).group(1), USERNAME.search(slip.text).group(1)
    assert number not in slip.text and "/activate" in slip.text
    trainee_id = db.session.scalar(select(Trainee.id).where(Trainee.id_number == number))
    trainee_page = client.get(f"/trainees/{trainee_id}")
    assert code not in trainee_page.text and "尚未使用" in trainee_page.text
    auth.logout()
    assert 'href="/activate"' in client.get("/login").text
    wrong = _activate(client, number, "AAAAA-AAAAA")
    assert wrong.status_code == 400 and "身份证号与激活码不匹配" in wrong.text
    done = _activate(client, number, code)
    assert done.status_code == 302
    home = client.get("/", follow_redirects=True).text
    assert "账户已激活" in home and username in home and "钱七" in home
    assert client.get("/me/certificates").status_code == 200
    auth.logout()
    assert auth.login(username, NEW_PASSWORD).status_code == 302
    assert _activate(client, number, code, "second-pass-1").status_code == 403  # sign out first
    auth.logout()
    again = _activate(client, number, code, "second-pass-1")
    assert again.status_code == 400 and auth.login(username, "second-pass-1").status_code == 200


def test_an_activated_trainee_sees_only_their_own_record(client, auth, world):
    admin, institution, programme, instructor = world
    mine, other = make_trainee("孙八"), make_trainee("周九")
    mine.registered_by_institution_id = other.registered_by_institution_id = institution.id
    make_class(admin, institution, programme, instructor, [mine, other])
    auth.login("instructor", PASSWORD)
    slip = _post(client, f"/trainees/{mine.id}", f"/trainees/{mine.id}/activation-code", {})
    code = CODE.search(slip.text).group(1)
    auth.logout()
    assert _activate(client, mine.id_number, code).status_code == 302
    for url in (f"/trainees/{other.id}", f"/trainees/{mine.id}", "/trainees",
                f"/api/trainees/{other.id}", f"/audit/trainees/{other.id}"):
        assert client.get(url).status_code == 403, url
    assert other.id_number not in client.get("/me/certificates").text


def test_reissue_from_another_institution_is_refused_and_the_code_still_works(client, auth, world):
    admin, institution, programme, instructor = world
    other_institution, _, _ = make_catalogue(admin)
    make_user(Role.INSTRUCTOR, "stranger", institution=other_institution)
    trainee = make_trainee("吴十")
    auth.login("instructor", PASSWORD)
    klass = make_class(admin, institution, programme, instructor, [trainee])
    page = _post(client, "/trainees", f"/classes/{klass.id}/activation-slips", {})
    code = CODE.search(page.text).group(1)
    assert "吴十" in page.text
    auth.logout()
    auth.login("stranger", PASSWORD)
    refused = _post(client, "/trainees", f"/trainees/{trainee.id}/activation-code", {})
    assert refused.status_code == 403 and not CODE.search(refused.text)
    auth.logout()
    assert _activate(client, trainee.id_number, code).status_code == 302
    db.session.rollback()
    user = db.session.scalar(select(User).join(Trainee, Trainee.user_id == User.id).where(Trainee.id == trainee.id))
    assert user.active
