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


def test_the_sign_in_prompt_is_in_chinese_then_english(client):
    page = client.get("/audit/", follow_redirects=True).text
    assert "请先登录再访问此页面。" in page and "Please log in" not in page
    client.get("/language/en")
    assert "Please sign in to see this page." in client.get("/audit/", follow_redirects=True).text


def test_pages_carry_the_favicon(client):
    page = client.get("/login").text
    assert 'rel="icon"' in page and "favicon.svg" in page
    with client.get("/static/favicon.svg") as icon:  # closes the served file
        assert icon.status_code == 200 and b"<svg" in icon.data and len(icon.data) < 1024
