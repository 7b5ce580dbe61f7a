"""POST /xapi/statements: ids returned, LRS-set properties, all-or-nothing batches,
duplicate ids, and rejection of malformed statements with 400."""

from __future__ import annotations

import json

import pytest

from tests.lrs.factories import new_id, post, statement


def _get(client, headers, ident):
    return client.get(f"/xapi/statements?statementId={ident}", headers=headers)


def test_post_single_returns_array_of_ids(client, headers):
    response = post(client, headers, statement())
    assert response.status_code == 200
    ids = response.get_json()
    assert isinstance(ids, list) and len(ids) == 1
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_post_batch_keeps_given_ids_in_order(client, headers):
    wanted = [new_id(), new_id(), new_id()]
    response = post(client, headers, [statement(id=i) for i in wanted])
    assert response.status_code == 200
    assert response.get_json() == wanted


def test_post_sets_stored_authority_version_timestamp(client, headers, credential):
    ident = post(client, headers, statement()).get_json()[0]
    stored = _get(client, headers, ident).get_json()
    assert stored["stored"].endswith("Z")
    assert stored["timestamp"] == stored["stored"]
    assert stored["version"] == "1.0.0"
    assert stored["authority"]["account"]["name"] == credential["key"]


def test_post_overrides_submitted_authority(client, headers, credential):
    fake = {"objectType": "Agent", "mbox": "mailto:boss@example.com"}
    ident = post(client, headers, statement(authority=fake)).get_json()[0]
    assert _get(client, headers, ident).get_json()["authority"]["account"]["name"] == \
        credential["key"]


def test_post_rejected_batch_stores_nothing(client, headers):
    good = statement(id=new_id())
    bad = statement(id=new_id(), verb={"id": "not an iri"})
    response = post(client, headers, [good, bad])
    assert response.status_code == 400
    assert "verb.id" in response.get_json()["detail"]
    assert _get(client, headers, good["id"]).status_code == 404


def test_post_same_id_same_content_is_accepted(client, headers):
    body = statement(id=new_id())
    assert post(client, headers, body).status_code == 200
    assert post(client, headers, body).status_code == 200


def test_post_same_id_other_content_conflicts(client, headers):
    ident = new_id()
    assert post(client, headers, statement(id=ident)).status_code == 200
    other = statement(id=ident, verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    assert post(client, headers, other).status_code == 409


def test_post_batch_with_repeated_id_is_rejected(client, headers):
    ident = new_id()
    assert post(client, headers, [statement(id=ident), statement(id=ident)]).status_code == 400


@pytest.mark.parametrize("mutate, field", [
    (lambda s: s.update(extra=1), "extra"),
    (lambda s: s["actor"].update(mbox="lilei@example.com"), "actor.mbox"),
    (lambda s: s["actor"].update(openid="http://openid.example.com/x"), "actor"),
    (lambda s: s.update(actor={"objectType": "Group"}), "actor.member"),
    (lambda s: s["verb"].update(display={"not a tag!": "x"}), "verb.display"),
    (lambda s: s.update(id="not-a-uuid"), "id"),
    (lambda s: s.update(timestamp="2024-01-01T00:00:00-00:00"), "timestamp"),
    (lambda s: s.update(result={"score": {"scaled": 1.5}}), "result.score.scaled"),
    (lambda s: s.update(result={"score": {"raw": 5, "min": 6}}), "result.score.raw"),
    (lambda s: s.update(result={"duration": "1 hour"}), "result.duration"),
    (lambda s: s.update(context={"registration": "nope"}), "context.registration"),
    (lambda s: s.update(object={"objectType": "StatementRef", "id": "x"}), "object.id"),
    (lambda s: s.update(object={"objectType": "Agent", "mbox": "mailto:a@b.c"},
                        context={"platform": "web"}), "context.platform"),
    (lambda s: s.update(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}), "object"),
    (lambda s: s.update(version="0.9"), "version"),
    (lambda s: s["actor"].update(name=None), "actor.name"),
    (lambda s: s["object"]["definition"].update(choices=[{"id": "a"}]),
     "object.definition.interactionType"),
    (lambda s: s["object"].update(objectType="activity"), "object.objectType"),
])
def test_post_invalid_statement_is_400_naming_field(client, headers, mutate, field):
    body = statement()
    mutate(body)
    response = post(client, headers, body)
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["status"] == 400 and field in problem["detail"]
    assert response.mimetype == "application/problem+json"


