"""State, activity profile and agent profile documents: ETags, preconditions, JSON merge on
POST, listing with `since`, deletion."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest

AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:lilei@example.com"})
ACTIVITY = "http://example.com/activities/welding-101"


def _state_url(**extra):
    return "/xapi/activities/state?" + urlencode({"activityId": ACTIVITY, "agent": AGENT,
                                                  **extra})


def _json(client, method, url, headers, value, **more):
    return client.open(url, method=method, data=json.dumps(value),
                       headers={**headers, "Content-Type": "application/json", **more})


def test_state_put_get_with_etag(client, headers):
    url = _state_url(stateId="progress")
    assert _json(client, "PUT", url, headers, {"page": 3}).status_code == 204
    response = client.get(url, headers=headers)
    assert response.status_code == 200 and response.get_json() == {"page": 3}
    assert response.headers["ETag"].startswith('"') and response.headers["Last-Modified"]


def test_state_post_merges_json(client, headers):
    url = _state_url(stateId="progress")
    _json(client, "POST", url, headers, {"page": 3, "score": 1})
    assert _json(client, "POST", url, headers, {"page": 4}).status_code == 204
    assert client.get(url, headers=headers).get_json() == {"page": 4, "score": 1}


def test_post_merge_with_non_json_is_400(client, headers):
    url = _state_url(stateId="notes")
    client.put(url, data=b"plain", headers={**headers, "Content-Type": "text/plain"})
    assert _json(client, "POST", url, headers, {"a": 1}).status_code == 400


def test_post_json_array_is_400(client, headers):
    assert _json(client, "POST", _state_url(stateId="x"), headers, [1]).status_code == 400


def test_state_preconditions(client, headers):
    url = _state_url(stateId="p")
    _json(client, "PUT", url, headers, {"v": 1})
    etag = client.get(url, headers=headers).headers["ETag"]
    assert _json(client, "PUT", url, headers, {"v": 2}, **{"If-Match": '"nope"'}).status_code \
        == 412
    assert _json(client, "PUT", url, headers, {"v": 2}, **{"If-None-Match": "*"}).status_code \
        == 412
    assert _json(client, "PUT", url, headers, {"v": 2}, **{"If-Match": etag}).status_code == 204
    assert client.get(url, headers=headers).get_json() == {"v": 2}


def test_state_put_without_headers_conflicts_in_2_0_only(client, headers, headers_v2):
    url = _state_url(stateId="p")
    _json(client, "PUT", url, headers, {"v": 1})
    assert _json(client, "PUT", url, headers, {"v": 2}).status_code == 204
    assert _json(client, "PUT", url, headers_v2, {"v": 3}).status_code == 409


def test_state_list_since_and_delete_all(client, headers):
    _json(client, "PUT", _state_url(stateId="a"), headers, {})
    time.sleep(0.02)
    moment = datetime.now(timezone.utc).isoformat()
    time.sleep(0.02)
    _json(client, "PUT", _state_url(stateId="b"), headers, {})
    assert sorted(client.get(_state_url(), headers=headers).get_json()) == ["a", "b"]
    assert client.get(_state_url(since=moment), headers=headers).get_json() == ["b"]
    assert client.delete(_state_url(), headers=headers).status_code == 204
    assert client.get(_state_url(), headers=headers).get_json() == []


def test_state_registration_separates_documents(client, headers):
    registration = "6d969975-8d7e-4506-ac19-877c57f2921a"
    _json(client, "PUT", _state_url(stateId="s", registration=registration), headers, {"r": 1})
    assert client.get(_state_url(stateId="s"), headers=headers).status_code == 404


@pytest.mark.parametrize("query", [
    {"agent": AGENT, "stateId": "s"},
    {"activityId": ACTIVITY, "stateId": "s"},
    {"activityId": ACTIVITY, "agent": "{bad", "stateId": "s"},
    {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s", "registration": "x"},
    {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s", "color": "red"},
])
def test_state_bad_parameters_are_400(client, headers, query):
    url = "/xapi/activities/state?" + urlencode(query)
    assert client.get(url, headers=headers).status_code == 400


@pytest.mark.parametrize("base", [
    "/xapi/activities/profile?" + urlencode({"activityId": ACTIVITY}),
    "/xapi/agents/profile?" + urlencode({"agent": AGENT}),
])
def test_profile_put_needs_precondition_header(client, headers, base):
    url = base + "&profileId=prefs"
    assert _json(client, "PUT", url, headers, {"a": 1}).status_code == 400
    assert _json(client, "PUT", url, headers, {"a": 1},
                 **{"If-None-Match": "*"}).status_code == 204
    assert _json(client, "PUT", url, headers, {"a": 2}).status_code == 409
    etag = client.get(url, headers=headers).headers["ETag"]
    assert _json(client, "PUT", url, headers, {"a": 2}, **{"If-Match": etag}).status_code == 204
    assert client.delete(url, headers={**headers, "If-Match": '"stale"'}).status_code == 412
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
