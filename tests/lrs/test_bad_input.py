"""Bad input never gives a 500 and never stores anything: arbitrary JSON, and valid
statements with one property replaced by arbitrary JSON, get 200 or 400 only."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lrs.exceptions import BadRequestError
from lrs.inputs import MAX_JSON_DEPTH, load_json
from lrs.storage.tables import Statement
from tests.lrs.factories import statement

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=10)
PATHS = [("actor",), ("verb",), ("object",), ("result",), ("context",), ("timestamp",),
         ("attachments",), ("actor", "mbox"), ("verb", "display"), ("object", "definition"),
         ("object", "objectType"), ("id",), ("version",), ("authority",)]
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _count(app) -> int:
    with app.app_context():
        return app.extensions["lrs_store"].session().scalar(
            select(func.count()).select_from(Statement))


@SETTINGS
@given(body=JSON)
def test_arbitrary_json_is_never_a_server_error(app, client, headers, body):
    response = client.post("/xapi/statements", data=json.dumps(body),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (200, 400), response.get_data(as_text=True)


@SETTINGS
@given(path=st.sampled_from(PATHS), value=JSON)
def test_one_bad_property_is_400_and_stores_nothing(app, client, headers, path, value):
    body = statement()
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    before = _count(app)
    response = client.post("/xapi/statements", data=json.dumps([statement(), body]),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert _count(app) == before


def _deep(levels: int) -> str:
    """A statement whose result extension nests `levels` arrays."""
    inner = "[" * levels + "1" + "]" * levels
    body = json.dumps(statement(result={"extensions": {"http://example.com/x": 0}}))
    return body.replace("0}", inner + "}", 1)


DEPTHS = [150, 5000, 200_000]  # over the limit; over Python's recursion limit; far over


def _is_xapi_400(response) -> bool:
    body = response.get_json()
    return response.status_code == 400 and body["error"] == "bad_request" and "nested" in (
        body["message"])


def _nested(levels: int, shape: str) -> str:
    """A batch (one level) of a statement and `levels` containers: arrays, objects or both by
    turns."""
    text = "1"
    for level in range(levels):
        text = f"[{text}]" if shape == "array" or (shape == "mixed" and level % 2) else f'{{"k": {text}}}'
    return f"[{json.dumps(statement())}, {text}]"


def test_json_depth_limit_is_exact():
    """A value nested exactly MAX_JSON_DEPTH levels (the batch counts as one) is read; one level
    more is a 400, however the levels are made."""
    for shape in ("array", "object", "mixed"):
        assert load_json(_nested(MAX_JSON_DEPTH - 1, shape), "body")[-1] is not None
        try:
            load_json(_nested(MAX_JSON_DEPTH, shape), "body")
        except BadRequestError as exc:
            assert "nested" in str(exc)
        else:
            raise AssertionError(f"{shape}: {MAX_JSON_DEPTH + 1} levels were read")


def test_deeply_nested_statement_is_400(app, client, headers):
    for levels in DEPTHS:
        response = client.post("/xapi/statements", data=_deep(levels),
                               headers={**headers, "Content-Type": "application/json"})
        assert _is_xapi_400(response), (levels, response.get_data(as_text=True)[:200])
    assert _count(app) == 0


def test_deeply_nested_multipart_statement_part_is_400(app, client, headers):
    for levels in DEPTHS:
        body = (b"--b\r\nContent-Type: application/json\r\n\r\n" + _deep(levels).encode()
                + b"\r\n--b--\r\n")
        response = client.post("/xapi/statements", data=body, headers={
            **headers, "Content-Type": "multipart/mixed; boundary=b"})
        assert _is_xapi_400(response), (levels, response.get_data(as_text=True)[:200])
    assert _count(app) == 0


def test_deeply_nested_state_document_is_400(client, headers):
    params = {"activityId": "http://example.com/a", "stateId": "s",
              "agent": json.dumps({"mbox": "mailto:a@example.com"})}
    for method in ("PUT", "POST"):
        for levels in DEPTHS:
            document = '{"a": ' + "[" * levels + "]" * levels + "}"
            response = client.open("/xapi/activities/state", method=method,
                                   query_string=params, data=document,
                                   headers={**headers, "Content-Type": "application/json"})
            assert _is_xapi_400(response), (method, levels)
        response = client.get("/xapi/activities/state", query_string=params, headers=headers)
        assert response.status_code == 404


def test_deeply_nested_agent_parameter_is_400(client, headers):
    agent = "[" * 3000 + "]" * 3000
    response = client.get("/xapi/statements", query_string={"agent": agent}, headers=headers)
    assert _is_xapi_400(response)


def test_overlong_document_content_type_is_400(client, headers):
    params = {"activityId": "http://example.com/a", "stateId": "s",
              "agent": json.dumps({"mbox": "mailto:a@example.com"})}
    response = client.put("/xapi/activities/state", query_string=params, data=b"x",
                          headers={**headers, "Content-Type": "text/plain; x=" + "y" * 300})
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"
