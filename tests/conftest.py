"""Shared fixtures: the app on each configured database, its client, CLI runner and sign-in helper.

Every database test runs on SQLite, and again on PostgreSQL when ``TEST_DATABASE_URL`` names a
server: each run creates its own database there, builds the schema once with the Alembic
migrations, and empties the tables after every test.
"""
from __future__ import annotations

import contextvars
import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from tests.ledger_guard import ledger_guard_lifted

ROOT = Path(__file__).resolve().parent.parent
FACES = ROOT.parent / "shared" / "faces"
pytest_plugins = ["tests.fixtures.browser"]


def _backends() -> list:
    params = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        params.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return params


class PostgresServer:
    """Creates and drops throw-away databases on the server named by ``TEST_DATABASE_URL``."""

    def __init__(self, url: str):
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        name = f"skilltrace_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    server = PostgresServer(url)
    try:
        with server.admin.connect():
            pass
    except Exception as exc:  # the run was asked to use PostgreSQL: never skip silently
        pytest.fail(f"TEST_DATABASE_URL is set but the server does not answer: {exc}")
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def fresh_database(request, tmp_path_factory):
    """A factory of empty databases of the given backend, removed at the end of the run."""
    made = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "skilltrace.db"
            return f"sqlite:///{path}"
        server = request.getfixturevalue("postgres_server")
        url = server.create()
        made.append((server, url))
        return url

    yield make
    for server, url in made:
        server.drop(url)


def build_app(database_url: str, instance_path: Path, **overrides):
    """The app in testing mode on ``database_url``, with its own instance folder."""
    return create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": str(instance_path),
                       "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


@pytest.fixture(scope="session", params=_backends())
def database_url(request, fresh_database, tmp_path_factory):
    """A database of each backend with the schema built by the migrations, once per run."""
    from flask_migrate import upgrade

    url = fresh_database(request.param)
    app = build_app(url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def face_model_dir(tmp_path_factory) -> Path:
    """One folder for the generated MobileFaceNet ONNX file, shared by every app of the run."""
    return tmp_path_factory.mktemp("face_models")


@pytest.fixture
def app(database_url, tmp_path, face_model_dir):
    """The app on a migrated database; every table is emptied after the test."""
    app = build_app(database_url, tmp_path / "instance", FACE_MODEL_DIR=str(face_model_dir))
    with app.app_context():
        yield app
        db.session.remove()
        with db.engine.begin() as conn, ledger_guard_lifted(conn):
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


class FreshContextClient(FlaskClient):
    """Runs each request in an empty context, as a real server would: its own app context,
    `g` and database session, not those of the test body."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = CSRF_INPUT.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class AuthActions:
    """Sign in and out through the real pages, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str, follow_redirects: bool = False):
        page = self.client.get("/login")
        return self.client.post("/login", data={
            "username": username, "password": password, "csrf_token": csrf_token_from(page.text),
        }, follow_redirects=follow_redirects)

    def logout(self):
        page = self.client.get("/")
        return self.client.post("/logout", data={"csrf_token": csrf_token_from(page.text)})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def faces_dir() -> Path:
    """The shared real face images (skips with the reason when the folder is absent)."""
    if not FACES.is_dir():
        pytest.skip(f"real face images not found at {FACES}")
    return FACES
