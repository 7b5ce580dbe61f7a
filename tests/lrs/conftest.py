"""Fixtures for the LRS tests: a minimal Flask app hosting only the LRS, run against SQLite
always and PostgreSQL too when TEST_DATABASE_URL names a server (a fresh database is created
for the run and dropped after). Each test starts from empty tables."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import lrs
from tests.lrs.factories import make_credential
from tests.lrs.standalone import create_app

_BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _postgres_url() -> tuple[str, callable]:
    server = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    name = f"lrs_test_{os.getpid()}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session", params=_BACKENDS)
def lrs_app(request, tmp_path_factory):
    """The LRS app for one backend, shared by the tests of the run."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('lrs')}/lrs.db", lambda: None
    else:
        url, drop = _postgres_url()
    app = create_app(url, {"TESTING": True, "LRS_MAX_LIMIT": 50,
                            "LRS_SECRET_HASH_COST": {"time_cost": 1, "memory_cost": 1024}})
    yield app
    app.extensions["lrs_sessions"].remove()
    app.extensions["lrs_engine"].dispose()
    drop()


@pytest.fixture
def app(lrs_app):
    """The LRS app with empty tables."""
    yield lrs_app
    lrs_app.extensions["lrs_sessions"].remove()
    engine = lrs_app.extensions["lrs_engine"]
    with engine.begin() as conn:
        for table in reversed(lrs.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    """A test client of the LRS app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of the LRS app."""
    return app.test_cli_runner()


@pytest.fixture
def store(app):
    """The LRS store of the app."""
    return app.extensions["lrs_store"]


@pytest.fixture
def credential(app):
    """A credential with every scope."""
    return make_credential(app)


@pytest.fixture
def headers(credential):
    """Request headers for xAPI 1.0.3 with full credentials."""
    return {"Authorization": credential["auth"], "X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def headers_v2(credential):
    """Request headers for xAPI 2.0.0 with full credentials."""
    return {"Authorization": credential["auth"], "X-Experience-API-Version": "2.0.0"}
