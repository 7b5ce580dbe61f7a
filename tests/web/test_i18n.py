"""Simplified Chinese by default, English on request."""
from tests.factories import PASSWORD, make_user


def test_language_switch_to_english_and_back(client, auth):
    make_user("admin", "root")
    auth.login("root", PASSWORD)
    assert "首页" in client.get("/").text
    client.get("/language/en?next=/")
    page = client.get("/").text
    assert "Home" in page and "Administrator" in page and "首页" not in page
    client.get("/language/zh_CN")
    assert "首页" in client.get("/").text


def test_unknown_language_is_ignored(client):
    client.get("/language/fr")
    assert "登录" in client.get("/login").text


def test_language_switch_does_not_redirect_off_site(client):
    response = client.get("/language/en?next=//evil.example/")
    assert response.headers["Location"] == "/"
