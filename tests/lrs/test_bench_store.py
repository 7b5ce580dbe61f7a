"""The LRS benchmark's bulk loader (scripts/lrs_store.py) writes what the LRS writes: the same
statements POSTed through the API, then loaded straight into an emptied store, give the same
rows (apart from `stored` and the keys) and read back the same through the API."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import text

from app.extensions import db
from scripts import lrs_store
from tests.lrs.factories import post

_TABLES = ("lrs_statement_agents", "lrs_statement_activities", "lrs_statements",
           "lrs_activities")


def _statements(count: int) -> list[dict[str, str]]:
    rng = random.Random(18)
    drawn = [lrs_store.draw(rng) for _ in range(count)]
    drawn[1]["activity"] = drawn[0]["activity"]  # one activity named twice
    return drawn


def _rows(engine) -> dict[str, list]:
    """Every row the statements left, keyed by statement id instead of the storage key, with
    `stored` (and the timestamp the LRS derived from it) left out; each statement's payload
    text with its own id and stored time masked."""
    queries = {
        "statements": "SELECT s.id, s.verb_iri, s.registration, s.is_voided, s.voiding_target, "
                      "s.ref_target, s.credential_id, s.timestamp = s.stored FROM lrs_statements s",
        "agents": "SELECT s.id, a.ifi, a.direct, a.verb_iri FROM lrs_statement_agents a "
                  "JOIN lrs_statements s ON s.pk = a.statement_pk",
        "activities": "SELECT s.id, a.iri, a.direct FROM lrs_statement_activities a "
                      "JOIN lrs_statements s ON s.pk = a.statement_pk",
        "definitions": "SELECT d.iri, CAST(d.definition AS TEXT), d.updated = (SELECT "
                       "min(s.stored) FROM lrs_statements s JOIN lrs_statement_activities l "
                       "ON l.statement_pk = s.pk WHERE l.iri = d.iri) FROM lrs_activities d",
    }
    with engine.connect() as conn:
        rows = {name: sorted(tuple(row) for row in conn.execute(text(sql)))
                for name, sql in queries.items()}
        rows["payloads"] = sorted(
            payload.replace(parsed["id"], "ID").replace(parsed["stored"], "STORED")
            for payload in conn.execute(text(
                "SELECT CAST(payload AS TEXT) FROM lrs_statements")).scalars()
            for parsed in [json.loads(payload)])
        keys = conn.execute(text("SELECT pk, stored FROM lrs_statements ORDER BY pk")).all()
    rows["statements"] = [tuple(str(v) for v in row) for row in rows["statements"]]
    # keys follow `stored`, kept to the millisecond it is rendered with (SQLite: text)
    assert [stored for _, stored in keys] == sorted(stored for _, stored in keys)
    assert all((datetime.fromisoformat(stored) if isinstance(stored, str) else stored)
               .microsecond % 1000 == 0 for _, stored in keys)
    return rows


def _read_back(client, headers, drawn: list[dict[str, str]]) -> dict:
    """Each statement as GET returns it (`stored` and timestamp checked equal, then masked),
    and the ids that two filtered pages list."""
    out = {}
    for fields in drawn:
        body = client.get(f"/xapi/statements?statementId={fields['id']}", headers=headers)
        assert body.status_code == 200
        statement = body.get_json()
        assert statement["timestamp"] == statement["stored"]
        out[fields["id"]] = (list(statement), {**statement, "stored": 0, "timestamp": 0})
    agent = json.dumps({"mbox": f"mailto:trainee{drawn[0]['agent']}@example.com"})
    activity = "https://skilltrace.example.org/xapi/courses/c" + drawn[2]["parent"]
    for query in (f"agent={quote(agent)}", f"activity={quote(activity)}&related_activities=true",
                  f"registration={drawn[3]['registration']}"):
        page = client.get(f"/xapi/statements?{query}", headers=headers).get_json()
        out[query] = sorted(s["id"] for s in page["statements"])
    return out


def test_loaded_statements_are_what_the_lrs_writes_for_them(app, client, headers, credential):
    drawn = _statements(6)
    response = post(client, headers, [lrs_store.statement_as_sent(f) for f in drawn[:3]])
    assert response.status_code == 200
    for fields in drawn[3:]:  # alone, each with its own stored time, like the loader's
        assert post(client, headers, lrs_store.statement_as_sent(fields)).status_code == 200
    authority = client.get(f"/xapi/statements?statementId={drawn[0]['id']}",
                           headers=headers).get_json()["authority"]
    posted_reads = _read_back(client, headers, drawn)
    with app.app_context():
        posted = _rows(db.engine)
        with db.engine.begin() as conn:
            for table in _TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        identity = lrs_store.identity(db.engine, credential["key"],
                                      app.config["LRS_AUTHORITY_HOMEPAGE"])
        assert identity[0] == authority
        lrs_store.load(db.engine, drawn, len(drawn), *identity, span=timedelta(seconds=6))
        loaded = _rows(db.engine)
    assert loaded == posted
    assert _read_back(client, headers, drawn) == posted_reads
    assert len(posted["definitions"]) == 5 and all(row[2] for row in posted["definitions"])
