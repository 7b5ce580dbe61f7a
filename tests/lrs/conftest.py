"""LRS test fixtures on top of the project's (`tests/conftest.py`): the real app on each
configured database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set) with the schema
built by the migrations. Here the LRS gets cheap secret hashing and small pages, and its
tables are emptied after each test."""

from __future__ import annotations

import socket
import threading

import pytest

import lrs
from app.extensions import db
from lrs.auth import SecretHasher
from tests.fixtures.serving import served
from tests.lrs.factories import make_credential


@pytest.fixture
def app(app):
    """The project's app, tuned for LRS tests; LRS tables are emptied afterwards."""
    store = app.extensions["lrs_store"]
    store.secrets = SecretHasher(time_cost=1, memory_cost=1024)
    store.max_limit = 50
    yield app
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(lrs.metadata.sorted_tables):
            conn.execute(table.delete())


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


def _free_port() -> int:
    for port in range(5150, 5200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 5150-5199")


class _InFlight:
    """WSGI wrapper that counts requests still inside the app (and so holding a session)."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.count += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.count == 0, timeout)


@pytest.fixture
def live_lrs(app):
    """The app served over real HTTP on a loopback port (threaded); yields its base URL.

    Teardown waits until no request is inside the app, so no database connection is still
    checked out when the app fixture disposes the engine.
    """
    wrapped = _InFlight(app)
    with served(wrapped, _free_port()) as url:
        yield url
    wrapped.wait_idle()
