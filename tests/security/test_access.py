"""Access control over every route of the app, checked against `access_table.ACCESS`.

Each `METHOD rule` of `app.url_map` must be in the table. Every principal not listed for it is
refused (401, 403, 405 or a redirect to sign-in) and the refused requests change no row of any
table; every listed principal gets past the access check. Trainees see only their own records,
auditors change nothing, kiosks act only at their site, LRS credentials stay within their scopes.
"""
from __future__ import annotations


import pytest

from sqlalchemy import func, select

from app.extensions import db
from app.errors.exceptions import NotFoundError, PermissionDeniedError
from app.models import AuditEntry, ClassStatus, Role, User
from app.services import attendance
from tests.attendance_helpers import answer_paced, answer_paced_http, running_class, trainee_with_face
from tests.factories import make_catalogue, make_trainee, make_user
from tests.kiosk_helpers import signed_kiosk
from tests.security.access_table import ACCESS, NON_MUTATING
from tests.security.helpers import (MUTATING, build_world, database_digest, denied, principals,
                                    refused, route_keys, url_for_rule)


@pytest.fixture
def world(app):
    return build_world(app)


@pytest.fixture
def as_(app, world):
    """Clients for every principal; CSRF is off here (its own test below keeps it on)."""
    clients = principals(app, world)
    app.config["WTF_CSRF_ENABLED"] = False
    return clients


def test_every_route_is_in_the_access_table(app):
    missing = [key for key in route_keys(app) if key not in ACCESS]
    stale = [key for key in ACCESS if key not in route_keys(app)]
    assert not missing, f"routes missing from tests/security/access_table.py: {missing}"
    assert not stale, f"table rows for routes that no longer exist: {stale}"


def test_principals_outside_the_table_are_refused_and_change_nothing(app, world, as_):
    # every kiosk route is tried with wrong credentials here: their throttling (429 after a few,
    # tests/services/test_kiosk_provisioning.py) is lifted so each answer is the route's own
    app.config["KIOSK_AUTH_FAILURE_LIMIT"] = "100000 per minute"
    before = database_digest()
    let_through = []
    for key in route_keys(app):
        method, rule = key.split(" ", 1)
        url = url_for_rule(app, rule, world)
        for name in denied(key):
            response = as_[name].send(method, url)
            if not refused(response):
                let_through.append((key, name, response.status_code))
    assert not let_through
    assert database_digest() == before


def test_principals_in_the_table_get_past_the_access_check(app, world, as_):
    stopped = []
    for key in route_keys(app):
        method, rule = key.split(" ", 1)
        url = url_for_rule(app, rule, None)
        for name in sorted(ACCESS[key]):
            response = as_[name].send(method, url)
            if response.status_code in (401, 403) or response.status_code >= 500:
                stopped.append((key, name, response.status_code))
            if key == "POST /logout":
                as_[name].sign_in()
    assert not stopped


def test_auditors_change_nothing(app, world, as_):
    assert all("auditor" not in ACCESS[k] for k in route_keys(app)
               if k.split(" ")[0] in MUTATING and k not in NON_MUTATING)
    before, last_seq = database_digest(exclude=("audit_entries",)), _last_audit_seq()
    for key in route_keys(app):
        method, rule = key.split(" ", 1)
        if key in NON_MUTATING:
            continue
        response = as_["auditor"].send(method, url_for_rule(app, rule, world))
        assert method not in MUTATING or refused(response), key
    assert database_digest(exclude=("audit_entries",)) == before
    # reading may only leave access records (PIPL access audit: "….viewed") in the audit log
    new_actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.seq > last_seq)).all()
    assert all(action.endswith(".viewed") for action in new_actions), new_actions


def _last_audit_seq() -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def test_trainees_never_reach_another_trainees_records(app, world, as_):
    """Every rule naming a trainee, class, session or entry refuses a trainee, whose own data is
    reachable only under /me and /api/me (which take no id)."""
    for key in route_keys(app):
        method, rule = key.split(" ", 1)
        if "<uuid:" in rule:
            assert "trainee" not in ACCESS[key], key
            assert refused(as_["trainee"].send(method, url_for_rule(app, rule, world))), key
    response = as_["trainee"].send("GET", "/api/me/biometrics")
    assert response.status_code in (404, 200)
    assert str(world["other"].id) not in response.text


def test_a_challenge_belongs_to_the_trainee_it_was_issued_to(app, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR, username="teacher")
    owner_user, owner = trainee_with_face(admin, "owner")
    thief_user = make_user(Role.TRAINEE, username="thief")
    thief = make_trainee("孙悟空", actor=admin)
    thief.user_id = thief_user.id
    db.session.commit()
    running_class(admin, instructor, [owner, thief])
    attempt = attendance.check_personal(thief_user, "check_in", answer_paced(owner_user), [], "test")
    assert not attempt.accepted and attempt.reason == "unknown_nonce"


def test_a_kiosk_checks_in_only_at_its_own_site(app, client, faces_dir):
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR, username="teacher")
    _user, trainee = trainee_with_face(admin, "kiosk_trainee")
    klass = running_class(admin, instructor, [trainee], place="实训楼 201")
    kiosk = signed_kiosk(client, admin, klass.institution_id, "另一校区", name="外校区")
    nonce = answer_paced_http(kiosk, {}, prefix="/api/kiosk")
    response = kiosk.post("/api/kiosk/check-in", content_type="multipart/form-data",
                          data={"nonce": nonce, "class_id": str(klass.id)})
    assert response.status_code in (403, 409) and response.json["accepted"] is False


def test_instructors_act_only_for_trainees_of_their_own_institution(app, world, faces_dir):
    """ID-card checks and lock-out lifts: another institution's instructor is refused (403)."""
    other_institution = make_catalogue(world["admin"])[0]
    outsider = make_user(Role.INSTRUCTOR, username="outsider", institution=other_institution)
    trainee_id = world["other"].id
    for action in (lambda who: attendance.check_alternative(who, trainee_id, "check_out"),
                   lambda who: attendance.unlock_trainee(who, trainee_id, "复核")):
        with pytest.raises(PermissionDeniedError):
            action(outsider)
    own = db.session.scalar(select(User).where(User.username == "instructor"))
    with pytest.raises(PermissionDeniedError):  # a draft roster shows the trainee, gives no power
        attendance.unlock_trainee(own, trainee_id, "复核")
    world["class"].status = ClassStatus.APPROVED
    db.session.commit()
    with pytest.raises(NotFoundError):  # allowed, but there is no lock to lift
        attendance.unlock_trainee(own, trainee_id, "复核")
