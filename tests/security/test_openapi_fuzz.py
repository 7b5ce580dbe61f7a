"""The OpenAPI document of `/api/` covers every route, and schemathesis fuzzes the app with it:
no 500, every answer has a documented status and matches its schema.

Each operation is called as the principal it is meant for (a trainee for `/api/me`, attendance and
study, a kiosk for `/api/kiosk`, an administrator otherwise), signed in with the CSRF header.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.models import Role
from app.services._tx import transaction
from app.services.consent import current_consent_text, give_consent
from tests.conftest import AuthActions, FreshContextClient, csrf_token_from
from tests.factories import PASSWORD, make_catalogue, make_trainee, make_user
from tests.kiosk_helpers import provision

EXAMPLES = 25
# Every default check but `positive_data_acceptance`: business rules (a valid resident ID, a
# listed programme) are beyond a JSON Schema, so schema-valid data may be refused with 400.
_c = schemathesis.checks
CHECKS = [_c.not_a_server_error, _c.status_code_conformance, _c.content_type_conformance,
          _c.response_schema_conformance, _c.negative_data_rejection, _c.ignored_auth]
TRAINEE_PREFIXES = ("/api/me/", "/api/attendance/", "/api/study")


def test_every_api_route_is_documented(app, client):
    document = client.get("/api/openapi.json").json
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    from apispec_webframeworks.flask import FlaskPlugin
    routes = {(m, FlaskPlugin.flaskpath2openapi(r.rule)) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/") and r.endpoint != "api.openapi_document"
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes - documented == set()


def _session_headers(app, username: str) -> dict:
    app.test_client_class = FreshContextClient
    client = app.test_client()
    AuthActions(client).login(username, PASSWORD)
    token = csrf_token_from(client.get("/").text)
    return {"headers": {"X-CSRFToken": token},
            "cookies": {"session": client.get_cookie("session").value}}


@pytest.fixture
def principals_headers(app):
    admin = make_user(Role.ADMIN)
    institution, _occupation, _programme = make_catalogue(admin)
    user = make_user(Role.TRAINEE)
    trainee = make_trainee(actor=admin)
    with transaction() as session:
        version = current_consent_text(session).version
        session.merge(trainee).user_id = user.id
    give_consent(admin, trainee.id, version, "paper", "纸质同意书 2026-001")
    # a kiosk's requests are signed one by one (tests/kiosk_helpers.py); fuzzed unsigned, they are
    # refused (401), which the signature tests cover; the fuzz checks those answers are documented
    kiosk, _device_key = provision(admin, institution.id, "实训楼 201")
    return {"admin": _session_headers(app, "admin"), "trainee": _session_headers(app, "trainee"),
            "kiosk": {"headers": {"X-Kiosk-Key": kiosk.key}}}


def _headers_for(path: str, headers: dict) -> dict:
    if path.startswith("/api/kiosk/"):
        return headers["kiosk"]
    return headers["trainee"] if path.startswith(TRAINEE_PREFIXES) else headers["admin"]


def test_api_fuzz(app, principals_headers):
    """Each operation in turn (schemathesis' pytest plugin does not run under pytest 9 yet)."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        auth = _headers_for(operation.path, principals_headers)

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(**auth, checks=CHECKS)
        fuzz()
