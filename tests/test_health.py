"""`GET /healthz` checks the database."""
from tests.conftest import build_app


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_reports_unreachable_database(tmp_path):
    app = build_app("sqlite:////nonexistent-dir/cannot/open.db", tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_healthz_reports_unreachable_postgres(tmp_path):
    app = build_app("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
