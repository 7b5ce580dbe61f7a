"""The statement queries use the indexes built for them (checked with the database's own
EXPLAIN: tables this small would not show a scan in timings), and agent+verb answers from
the agent links' verb copy."""

from __future__ import annotations

import json
import random
import uuid
from urllib.parse import quote

from sqlalchemy import event, text

from app.extensions import db
from lrs import queries
from lrs.models.agents import agent_ifi
from lrs.storage.base import StatementQuery
from scripts import lrs_store
from tests.lrs.factories import post, statement

ANN = {"objectType": "Agent", "mbox": "mailto:ann@example.com"}
SAW = {"id": "http://example.com/verbs/saw", "display": {"en-US": "saw"}}


def _plan(session, run) -> str:
    """The plan of the last SQL statement that `run(session)` executes."""
    captured = []
    connection = session.connection()

    def capture(conn, cursor, sql, params, context, many):
        captured.append((sql, params))

    event.listen(connection.engine, "before_cursor_execute", capture)
    try:
        run(session)
    finally:
        event.remove(connection.engine, "before_cursor_execute", capture)
    sql, params = captured[-1]
    cursor = connection.connection.driver_connection.cursor()
    if connection.dialect.name == "sqlite":
        return "\n".join(row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql, params))
    cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: ask what it would use
    cursor.execute("EXPLAIN " + sql, params)
    return "\n".join(row[0] for row in cursor.fetchall())


def test_agent_verb_query_reads_the_agent_verb_index(app, credential, store):
    with app.app_context():
        _a_realistic_store(app, credential)
        session = store.session()
        ifi, verb = session.execute(text("SELECT ifi, verb_iri FROM lrs_statement_agents "
                                         "WHERE direct ORDER BY statement_pk LIMIT 1")).one()
        query = StatementQuery(agent=ifi, verb=verb, limit=10)
        plan = _plan(session, lambda s: queries.find_statements(s, query))
        session.rollback()
    assert "ix_lrs_statement_agents_ifi_verb_pk" in plan, plan


def _a_realistic_store(app, credential) -> None:
    """3,000 statements of many agents and verbs, loaded as the LRS writes them, then (PostgreSQL)
    vacuumed and analysed: a plan over a few rows left by earlier tests depends on which tests ran
    before and on autovacuum, not on the indexes."""
    rng = random.Random(44)
    identity = lrs_store.identity(db.engine, credential["key"], app.config["LRS_AUTHORITY_HOMEPAGE"])
    lrs_store.load(db.engine, [lrs_store.draw(rng) for _ in range(3000)], 3000, *identity)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def test_known_ids_and_voiders_lookup_uses_indexes(app, client, headers, store):
    for _ in range(3):
        post(client, headers, statement())
    with app.app_context():
        session = store.session()
        session.execute(text("ANALYZE"))  # statistics: no statement voids another
        session.commit()
        plan = _plan(session, lambda s: queries.get_payloads_and_voiders(s, [uuid.uuid4()]))
        session.rollback()
    assert "uq_lrs_statements_id" in plan or "sqlite_autoindex_lrs_statements" in plan
    assert "ix_lrs_statements_voiding_target_set" in plan
    assert "SCAN lrs_statements\n" not in plan + "\n" and "Seq Scan" not in plan


def test_agent_verb_filter_uses_the_statement_verb(app, client, headers):
    wanted = post(client, headers, statement(actor=ANN, verb=SAW)).get_json()[0]
    post(client, headers, statement(actor=ANN))
    post(client, headers, statement(verb=SAW))
    response = client.get(f"/xapi/statements?agent={quote(json.dumps(ANN))}"
                          f"&verb={quote(SAW['id'])}", headers=headers)
    assert [s["id"] for s in response.get_json()["statements"]] == [wanted]
    with app.app_context():
        verbs = app.extensions["lrs_store"].session().execute(text(
            "SELECT DISTINCT verb_iri FROM lrs_statement_agents WHERE ifi = :ifi"),
            {"ifi": agent_ifi(ANN)}).scalars().all()
    assert sorted(verbs) == sorted([SAW["id"], statement()["verb"]["id"]])


def _time_window_plan(app, store, **window) -> str:
    from datetime import datetime, timezone
    with app.app_context():
        session = store.session()
        session.execute(text("ANALYZE"))
        session.commit()
        query = StatementQuery(limit=10, **{k: datetime(2020, 1, 1, tzinfo=timezone.utc)
                                            if v else None for k, v in window.items()},
                               ascending="since" in window)
        plan = _plan(session, lambda s: queries.find_statements(s, query))
        session.rollback()
    return plan


def test_since_ascending_and_until_alone_start_at_their_bound(app, client, headers, store):
    """A time window read from its far end walks the key from that end (a range on the
    primary key found through the stored index), never sorting or scanning the window."""
    # A store big enough for SQLite's statistics to matter (with 30 rows it would rather sort).
    for _ in range(10):
        post(client, headers, [statement(verb={"id": f"http://example.com/verbs/v{n % 10}"})
                               for n in range(100)])
    for window in ({"since": True}, {"until": True}):
        plan = _time_window_plan(app, store, **window)
        if "Index Cond" in plan:  # PostgreSQL
            bound = "(pk >= $" if "since" in window else "(pk <= $"
            assert "Seq Scan" not in plan and bound in plan, plan
            assert "ix_lrs_statements_stored" in plan, plan
        else:
            assert "TEMP B-TREE" not in plan, plan
            assert "INTEGER PRIMARY KEY (rowid" in plan and "ix_lrs_statements_stored" in plan, plan
