"""Forwarding SkillTrace's statements to an external LRS: a second, real SkillTrace LRS (its own
app on its own SQLite database, served over HTTP on a loopback port) receives them once, with
their ids; a receiver that is down gets retries with exponential backoff, then the delivery; two
forwarders running at once send each statement once."""
from __future__ import annotations

import io
import json
import socket
import threading
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from app.extensions import db
from app.models import ForwardedStatement, Role
from app.models.base import utcnow
from app.services import attendance, xapi_records
from app.services._tx import transaction
from app.services.forwarding import forward_pending
from lrs.auth import SecretHasher
from lrs.storage.tables import Statement
from tests.attendance_helpers import running_class
from tests.conftest import build_app
from tests.factories import arrange_confirmed_alternative, make_trainee, make_user
from tests.fixtures.serving import served
from tests.lrs.factories import make_credential


class Receiver:
    """WSGI wrapper of the receiving LRS: records the ids of every statement POSTed to it and
    answers 503 while ``down``; ``delay`` slows each request (to make forwarders overlap)."""

    def __init__(self, app):
        self.app, self.down, self.delay = app, False, 0.0
        self.posted: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self.down:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down for maintenance"]
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/statements"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            with self.lock:
                self.posted.extend(s["id"] for s in json.loads(body))
            threading.Event().wait(self.delay)
        return self.app(environ, start_response)

    def stored_ids(self) -> list[str]:
        with self.app.app_context():
            ids = [str(i) for i in db.session.scalars(select(Statement.id))]
            db.session.remove()
        return ids


@pytest.fixture(scope="module")
def receiver_server(tmp_path_factory, face_model_dir):
    """Another SkillTrace on its own SQLite database, with an LRS credential, served on port 0."""
    folder = tmp_path_factory.mktemp("receiver")
    other = build_app(f"sqlite:///{folder / 'receiver.db'}", folder / "instance",
                      FACE_MODEL_DIR=str(face_model_dir))
    other.extensions["lrs_store"].secrets = SecretHasher(time_cost=1, memory_cost=1024)
    with other.app_context():
        upgrade()
    credential = make_credential(other, name="skilltrace-forwarder")
    receiver = Receiver(other)
    with served(receiver) as url:
        yield receiver, f"{url}/xapi/", credential
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def receiver(app, receiver_server):
    """The receiver, reset, with the app under test configured to forward to it."""
    receiver, url, credential = receiver_server
    receiver.down, receiver.delay, receiver.posted = False, 0.0, []
    app.config.update(XAPI_FORWARD_URL=url, XAPI_FORWARD_KEY=credential["key"],
                      XAPI_FORWARD_SECRET=credential["secret"], XAPI_FORWARD_BACKOFF_SECONDS=10)
    return receiver


def write_statements(count: int) -> list[str]:
    """Statements written the way SkillTrace writes its own (``xapi_records.record``)."""
    with transaction() as session:
        return [str(xapi_records.record(session, "verified", xapi_records.trainee_agent(i), at=utcnow(),
                                        extensions={"device": "test", "face-distance": 0.3},
                                        result={"success": True}))
                for i in range(count)]


def outbox() -> list[ForwardedStatement]:
    db.session.rollback()
    return db.session.scalars(select(ForwardedStatement).order_by(ForwardedStatement.queued_at)).all()


def test_nothing_is_queued_when_forwarding_is_off(app):
    assert app.config["XAPI_FORWARD_URL"] == ""
    write_statements(2)
    assert outbox() == []


def statement_ids() -> set[str]:
    db.session.rollback()
    return {str(i) for i in db.session.scalars(select(Statement.id))}


def test_a_checked_in_and_out_day_arrives_once_with_the_same_ids(receiver):
    before = statement_ids()  # the app fixture leaves the LRS tables to the LRS tests
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    trainee = make_trainee(actor=admin)
    running_class(admin, instructor, [trainee])
    arrange_confirmed_alternative(admin, trainee.id, "本人拒绝人脸识别")
    assert attendance.check_alternative(instructor, trainee.id, "check_in").accepted
    assert attendance.check_alternative(instructor, trainee.id, "check_out").accepted
    written = statement_ids() - before
    assert len(written) >= 5  # verifications, check-in, check-out, credit
    assert {str(row.statement_id) for row in outbox()} == written

    result = forward_pending()
    assert (result.sent, result.failed) == (len(written), 0)
    assert sorted(receiver.posted) == sorted(written)
    assert written <= set(receiver.stored_ids())
    assert all(row.sent_at is not None and row.attempts == 0 for row in outbox())
    assert forward_pending().sent == 0 and len(receiver.posted) == len(written)  # never twice


def test_a_down_receiver_gets_retries_with_backoff_then_the_statements(receiver):
    ids = write_statements(3)
    t0 = utcnow()
    receiver.down = True
    failed = forward_pending(now=t0)
    assert (failed.sent, failed.failed) == (0, 3) and failed.error.startswith("HTTP 503")
    rows = outbox()
    assert {(r.attempts, r.next_attempt_at, r.sent_at) for r in rows} == {(1, t0 + timedelta(seconds=10), None)}
    assert "down for maintenance" in rows[0].last_error

    assert forward_pending(now=t0 + timedelta(seconds=9)).failed == 0  # not due yet: nothing tried
    assert forward_pending(now=t0 + timedelta(seconds=10)).failed == 3
    assert {(r.attempts, r.next_attempt_at) for r in outbox()} == {(2, t0 + timedelta(seconds=30))}

    receiver.down = False
    assert forward_pending(now=t0 + timedelta(seconds=29)).sent == 0
    assert forward_pending(now=t0 + timedelta(seconds=30)).sent == 3
    assert sorted(receiver.posted) == sorted(ids)
    assert set(ids) <= set(receiver.stored_ids())
    assert all(r.sent_at == t0 + timedelta(seconds=30) for r in outbox())


def test_an_unreachable_receiver_is_an_error_kept_on_the_row(app, receiver):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app.config["XAPI_FORWARD_URL"] = f"http://127.0.0.1:{port}/xapi/"
    write_statements(1)
    result = forward_pending()
    assert result.failed == 1 and "Connection" in result.error
    assert outbox()[0].attempts == 1 and "Connection" in outbox()[0].last_error


def test_two_forwarders_at_once_send_each_statement_once(app, receiver):
    ids = write_statements(30)
    app.config["XAPI_FORWARD_BATCH"] = 4
    receiver.delay = 0.05
    barrier, results = threading.Barrier(2), []

    def forwarder():
        with app.app_context():
            barrier.wait()
            results.append(forward_pending())
            db.session.remove()

    workers = [threading.Thread(target=forwarder) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(r.sent for r in results) == 30 and all(r.failed == 0 for r in results)
    assert sorted(receiver.posted) == sorted(ids)  # each POSTed exactly once
    assert db.session.scalar(select(func.count()).select_from(ForwardedStatement).where(ForwardedStatement.sent_at.is_(None))) == 0