def test_post_substatement_must_not_nest(client, headers):
    inner = {"objectType": "SubStatement", "actor": statement()["actor"],
             "verb": statement()["verb"], "object": statement()["object"]}
    outer = dict(inner, object=dict(inner))
    assert post(client, headers, statement(object=outer)).status_code == 400
    assert post(client, headers, statement(object=inner)).status_code == 200


def test_post_malformed_json_is_400(client, headers):
    response = client.post("/xapi/statements", data="{not json",
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_post_wrong_content_type_is_400(client, headers):
    response = client.post("/xapi/statements", data=json.dumps(statement()),
                           headers={**headers, "Content-Type": "text/plain"})
    assert response.status_code == 400


def test_post_2_0_normalises_timestamp_to_utc(client, headers_v2):
    ident = post(client, headers_v2,
                 statement(timestamp="2024-03-01T08:00:00.123+08:00")).get_json()[0]
    stored = _get(client, headers_v2, ident).get_json()
    assert stored["timestamp"] == "2024-03-01T00:00:00.123Z"
    assert stored["version"] == "2.0.0"


def test_post_2_0_requires_timestamp_offset(client, headers_v2, headers):
    body = statement(timestamp="2024-03-01T08:00:00")
    assert post(client, headers_v2, body).status_code == 400
    assert post(client, headers, body).status_code == 200


def test_post_2_0_accepts_context_agents(client, headers_v2, headers):
    context = {"contextAgents": [{"objectType": "contextAgent",
                                  "agent": {"mbox": "mailto:t@example.com"},
                                  "relevantTypes": ["http://example.com/types/instructor"]}]}
    assert post(client, headers_v2, statement(context=context)).status_code == 200
    assert post(client, headers, statement(context=context)).status_code == 400


def test_voiding_a_voiding_statement_is_rejected(client, headers):
    target = post(client, headers, statement()).get_json()[0]
    voided = {"id": "http://adlnet.gov/expapi/verbs/voided"}
    voider = post(client, headers, statement(verb=voided, object={
        "objectType": "StatementRef", "id": target})).get_json()[0]
    response = post(client, headers, statement(verb=voided, object={
        "objectType": "StatementRef", "id": voider}))
    assert response.status_code == 400


@pytest.mark.parametrize("stamp", ["2024-03-01T08:00:00+99:00", "2024-03-01T08:00:00+08:99",
                                   "2024-03-01T08:00:00-24:00", "2024-03-01T08:00:00+0860"])
def test_offsets_out_of_range_are_400(client, headers, headers_v2, stamp):
    for version in (headers, headers_v2):
        assert post(client, version, statement(timestamp=stamp)).status_code == 400
    response = client.get("/xapi/statements", query_string={"since": stamp}, headers=headers)
    assert response.status_code == 400


def test_lower_case_t_and_z_are_accepted(client, headers, headers_v2):
    ident = post(client, headers_v2,
                 statement(timestamp="2024-03-01t08:00:00.5+08:00")).get_json()[0]
    assert _get(client, headers_v2, ident).get_json()["timestamp"] == "2024-03-01T00:00:00.500Z"
    for version in (headers, headers_v2):
        assert post(client, version, statement(timestamp="2024-03-01t00:00:00z")
                    ).status_code == 200
    response = client.get("/xapi/statements", query_string={"since": "2024-03-01t00:00:00z"},
                          headers=headers)
    assert response.status_code == 200
