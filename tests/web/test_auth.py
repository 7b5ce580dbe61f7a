"""Sign-in and sign-out pages: success, failures, CSRF and rate limiting."""
import pytest

from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_user


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text and "用户名" in page.text


def test_login_and_logout(client, auth):
    make_user("admin", "root")
    response = auth.login("root", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    user = db.session.scalar(select(User).where(User.username == "root"))
    assert user.last_login_at is not None
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to sign-in


def test_wrong_password_gives_message_and_writes_nothing(client, auth):
    make_user("auditor", "checker")
    response = auth.login("checker", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text
    db.session.expire_all()
    assert db.session.scalar(select(User.last_login_at).where(User.username == "checker")) is None
    assert client.get("/").status_code == 302


def test_unknown_user_gives_the_same_message(client, auth):
    response = auth.login("nobody", "whatever-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.text


def test_login_without_csrf_token_is_refused(client):
    make_user("admin", "root")
    response = client.post("/login", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.text
    assert client.get("/").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User.last_login_at).where(User.username == "root")) is None


def test_logout_needs_post_with_csrf(client, auth):
    make_user("admin", "root")
    auth.login("root", PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_failed_sign_ins_are_rate_limited(client, auth):
    make_user("trainee", "learner")
    for _ in range(5):
        assert auth.login("learner", "wrong-password").status_code == 200
    blocked = auth.login("learner", PASSWORD)
    assert blocked.status_code == 429
    assert "尝试次数过多" in blocked.text
    assert client.get("/").status_code == 302


def test_successful_sign_ins_do_not_count_against_the_limit(client, auth):
    make_user("trainee", "learner")
    for _ in range(7):
        assert auth.login("learner", PASSWORD).status_code == 302
        auth.logout()


def test_next_only_follows_local_paths(client, auth):
    make_user("admin", "root")
    page = client.get("/login?next=https://evil.example/")
    response = client.post("/login?next=https://evil.example/", data={
        "username": "root", "password": PASSWORD, "csrf_token": csrf_token_from(page.text)})
    assert response.headers["Location"] == "/"
    auth.logout()
    page = client.get("/login?next=/classes")
    response = client.post("/login?next=/classes", data={
        "username": "root", "password": PASSWORD, "csrf_token": csrf_token_from(page.text)})
    assert response.headers["Location"] == "/classes"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_replayed_cookie_after_sign_out_is_signed_out(client, auth, app):
    make_user("admin", "root")
    auth.login("root", PASSWORD)
    stolen = _cookie(client)
    other_device = app.test_client()  # a second session of the same account
    other_device.set_cookie("session", stolen)
    assert other_device.get("/").status_code == 200
    auth.logout()
    client.set_cookie("session", stolen)  # the copy kept from before sign-out, replayed
    assert client.get("/").status_code == 302
    assert other_device.get("/").status_code == 302
    assert auth.login("root", PASSWORD).status_code == 302 and client.get("/").status_code == 200


@pytest.mark.parametrize("act", ["reset", "deactivate"])
def test_an_administrators_reset_or_deactivation_ends_every_session(client, auth, app, act):
    from app.services.accounts import reset_password, update_account
    admin = make_user("admin", "root")
    teacher = make_user("reviewer", "teacher")
    auth.login("teacher", PASSWORD)
    assert client.get("/").status_code == 200
    if act == "reset":
        reset_password(admin, teacher.id, "r3set-passw0rd")
    else:
        update_account(admin, teacher.id, "reviewer", None, False)
    assert client.get("/").status_code == 302  # the cookie issued before is signed out


def test_password_change_ends_every_session(client, auth, app):
    make_user("instructor", "teacher")
    auth.login("teacher", PASSWORD)
    kept = _cookie(client)
    page = client.get("/account/password")
    token = csrf_token_from(page.text)
    wrong = client.post("/account/password", data={"current_password": "nope-nope", "new_password": "n3w-passw0rd",
                                                   "csrf_token": token})
    assert wrong.status_code == 200 and "当前密码不正确" in wrong.text
    done = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "n3w-passw0rd",
                                                  "csrf_token": token})
    assert done.status_code == 302
    client.set_cookie("session", kept)
    assert client.get("/").status_code == 302
    assert auth.login("teacher", PASSWORD).status_code == 200  # the old password no longer works
    assert auth.login("teacher", "n3w-passw0rd").status_code == 302


def test_spraying_many_user_names_from_one_address_is_throttled(client, auth):
    make_user("trainee", "learner")
    answers = [auth.login(f"guess{n:02d}", "Winter2026!").status_code for n in range(40)]
    assert 429 in answers and answers[:5] == [200] * 5
    assert answers.index(429) <= 20  # within the per-address limit, each name tried only once
    assert auth.login("learner", PASSWORD).status_code == 429  # this address is held back


def test_failures_elsewhere_do_not_lock_the_owner_out(app, auth):
    """Per address first: an attacker's address exhausting one user name's limit leaves its owner,
    on their own address, free to sign in."""
    make_user("trainee", "learner")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(6):
        page = attacker.get("/login")
        attacker.post("/login", data={"username": "learner", "password": "wrong-password",
                                      "csrf_token": csrf_token_from(page.text)})
    assert auth.login("learner", PASSWORD).status_code == 302
