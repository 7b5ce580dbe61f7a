"""Round trips with TinCanPython (`tincan`, ADL's client) against the LRS served over real
HTTP on a loopback port: statements, queries with `more`, state and profiles.

`RemoteLRS.about()` is not exercised: tincan 1.0.0 refuses an About listing "2.0.0", which
this LRS rightly advertises."""

from __future__ import annotations

import uuid

import pytest

tincan = pytest.importorskip("tincan")


@pytest.fixture
def remote(live_lrs, credential):
    """A tincan RemoteLRS pointed at the app served on a loopback port."""
    return tincan.RemoteLRS(endpoint=f"{live_lrs}/xapi/", version="1.0.3",
                            username=credential["key"], password=credential["secret"])


def _statement(verb="http://adlnet.gov/expapi/verbs/attended") -> "tincan.Statement":
    return tincan.Statement(
        actor=tincan.Agent(name="Li Lei", mbox="mailto:lilei@example.com"),
        verb=tincan.Verb(id=verb, display=tincan.LanguageMap({"en-US": "attended"})),
        object=tincan.Activity(id="http://example.com/activities/welding-101",
                               definition=tincan.ActivityDefinition(
                                   name=tincan.LanguageMap({"zh-CN": "焊接入门"}))),
        context=tincan.Context(registration=uuid.uuid4()))


def test_tincan_save_and_retrieve_statement(remote):
    saved = remote.save_statement(_statement())
    assert saved.success, saved.data
    ident = saved.content.id
    fetched = remote.retrieve_statement(ident)
    assert fetched.success, fetched.data
    assert str(fetched.content.id) == str(ident)
    assert fetched.content.object.definition.name["zh-CN"] == "焊接入门"
    assert fetched.content.authority is not None


def test_tincan_batch_query_and_more(remote):
    verb = f"http://example.com/verbs/{uuid.uuid4()}"
    saved = remote.save_statements([_statement(verb) for _ in range(3)])
    assert saved.success, saved.data
    page = remote.query_statements({"verb": tincan.Verb(id=verb), "limit": 2})
    assert page.success, page.data
    assert len(page.content.statements) == 2 and page.content.more
    rest = remote.more_statements(page.content)
    assert rest.success, rest.data
    assert len(rest.content.statements) == 1


def test_tincan_state_round_trip(remote):
    document = tincan.StateDocument(
        id="progress", content=bytearray(b'{"page": 3}'), content_type="application/json",
        activity=tincan.Activity(id="http://example.com/activities/welding-101"),
        agent=tincan.Agent(mbox="mailto:lilei@example.com"))
    saved = remote.save_state(document)
    assert saved.success, saved.data
    fetched = remote.retrieve_state(
        activity=document.activity, agent=document.agent, state_id="progress")
    assert fetched.success, fetched.data
    assert bytes(fetched.content.content) == b'{"page": 3}'
    # tincan 1.0.0 looks for "etag" in a list of header tuples and never finds it.
    assert fetched.response.getheader("ETag").startswith('"')
    assert remote.delete_state(document).success


def test_tincan_activity_profile_round_trip(remote, client, headers):
    # tincan cannot send If-None-Match, and a profile PUT needs a precondition header, so
    # the document is created over plain HTTP and then updated and read through tincan.
    url = ("/xapi/activities/profile?activityId=http://example.com/activities/welding-101"
           "&profileId=settings")
    created = client.put(url, data=b'{"lang": "en"}', headers={
        **headers, "Content-Type": "application/json", "If-None-Match": "*"})
    assert created.status_code == 204
    document = tincan.ActivityProfileDocument(
        id="settings", content=bytearray(b'{"lang": "zh-CN"}'),
        content_type="application/json", etag=created.headers["ETag"],
        activity=tincan.Activity(id="http://example.com/activities/welding-101"))
    saved = remote.save_activity_profile(document)
    assert saved.success, saved.data
    fetched = remote.retrieve_activity_profile(document.activity, "settings")
    assert fetched.success and bytes(fetched.content.content) == b'{"lang": "zh-CN"}'
