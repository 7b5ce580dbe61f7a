"""Security headers on every response, session cookies in production, CSRF on every browser POST."""
from __future__ import annotations

import pytest

from app import create_app
from tests.factories import PASSWORD, make_user
from tests.security.access_table import ACCESS, CSRF_EXEMPT
from tests.security.helpers import (MUTATING, build_world, database_digest, principals,
                                    route_keys, url_for_rule)

REQUIRED_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy", "Permissions-Policy")


@pytest.fixture
def world(app):
    return build_world(app)


def test_every_response_carries_the_security_headers(app, world):
    clients = principals(app, world, ("anonymous", "admin", "lrs:all"))
    app.config["WTF_CSRF_ENABLED"] = False
    missing = []
    for key in [*route_keys(app), "GET /no/such/page", "GET /api/no-such-thing"]:
        method, rule = key.split(" ", 1)
        url = url_for_rule(app, rule, world) if key in ACCESS else rule
        for name, client in clients.items():
            response = client.send(method, url)
            absent = [h for h in REQUIRED_HEADERS if h not in response.headers]
            if absent:
                missing.append((key, name, response.status_code, absent))
    assert not missing


def test_production_session_cookie_is_secure_httponly_and_samesite(database_url, tmp_path,
                                                                   monkeypatch, face_model_dir):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("SKILLTRACE_TEMPLATE_KEYS", "k1:" + "A" * 43 + "=")
    monkeypatch.setenv("SKILLTRACE_TEMPLATE_KEY_ID", "k1")
    monkeypatch.setenv("SKILLTRACE_AUDIT_CHAIN_KEYS", "c1:" + "B" * 43 + "=")
    monkeypatch.setenv("SKILLTRACE_CHECKPOINT_KEYS", "p1:" + "C" * 43 + "=")
    prod = create_app({"SKILLTRACE_ENV": "production", "INSTANCE_PATH": str(tmp_path / "inst"),
                       "SQLALCHEMY_DATABASE_URI": database_url,
                       "FACE_MODEL_DIR": str(face_model_dir)})
    assert not prod.testing and prod.config["SESSION_COOKIE_SECURE"]
    with prod.app_context():
        from app.extensions import db
        try:
            response = prod.test_client().get("/login", base_url="https://skilltrace.test")
            cookie = response.headers["Set-Cookie"]
        finally:
            db.session.remove()
            db.engine.dispose()
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert prod.config["REMEMBER_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_HTTPONLY"]


def test_every_browser_post_needs_the_csrf_token(app, world):
    """Signed in as a role allowed to post, without the token: 400 `csrf`, nothing written."""
    assert app.config.get("WTF_CSRF_ENABLED", True)
    clients = principals(app, world, ("anonymous", "trainee", "instructor", "reviewer", "admin"))
    before = database_digest()
    let_through = []
    for key in route_keys(app):
        method, rule = key.split(" ", 1)
        if method not in MUTATING or rule.startswith("/xapi/") or key in CSRF_EXEMPT or key == "POST /logout":
            continue
        name = next(n for n in ("anonymous", "admin", "instructor", "reviewer", "trainee")
                    if n in ACCESS[key])
        response = clients[name].send(method, url_for_rule(app, rule, None))
        csrf = response.status_code == 400 and (not response.is_json or response.json["error"] == "csrf")
        if not csrf:
            let_through.append((key, name, response.status_code))
    assert not let_through
    assert database_digest() == before


def test_logout_needs_the_csrf_token(app, client, auth):
    make_user("admin")
    auth.login("admin", PASSWORD)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_anonymous_api_calls_get_401_not_a_csrf_error(app, client):
    response = client.post("/api/trainees", json={"name": "赵敏"})
    assert response.status_code == 401 and response.json["error"] == "unauthenticated"
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400  # login CSRF
