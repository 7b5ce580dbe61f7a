"""About, CORS, 1.0.3's alternate request syntax, and bodies that are too large."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.lrs.factories import new_id, statement


def test_about_needs_no_credentials(client):
    response = client.get("/xapi/about")
    assert response.status_code == 200
    assert {"1.0.3", "2.0.0"} <= set(response.get_json()["version"])


def test_cors_preflight_and_headers(client, headers):
    preflight = client.options("/xapi/statements", headers={
        "Origin": "https://content.example.com", "Access-Control-Request-Method": "PUT"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://content.example.com"
    assert "X-Experience-API-Version" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.get("/xapi/statements", headers={**headers, "Origin": "https://a.b"})
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_alternate_syntax_put_and_get(client, headers):
    ident = new_id()
    form = urlencode({"statementId": ident, "content": json.dumps(statement()),
                      "Authorization": headers["Authorization"],
                      "X-Experience-API-Version": "1.0.3",
                      "Content-Type": "application/json"})
    response = client.post("/xapi/statements?method=PUT", data=form,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 204
    response = client.post("/xapi/statements?method=GET",
                           data=urlencode({"statementId": ident}), headers=headers,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.get_json()["id"] == ident


def test_alternate_syntax_rejects_extra_query_and_2_0(client, headers, headers_v2):
    form = urlencode({"limit": "1"})
    assert client.post("/xapi/statements?method=GET&limit=1", data=form, headers=headers,
                       content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.post("/xapi/statements?method=GET", data=form, headers=headers_v2,
                       content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.put("/xapi/statements?method=GET", data=form, headers=headers,
                      content_type="application/x-www-form-urlencoded").status_code == 400


def test_too_large_body_is_413(app, client, headers):
    app.config["LRS_MAX_BODY_BYTES"] = 1000
    try:
        body = json.dumps(statement(result={"response": "x" * 2000}))
        response = client.post("/xapi/statements", data=body,
                               headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 413
    finally:
        app.config.pop("LRS_MAX_BODY_BYTES")


def test_activities_and_agents_resources(client, headers):
    client.post("/xapi/statements", data=json.dumps(statement()),
                headers={**headers, "Content-Type": "application/json"})
    other = statement(object={"id": "http://example.com/activities/welding-101",
                              "definition": {"name": {"fr-FR": "Soudage"}}})
    client.post("/xapi/statements", data=json.dumps(other),
                headers={**headers, "Content-Type": "application/json"})
    activity = client.get("/xapi/activities?activityId=http://example.com/activities/"
                          "welding-101", headers=headers).get_json()
    assert activity["definition"]["name"] == {"en-US": "Welding 101", "zh-CN": "焊接入门",
                                              "fr-FR": "Soudage"}
    assert client.get("/xapi/activities", headers=headers).status_code == 400
    person = client.get("/xapi/agents?agent=" + json.dumps(
        {"mbox": "mailto:lilei@example.com", "name": "Li Lei"}), headers=headers).get_json()
    assert person == {"objectType": "Person", "name": ["Li Lei"],
                      "mbox": ["mailto:lilei@example.com"]}
    assert client.get("/xapi/agents?agent={}", headers=headers).status_code == 400
