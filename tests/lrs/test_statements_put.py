"""PUT /xapi/statements?statementId=: 204, id agreement, immutability."""

from __future__ import annotations

import json

from tests.lrs.factories import new_id, statement


def _put(client, headers, ident, body):
    return client.put(f"/xapi/statements?statementId={ident}", data=json.dumps(body),
                      headers={**headers, "Content-Type": "application/json"})


def test_put_stores_with_204(client, headers):
    ident = new_id()
    assert _put(client, headers, ident, statement()).status_code == 204
    got = client.get(f"/xapi/statements?statementId={ident}", headers=headers)
    assert got.status_code == 200 and got.get_json()["id"] == ident


def test_put_without_statement_id_is_400(client, headers):
    response = client.put("/xapi/statements", data=json.dumps(statement()),
                          headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_put_with_differing_body_id_is_400(client, headers):
    assert _put(client, headers, new_id(), statement(id=new_id())).status_code == 400


def test_put_existing_id_same_content_204_other_content_409(client, headers):
    ident = new_id()
    assert _put(client, headers, ident, statement()).status_code == 204
    assert _put(client, headers, ident, statement()).status_code == 204
    changed = statement(verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    assert _put(client, headers, ident, changed).status_code == 409
    got = client.get(f"/xapi/statements?statementId={ident}", headers=headers).get_json()
    assert got["verb"]["id"].endswith("attended")


def test_put_array_is_400(client, headers):
    assert _put(client, headers, new_id(), [statement()]).status_code == 400


def test_put_unknown_parameter_is_400(client, headers):
    response = client.put(f"/xapi/statements?statementId={new_id()}&foo=1",
                          data=json.dumps(statement()),
                          headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_authority_home_page_is_configured_never_the_host_header(app, client, headers):
    """A client choosing the Host header cannot choose the authority's homePage."""
    ident = new_id()
    response = client.put(f"/xapi/statements?statementId={ident}", data=json.dumps(statement()),
                          headers={**headers, "Content-Type": "application/json",
                                   "Host": "registry.gov.example"})
    assert response.status_code == 204
    stored = client.get(f"/xapi/statements?statementId={ident}", headers=headers).get_json()
    assert stored["authority"]["account"]["homePage"] == app.config["LRS_AUTHORITY_HOMEPAGE"]
    assert app.config["LRS_AUTHORITY_HOMEPAGE"] == app.config["XAPI_HOMEPAGE"]
