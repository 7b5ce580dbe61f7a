"""The database going away: /healthz, the JSON API and the pages answer a clean 503, nothing is
half-written, and everything works again when the database is back (PostgreSQL behind a proxy
that drops every connection, so the shared server keeps running)."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from app.extensions import db
from tests.conftest import AuthActions, FreshContextClient, build_app, csrf_token_from
from tests.factories import PASSWORD, make_user
from tests.fixtures.tcp_proxy import TcpProxy


@pytest.fixture
def outage(app, database_url, tmp_path, face_model_dir):
    """A second app reaching the test database through a proxy that can be cut."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a database reached over TCP")
    make_user("admin")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxied = build_app(through, tmp_path / "proxied", FACE_MODEL_DIR=str(face_model_dir))
    proxied.test_client_class = FreshContextClient
    yield proxied, proxy
    proxy.close()
    with proxied.app_context():
        db.engine.dispose()


def test_database_outage_gives_503_and_recovers(outage):
    proxied, proxy = outage
    client = proxied.test_client()
    AuthActions(client).login("admin", PASSWORD)
    token = csrf_token_from(client.get("/").text)
    assert client.get("/api/classes").status_code == 200

    proxy.cut()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["error"] == "database_unavailable"
    api = client.get("/api/classes")
    assert api.status_code == 503 and api.json["error"] == "database_unavailable"
    posted = client.post("/api/catalogue/occupation", json={"code": "X", "name": "电工"},
                         headers={"X-CSRFToken": token})
    assert posted.status_code == 503 and posted.is_json
    page = client.get("/classes")
    assert page.status_code == 503 and "<html" in page.text

    proxy.resume()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/classes").status_code == 200
    assert client.get("/classes").status_code == 200


def test_lrs_answers_503_while_the_database_is_away(outage, app):
    from tests.lrs.factories import make_credential, statement
    proxied, proxy = outage
    with proxied.app_context():
        auth = make_credential(proxied)["auth"]
    client = proxied.test_client()
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    assert client.post("/xapi/statements", json=statement(), headers=headers).status_code == 200
    proxy.cut()
    response = client.post("/xapi/statements", json=statement(), headers=headers)
    assert response.status_code == 503 and response.is_json
    proxy.resume()
    assert client.post("/xapi/statements", json=statement(), headers=headers).status_code == 200
