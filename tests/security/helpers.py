"""Shared by the security tests: a world with one account of each role, a kiosk and one LRS
credential per scope; clients acting as each principal; URLs for every rule; a digest of every
row of every table (to prove that refused requests changed nothing)."""
from __future__ import annotations

import hashlib
import re
import uuid

from sqlalchemy import select

import lrs
from app.extensions import db
from app.models import Role
from tests.conftest import FreshContextClient
from tests.factories import PASSWORD, make_catalogue, make_class, make_trainee, make_user
from tests.kiosk_helpers import encode_body, provision, sign_headers
from tests.lrs.factories import make_credential
from tests.security.access_table import ACCESS, LRS_SCOPES, PRINCIPALS, ROLES

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def route_keys(app) -> list[str]:
    """Every `METHOD rule` of the app (HEAD and OPTIONS left out), logout last."""
    keys = {f"{m} {rule.rule}" for rule in app.url_map.iter_rules()
            for m in rule.methods - SKIPPED_METHODS}
    return sorted(keys, key=lambda k: (k == "POST /logout", k))


def build_world(app) -> dict:
    """Accounts of every role, another trainee with records, a class, a kiosk, LRS credentials."""
    store = app.extensions["lrs_store"]
    from lrs.auth import SecretHasher
    store.secrets = SecretHasher(time_cost=1, memory_cost=1024)
    admin = make_user(Role.ADMIN)
    institution, _occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    for role in (Role.REVIEWER, Role.AUDITOR, Role.TRAINEE):
        make_user(role)
    other_user = make_user(Role.TRAINEE, username="other_trainee")
    other = make_trainee("钱多多", actor=admin)
    other.user_id = other_user.id
    db.session.commit()
    klass = make_class(admin, institution, programme, instructor, [other])
    kiosk, device_key = provision(admin, institution.id, "实训楼 201")
    lrs_auth = {scope: make_credential(app, [scope], name=f"c-{scope}")["auth"] for scope in LRS_SCOPES}
    return {"admin": admin, "other": other, "class": klass, "programme": programme,
            "session_id": klass.sessions[0].id,
            "kiosk_device": (kiosk.key, device_key), "lrs_auth": lrs_auth}


class Principal:
    """Sends requests as one principal: a signed-in role, a kiosk, an LRS scope, or nobody."""

    def __init__(self, app, name: str, world: dict):
        app.test_client_class = FreshContextClient
        self.app, self.name, self.client, self.headers = app, name, app.test_client(), {}
        if name in ROLES:
            self.sign_in()
        elif name == "kiosk":
            self.device = world["kiosk_device"]
        elif name.startswith("lrs:"):
            self.headers = {"Authorization": world["lrs_auth"][name[4:]],
                            "X-Experience-API-Version": "1.0.3"}

    def sign_in(self) -> None:
        from tests.conftest import AuthActions
        csrf_was = self.app.config.get("WTF_CSRF_ENABLED", True)
        self.app.config["WTF_CSRF_ENABLED"] = True
        response = AuthActions(self.client).login(self.name, PASSWORD)
        self.app.config["WTF_CSRF_ENABLED"] = csrf_was
        assert response.status_code == 302, f"{self.name} could not sign in"

    def send(self, method: str, url: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if url.startswith("/xapi/"):
            headers.setdefault("X-Experience-API-Version", "1.0.3")
        if method in MUTATING and "data" not in kwargs:
            kwargs["json"] = {}
        if self.name == "kiosk":  # signed as the kiosk page signs, with its device key
            body, ctype = encode_body(url, kwargs.pop("json", None), kwargs.pop("data", None),
                                      kwargs.pop("content_type", None))
            headers.update(sign_headers(*self.device, method, url.split("?")[0], body))
            kwargs.update(data=body, content_type=ctype)
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        response.get_data()
        response.close()
        return response


def principals(app, world, names=PRINCIPALS) -> dict[str, Principal]:
    return {name: Principal(app, name, world) for name in names}


PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def url_for_rule(app, rule: str, world: dict | None) -> str:
    """A concrete URL for ``rule``: the world's real ids when given, else fresh random ids."""
    real = {"trainee_id": world["other"].id, "class_id": world["class"].id,
            "session_id": world["session_id"], "programme_id": world["programme"].id} if world else {}
    fixed = {"kind": "occupation", "code": "en", "filename": "style.css", "n": "0"}

    def value(match: re.Match) -> str:
        name = match.group(1)
        return str(fixed.get(name) or real.get(name) or uuid.uuid4())
    return PARAMETER.sub(value, rule)


def refused(response) -> bool:
    """401, 403, 405, or a redirect to the sign-in page."""
    if response.status_code in (401, 403, 405):
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def database_digest(exclude: tuple[str, ...] = ()) -> str:
    """A SHA-256 over every row of every table of the app and the LRS (but ``exclude``)."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in [*db.metadata.sorted_tables, *lrs.metadata.sorted_tables]:
            if table.name in exclude:
                continue
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            digest.update(f"{table.name}:{len(rows)}:{''.join(rows)}".encode())
    return digest.hexdigest()


def denied(key: str) -> list[str]:
    return [p for p in PRINCIPALS if p not in ACCESS[key]]

