"""GET/HEAD /xapi/statements: single statements, voiding, every filter, formats, paging
with `more`, and the headers xAPI requires."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from lrs.models.common import parse_timestamp
from tests.lrs.factories import new_id, post, statement

VOIDED = {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}}
BOB = {"objectType": "Agent", "mbox": "mailto:bob@example.com"}


def _query(client, headers, **params):
    text = "&".join(f"{k}={quote(v if isinstance(v, str) else json.dumps(v))}"
                    for k, v in params.items())
    response = client.get(f"/xapi/statements?{text}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _ids(response):
    return [s["id"] for s in response.get_json()["statements"]]


def test_get_single_statement_and_404(client, headers):
    ident = post(client, headers, statement()).get_json()[0]
    assert client.get(f"/xapi/statements?statementId={ident}",
                      headers=headers).get_json()["id"] == ident
    assert client.get(f"/xapi/statements?statementId={new_id()}",
                      headers=headers).status_code == 404


def test_statement_id_with_other_filter_is_400(client, headers):
    response = client.get(f"/xapi/statements?statementId={new_id()}&verb=http://x.y/z",
                          headers=headers)
    assert response.status_code == 400
    assert "X-Experience-API-Consistent-Through" in response.headers


def test_voided_statement_only_by_voided_statement_id(client, headers):
    target = post(client, headers, statement()).get_json()[0]
    voider = post(client, headers, statement(verb=VOIDED, object={
        "objectType": "StatementRef", "id": target})).get_json()[0]
    assert client.get(f"/xapi/statements?statementId={target}",
                      headers=headers).status_code == 404
    assert client.get(f"/xapi/statements?voidedStatementId={target}",
                      headers=headers).get_json()["id"] == target
    assert client.get(f"/xapi/statements?voidedStatementId={voider}",
                      headers=headers).status_code == 404
    listed = _ids(_query(client, headers))
    assert voider in listed and target not in listed


def test_voiding_before_target_arrives_still_voids(client, headers):
    target = new_id()
    post(client, headers, statement(verb=VOIDED, object={"objectType": "StatementRef",
                                                         "id": target}))
    post(client, headers, statement(id=target))
    assert client.get(f"/xapi/statements?statementId={target}",
                      headers=headers).status_code == 404


def test_statement_ref_filter_rule_returns_referencing_statements(client, headers):
    verb = {"id": f"http://example.com/verbs/{uuid.uuid4()}"}
    target = post(client, headers, statement(verb=verb)).get_json()[0]
    voider = post(client, headers, statement(verb=VOIDED, object={
        "objectType": "StatementRef", "id": target})).get_json()[0]
    assert _ids(_query(client, headers, verb=verb["id"])) == [voider]


def test_filter_agent_direct_and_related(client, headers):
    as_actor = post(client, headers, statement(actor=BOB)).get_json()[0]
    as_instructor = post(client, headers, statement(
        context={"instructor": BOB})).get_json()[0]
    assert _ids(_query(client, headers, agent=BOB)) == [as_actor]
    assert set(_ids(_query(client, headers, agent=BOB, related_agents="true"))) == {
        as_actor, as_instructor}


def test_filter_agent_matches_group_member(client, headers):
    group = {"objectType": "Group", "member": [BOB, {"mbox": "mailto:c@example.com"}]}
    ident = post(client, headers, statement(actor=group)).get_json()[0]
    assert _ids(_query(client, headers, agent=BOB)) == [ident]


def test_filter_activity_direct_and_related(client, headers):
    parent = "http://example.com/courses/welding"
    direct = post(client, headers, statement(object={"id": parent})).get_json()[0]
    related = post(client, headers, statement(
        context={"contextActivities": {"parent": {"id": parent}}})).get_json()[0]
    assert _ids(_query(client, headers, activity=parent)) == [direct]
    assert set(_ids(_query(client, headers, activity=parent,
                           related_activities="true"))) == {direct, related}


def test_filter_verb_and_registration(client, headers):
    registration = str(uuid.uuid4())
    mine = post(client, headers, statement(context={"registration": registration})).get_json()[0]
    post(client, headers, statement(verb={"id": "http://example.com/verbs/other"}))
    assert _ids(_query(client, headers, registration=registration)) == [mine]
    assert len(_ids(_query(client, headers, verb="http://example.com/verbs/other"))) == 1


def test_filter_since_until_ascending(client, headers):
    first = post(client, headers, statement()).get_json()[0]
    time.sleep(0.01)
    stored = client.get(f"/xapi/statements?statementId={first}",
                        headers=headers).get_json()["stored"]
    time.sleep(0.01)
    second = post(client, headers, statement()).get_json()[0]
    assert _ids(_query(client, headers, since=stored)) == [second]
    assert _ids(_query(client, headers, until=stored)) == [first]
    assert _ids(_query(client, headers, ascending="true")) == [first, second]
    assert _ids(_query(client, headers)) == [second, first]


def test_limit_and_more_pages_through_everything(client, headers):
    wanted = [post(client, headers, statement()).get_json()[0] for _ in range(5)]
    seen, url = [], "/xapi/statements?limit=2"
    while url:
        page = client.get(url, headers=headers)
        assert page.status_code == 200
        body = page.get_json()
        assert len(body["statements"]) <= 2
        seen += [s["id"] for s in body["statements"]]
        url = body["more"]
    assert seen == list(reversed(wanted))


def test_limit_zero_means_server_maximum(client, headers):
    post(client, headers, [statement() for _ in range(60)])
    body = _query(client, headers, limit="0").get_json()
    assert len(body["statements"]) == 50 and body["more"]


@pytest.mark.parametrize("params", ["limit=-1", "format=full", "ascending=yes",
                                    "since=yesterday", "agent=notjson", "registration=x",
                                    "foo=bar", "more=garbage"])
def test_bad_query_parameters_are_400(client, headers, params):
    assert client.get(f"/xapi/statements?{params}", headers=headers).status_code == 400


def test_format_ids_reduces_objects_to_identifiers(client, headers):
    ident = post(client, headers, statement()).get_json()[0]
    got = client.get(f"/xapi/statements?statementId={ident}&format=ids",
                     headers=headers).get_json()
    assert got["actor"] == {"objectType": "Agent", "mbox": "mailto:lilei@example.com"}
    assert got["object"] == {"id": "http://example.com/activities/welding-101"}
    assert got["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended"}


def test_format_canonical_follows_accept_language(client, headers):
    ident = post(client, headers, statement()).get_json()[0]
    got = client.get(f"/xapi/statements?statementId={ident}&format=canonical",
                     headers={**headers, "Accept-Language": "zh-CN, en;q=0.5"}).get_json()
    assert got["verb"]["display"] == {"zh-CN": "参加"}
    assert got["object"]["definition"]["name"] == {"zh-CN": "焊接入门"}
    exact = client.get(f"/xapi/statements?statementId={ident}",
                       headers={**headers, "Accept-Language": "zh-CN"}).get_json()
    assert len(exact["verb"]["display"]) == 2


def test_context_activities_are_returned_as_arrays(client, headers):
    ident = post(client, headers, statement(context={"contextActivities": {
        "parent": {"id": "http://example.com/p"}}})).get_json()[0]
    got = client.get(f"/xapi/statements?statementId={ident}", headers=headers).get_json()
    assert got["context"]["contextActivities"]["parent"] == [{"id": "http://example.com/p"}]


def test_get_headers_and_head_has_no_body(client, headers):
    response = client.get("/xapi/statements", headers=headers)
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Experience-API-Consistent-Through"].endswith("Z")
    head = client.head("/xapi/statements", headers=headers)
    assert head.status_code == 200 and head.get_data() == b""


def test_single_statement_has_last_modified(client, headers_v2):
    ident = post(client, headers_v2, statement()).get_json()[0]
    response = client.get(f"/xapi/statements?statementId={ident}", headers=headers_v2)
    assert response.headers["Last-Modified"].endswith("GMT")


def _page_through(client, headers, url: str) -> tuple[list[str], list[str]]:
    """(ids, more links) of every page from `url` on."""
    seen, links = [], []
    while url:
        page = client.get(url, headers=headers)
        assert page.status_code == 200, page.get_data(as_text=True)
        body = page.get_json()
        seen += [s["id"] for s in body["statements"]]
        url = body["more"]
        links += [url] if url else []
    return seen, links


def test_more_link_of_a_4kb_query_is_short_and_works(client, headers):
    activity = "http://example.com/activities/" + "a" * 3900
    wanted = [post(client, headers, statement(object={"id": activity})).get_json()[0]
              for _ in range(3)]
    url = f"/xapi/statements?limit=1&related_activities=false&activity={quote(activity, safe='')}"
    assert len(url) > 3900
    seen, links = _page_through(client, headers, url)
    assert seen == list(reversed(wanted))
    assert links and all(len(link) < 200 for link in links)


def test_more_link_of_a_short_query_is_short(client, headers):
    post(client, headers, [statement() for _ in range(3)])
    seen, links = _page_through(client, headers, "/xapi/statements?limit=1&ascending=true")
    assert len(seen) == 3 and all(len(link) < 300 for link in links)


def test_more_link_forged_or_older_than_a_day_is_400_and_23_hours_is_fine(app, client, headers):
    from datetime import datetime, timedelta, timezone

    from lrs.schemas import encode_more
    post(client, headers, [statement() for _ in range(3)])
    store = app.extensions["lrs_store"]
    now = datetime.now(timezone.utc)
    params = {"limit": "1"}

    def get(token):
        return client.get(f"/xapi/statements?more={token}", headers=headers)

    assert get(encode_more(params, 10**9, store.cursor_key, now - timedelta(hours=23))
               ).status_code == 200
    assert get(encode_more(params, 10**9, store.cursor_key, now - timedelta(hours=25))
               ).status_code == 400
    assert get(encode_more(params, 10**9, b"another key", now)).status_code == 400
    token = encode_more(params, 10**9, store.cursor_key, now)
    mac = token.split(".")[1]
    assert get(encode_more({"limit": "2"}, 10**9, store.cursor_key, now).split(".")[0]
               + "." + mac).status_code == 400


def test_time_windows_page_through_batches_sharing_a_stored_time(client, headers):
    """Each batch is stored at one instant; `since` ascending and `until` descending, read
    from their bound, return exactly the window in order, across pages."""
    batches = [post(client, headers, [statement() for _ in range(5)]).get_json()
               for _ in range(3)]
    stored = [client.get(f"/xapi/statements?statementId={batch[0]}",
                         headers=headers).get_json()["stored"] for batch in batches]
    assert stored == sorted(set(stored))
    since, _ = _page_through(client, headers, "/xapi/statements?limit=2&ascending=true&since="
                             + quote(stored[0]))
    assert since == batches[1] + batches[2]
    until, _ = _page_through(client, headers, "/xapi/statements?limit=2&until="
                             + quote(stored[1]))
    assert until == list(reversed(batches[0] + batches[1]))


def test_consistent_through_follows_the_clock_not_the_last_write(client, headers):
    """With no write in flight, Consistent-Through is the time of the read (a millisecond
    before it), not the last `stored`: a client waiting for the LRS to catch up never waits."""
    ident = post(client, headers, statement()).get_json()[0]
    stored = client.get(f"/xapi/statements?statementId={ident}", headers=headers).get_json()["stored"]
    time.sleep(0.05)
    before = datetime.now(timezone.utc)
    through = client.get("/xapi/statements?limit=1", headers=headers).headers[
        "X-Experience-API-Consistent-Through"]
    assert through > stored
    floor = before.replace(microsecond=before.microsecond // 1000 * 1000)
    assert parse_timestamp(through, "through") >= floor - timedelta(milliseconds=1)
