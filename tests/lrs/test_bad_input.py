"""Bad input never gives a 500 and never stores anything: arbitrary JSON, and valid
statements with one property replaced by arbitrary JSON, get 200 or 400 only."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

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
