"""Credentials: HTTP Basic, scopes, revocation, hashed secrets, the `flask lrs credentials`
commands, and the credential as authority."""

from __future__ import annotations

import base64
import json
import time

from sqlalchemy import select, update

from lrs.commands import utcnow
from lrs.storage.tables import Credential
from tests.lrs.factories import make_credential, post, statement

V = {"X-Experience-API-Version": "1.0.3"}


def test_missing_or_wrong_credentials_are_401(client, credential):
    assert client.get("/xapi/statements", headers=V).status_code == 401
    wrong = base64.b64encode(f"{credential['key']}:nope".encode()).decode()
    response = client.get("/xapi/statements", headers={**V, "Authorization": f"Basic {wrong}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_missing_or_unknown_version_header_is_400(client, headers):
    assert client.get("/xapi/statements",
                      headers={"Authorization": headers["Authorization"]}).status_code == 400
    response = client.get("/xapi/statements",
                          headers={**headers, "X-Experience-API-Version": "1.1.0"})
    assert response.status_code == 400


def test_version_header_on_every_response(client, headers, headers_v2):
    assert client.get("/xapi/statements", headers=headers).headers[
        "X-Experience-API-Version"] == "1.0.3"
    assert client.get("/xapi/statements", headers=headers_v2).headers[
        "X-Experience-API-Version"] == "2.0.0"
    assert client.get("/xapi/statements").headers["X-Experience-API-Version"]


def test_missing_version_header_is_answered_in_the_clients_last_version(
        client, headers, headers_v2):
    bare = {"Authorization": headers["Authorization"]}
    for declared in (headers, headers_v2, headers):
        assert client.get("/xapi/statements", headers=declared).status_code == 200
        response = client.post("/xapi/statements", headers=bare, json=statement())
        assert response.status_code == 400
        assert response.headers["X-Experience-API-Version"] == declared[
            "X-Experience-API-Version"]
    # Someone without the secret gets the configured fallback, not the client's version.
    wrong = base64.b64encode(b"nokey:nosecret").decode()
    response = client.get("/xapi/statements", headers={"Authorization": f"Basic {wrong}"})
    assert response.headers["X-Experience-API-Version"] == "2.0.0"


def test_verified_credential_is_trusted_for_the_cache_time(app, client, headers, store):
    store.principals.ttl = 0.5
    assert client.get("/xapi/statements", headers=headers).status_code == 200
    with app.app_context():  # revoked by another process: this one sees it within the ttl
        session = store.session()
        session.execute(update(Credential).values(revoked_at=utcnow()))
        session.commit()
    assert client.get("/xapi/statements", headers=headers).status_code == 200
    time.sleep(0.6)
    assert client.get("/xapi/statements", headers=headers).status_code == 401


def test_scopes_are_enforced(app, client):
    reader = make_credential(app, ["statements/read"])
    writer = make_credential(app, ["statements/write"])
    as_reader = {**V, "Authorization": reader["auth"]}
    as_writer = {**V, "Authorization": writer["auth"]}
    assert post(client, as_reader, statement()).status_code == 403
    assert post(client, as_writer, statement()).status_code == 200
    assert client.get("/xapi/statements", headers=as_writer).status_code == 403
    assert client.get("/xapi/statements", headers=as_reader).status_code == 200
    state = "/xapi/activities/state?activityId=http://x.y/a&agent=" + json.dumps(
        {"mbox": "mailto:a@b.c"}) + "&stateId=s"
    assert client.get(state, headers=as_reader).status_code == 403


def test_read_mine_sees_only_own_statements(app, client):
    mine = make_credential(app, ["statements/write", "statements/read/mine"], "kiosk")
    other = make_credential(app, ["all"], "other")
    as_mine = {**V, "Authorization": mine["auth"]}
    own = post(client, as_mine, statement()).get_json()[0]
    theirs = post(client, {**V, "Authorization": other["auth"]}, statement()).get_json()[0]
    listed = [s["id"] for s in client.get("/xapi/statements",
                                          headers=as_mine).get_json()["statements"]]
    assert listed == [own]
    assert client.get(f"/xapi/statements?statementId={theirs}",
                      headers=as_mine).status_code == 404


def test_cli_create_list_revoke(app, client, runner):
    result = runner.invoke(args=["lrs", "credentials", "create", "--name", "moodle",
                                 "--scopes", "statements/write,statements/read"])
    assert result.exit_code == 0, result.output
    pair = json.loads(result.output)
    auth = base64.b64encode(f"{pair['key']}:{pair['secret']}".encode()).decode()
    as_new = {**V, "Authorization": f"Basic {auth}"}
    assert client.get("/xapi/statements", headers=as_new).status_code == 200
    listed = json.loads(runner.invoke(args=["lrs", "credentials", "list"]).output)
    assert any(c["key"] == pair["key"] and c["name"] == "moodle" for c in listed)
    assert pair["secret"] not in json.dumps(listed)
    assert runner.invoke(args=["lrs", "credentials", "revoke", pair["key"]]).exit_code == 0
    assert client.get("/xapi/statements", headers=as_new).status_code == 401


def test_cli_rejects_unknown_scope_and_key(runner):
    result = runner.invoke(args=["lrs", "credentials", "create", "--name", "x",
                                 "--scopes", "everything"])
    assert result.exit_code != 0 and "unknown scope" in result.output
    assert runner.invoke(args=["lrs", "credentials", "revoke", "nokey"]).exit_code != 0


def test_secret_is_stored_hashed(app, credential):
    with app.app_context():
        row = app.extensions["lrs_store"].session().scalar(
            select(Credential).where(Credential.key == credential["key"]))
        assert credential["secret"] not in row.secret_hash
        assert row.secret_hash.startswith("$argon2id$")
