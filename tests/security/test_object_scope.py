"""Tenancy over every id-bearing route, checked against `object_scope_table.SCOPE`.

Institution A has a running class with a session, attendance, ledger entries, an assessed
enrolment, a completion certificate and a prepared subsidy claim; institution B has only its own
instructor. On every row the instructor of B, given A's ids, is refused (a read 403 or 404, a
write 403) and no row of any table changes; A's own instructor gets past the object check where
the table lets them. Then the attacks of issue 14: a B draft that lists A's trainee gives no power
over A's session, and the lists show an instructor only their own institution's objects.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (AlternativeVerification, ClassStatus, CompletionCertificate, HoursEntry,
                        IntervalStatus, PresenceInterval, Role, TrainingClass, User, VerificationMode)
from app.services.catalogue import create_listed_entry
from app.services.classes import draft_class
from app.services.kiosks import create_kiosk
from tests.attendance_helpers import running_class
from tests.conftest import AuthActions, FreshContextClient, csrf_token_from
from tests.factories import PASSWORD, application, make_trainee, make_user
from tests.security.access_table import ACCESS
from tests.security.helpers import MUTATING, PARAMETER, database_digest, route_keys
from tests.security.object_scope_table import SCOPE
from tests.subsidy_helpers import claimed_class, enrolment_of


def _scoped_keys(app) -> list[str]:
    return [key for key in route_keys(app) if "<uuid:" in key]


class Staff:
    """A signed-in client sending its CSRF token (as an insider's browser would)."""

    def __init__(self, app, username: str):
        app.test_client_class = FreshContextClient
        self.client = app.test_client()
        assert AuthActions(self.client).login(username, PASSWORD).status_code == 302
        self.token = csrf_token_from(self.client.get("/").text)

    def send(self, method: str, url: str, **kwargs):
        if method in MUTATING and "data" not in kwargs:
            kwargs.setdefault("json", {})
        response = self.client.open(url, method=method, headers={"X-CSRFToken": self.token}, **kwargs)
        response.get_data()
        response.close()
        return response


@pytest.fixture
def tenancy(app):
    """A's objects (ids by URL parameter name), A's instructor and B's instructor, signed in."""
    world, klass, claim, paid, _short = claimed_class()
    enrolment = enrolment_of(klass, paid)
    entry = db.session.scalar(select(HoursEntry).where(HoursEntry.enrolment_id == enrolment.id))
    certificate = CompletionCertificate(enrolment_id=enrolment.id, serial=f"{klass.institution.code}-2026-00001",
                                        issued_on=date(2026, 3, 20), issued_by_id=world.admin.id)
    db.session.add(certificate)
    db.session.commit()
    institution_b = create_listed_entry(world.admin, "institution", "B-SCHOOL", "乙技工学校")
    make_user(Role.INSTRUCTOR, username="outsider", institution=institution_b)
    kiosk, _code = create_kiosk(world.admin, "一号机", klass.institution_id, "实训楼 201")
    ids = {"class_id": klass.id, "session_id": klass.sessions[0].id, "trainee_id": paid.id,
           "enrolment_id": enrolment.id, "entry_id": entry.id, "claim_id": claim.id,
           "line_id": claim.lines[0].id, "certificate_id": certificate.id,
           "statement_id": entry.statement_id, "interval_id": entry.interval_id, "programme_id": world.programme.id,
           "flag_id": enrolment.id, "exemption_id": enrolment.id, "arrangement_id": enrolment.id, "appeal_id": enrolment.id, "held_id": enrolment.id,
           "verification_id": enrolment.id, "n": 0, "user_id": world.instructor.id, "kind": "occupation",
           "nonce": "no-such-nonce", "kiosk_id": kiosk.id}
    return {"world": world, "class": klass, "trainee": paid, "ids": ids, "institution_b": institution_b,
            "own": Staff(app, "instructor"), "outsider": Staff(app, "outsider")}


def _url(key: str, ids: dict) -> tuple[str, str]:
    method, rule = key.split(" ", 1)
    return method, PARAMETER.sub(lambda m: str(ids[m.group(1)]), rule)


def test_every_id_bearing_route_is_in_the_object_scope_table(app):
    keys = _scoped_keys(app)
    missing = [k for k in keys if k not in SCOPE]
    stale = [k for k in SCOPE if k not in keys]
    assert not missing, f"id-bearing routes missing from tests/security/object_scope_table.py: {missing}"
    assert not stale, f"object-scope rows for routes that no longer exist: {stale}"


def test_the_object_scope_table_agrees_with_the_access_table(app):
    for key in _scoped_keys(app):
        province = SCOPE[key] - {"own"}
        assert province <= ACCESS[key], key
        assert ("own" in SCOPE[key]) == ("instructor" in ACCESS[key]), key


def test_an_instructor_of_another_institution_is_refused_and_changes_nothing(app, tenancy):
    before = database_digest()
    let_through = []
    for key in _scoped_keys(app):
        method, url = _url(key, tenancy["ids"])
        status = tenancy["outsider"].send(method, url).status_code
        expected = (403,) if method in MUTATING else (403, 404)
        if status not in expected:
            let_through.append((key, status))
    assert not let_through, let_through
    assert database_digest() == before


def test_the_own_instructor_gets_past_the_object_check(app, tenancy):
    stopped = []
    for key in _scoped_keys(app):
        method, url = _url(key, tenancy["ids"])
        status = tenancy["own"].send(method, url).status_code
        if ("own" in SCOPE[key]) != (status not in (401, 403)) or status >= 500:
            stopped.append((key, status))
    assert not stopped


def _checked_in_at_a(world, trainee):
    """``trainee`` on a running A class now, checked in by ID card (rows written directly)."""
    klass = running_class(world.admin, world.instructor, [trainee], institution=world.institution,
                          programme=world.programme)
    enrolment = enrolment_of(klass, trainee)
    now = datetime.now(timezone.utc)
    db.session.add_all([
        AlternativeVerification(trainee_id=trainee.id, reason="拒绝人脸识别", recorded_by_id=world.admin.id),
        PresenceInterval(enrolment_id=enrolment.id, trainee_id=trainee.id, session_id=klass.sessions[0].id,
                         mode=VerificationMode.ALTERNATIVE, status=IntervalStatus.OPEN, open_slot=trainee.id,
                         opened_at=now - timedelta(minutes=20), last_verified_at=now - timedelta(minutes=20))])
    db.session.commit()
    return klass


def test_listing_a_trainee_on_ones_own_draft_gives_no_power_over_their_other_classes(app, tenancy):
    """Instructor B lists A's trainee in a B draft, then tries to check them out of A's session
    (API and page), correct their record and withdraw their consent: all 403, nothing changed.
    B does see the trainee's record, through its own enrolment; once B's class is approved B may
    act for the trainee, but still not check them out of A's session."""
    world, outsider = tenancy["world"], tenancy["outsider"]
    trainee = make_trainee("周芷若", actor=world.admin)
    _checked_in_at_a(world, trainee)
    b = db.session.scalar(select(User).where(User.username == "outsider"))
    b_class = draft_class(b, application(tenancy["institution_b"], world.programme, [b], [trainee]))

    assert outsider.send("GET", f"/trainees/{trainee.id}").status_code == 200
    before = database_digest()
    attempts = [
        ("POST", f"/api/trainees/{trainee.id}/attendance/alternative", {"json": {"purpose": "check_out"}}),
        ("POST", f"/classes/{b_class.id}/attendance/alternative/{trainee.id}", {"data": {"purpose": "check_out"}}),
        ("PATCH", f"/api/trainees/{trainee.id}", {"json": {"phone": "13800000000"}}),
        ("DELETE", f"/api/trainees/{trainee.id}/consent", {}),
        ("POST", f"/api/trainees/{trainee.id}/attendance/unlock", {"json": {"reason": "x"}}),
    ]
    for method, url, kwargs in attempts:
        assert outsider.send(method, url, **kwargs).status_code == 403, url
    assert database_digest() == before

    # even once B's class is approved (B may then act for the trainee), A's session is A's
    db.session.get(TrainingClass, b_class.id).status = ClassStatus.APPROVED
    db.session.commit()
    before = database_digest()
    for method, url, kwargs in attempts[:2]:
        assert outsider.send(method, url, **kwargs).status_code == 403, url
    assert database_digest() == before
    assert db.session.scalar(select(PresenceInterval.status).where(
        PresenceInterval.trainee_id == trainee.id)) == IntervalStatus.OPEN


def test_lists_show_an_instructor_only_their_own_institution(app, tenancy):
    klass, trainee = tenancy["class"], tenancy["trainee"]
    own, outsider = tenancy["own"], tenancy["outsider"]
    for url in ("/classes", "/trainees", "/api/classes", "/api/trainees"):
        shown = str(klass.id if "classes" in url else trainee.id)
        assert shown not in outsider.send("GET", url).text, url
        assert shown in own.send("GET", url).text, url


def test_a_freshly_registered_trainee_is_seen_by_the_registering_institution_only(app, tenancy):
    own, outsider = tenancy["own"], tenancy["outsider"]
    response = outsider.send("POST", "/api/trainees", json={
        "name": "新学员", "id_number": "110101199003074514", "phone": "13912345678", "category": "高校毕业生"})
    assert response.status_code == 201
    trainee_id = response.json["id"]
    assert outsider.send("GET", f"/api/trainees/{trainee_id}").status_code == 200
    assert outsider.send("PATCH", f"/api/trainees/{trainee_id}", json={"phone": "13800000000"}).status_code == 200
    assert "新学员" in outsider.send("GET", "/trainees").text
    assert own.send("GET", f"/api/trainees/{trainee_id}").status_code == 403
    assert "新学员" not in own.send("GET", "/api/trainees").text


def test_the_demo_seed_shows_the_boundary(app, client, auth):
    """`make run`: each demo instructor lists only their own institution's class and trainees."""
    from app.services.demo import seed_demo
    seed_demo(PASSWORD)
    for username, own, other in (("instructor", ("DEMO-CLASS-1", "张伟"), ("DEMO-CLASS-B", "赵强")),
                                 ("instructor_b", ("DEMO-CLASS-B", "赵强"), ("DEMO-CLASS-1", "张伟"))):
        auth.login(username, PASSWORD)
        pages = client.get("/classes").text + client.get("/trainees").text
        assert all(word in pages for word in own) and not any(word in pages for word in other), username
        auth.logout()
