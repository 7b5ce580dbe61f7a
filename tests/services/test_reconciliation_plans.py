"""A whole reconciliation on SQLite walks the covering indexes built for it (checked with
SQLite's own EXPLAIN QUERY PLAN: tables this small would not show the difference in timings),
and the migration builds those indexes exactly as the models declare them (an expression index
is only used when the query writes the expression the same way)."""
import re

import pytest
from sqlalchemy import event, text
from sqlalchemy.schema import CreateIndex

from app.extensions import db
from app.models import Enrolment
from app.models.reconciliation_indexes import INDEXES
from app.services.reconciliation import Scope, find_differences
from tests.services.test_reconciliation import day  # noqa: F401  (fixture)


def _plans(run) -> str:
    """EXPLAIN QUERY PLAN of every statement ``run()`` sends, from any connection."""
    sent = []

    def capture(_conn, _cursor, sql, params, _context, _many):
        sent.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    lines = []
    with db.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for sql, params in sent:
            if sql.lstrip().upper().startswith("SELECT"):
                lines += [row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql, params)]
    return "\n".join(lines)


def _sqlite_only():
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the walk indexes are SQLite's (PostgreSQL hash-joins)")


def test_a_whole_run_walks_every_join_through_its_index(app, day):  # noqa: F811
    _sqlite_only()
    plan = _plans(lambda: find_differences(db.session))
    for index in ("ix_presence_intervals_id_walk", "ix_hours_ledger_interval_walk",
                  "ix_presence_intervals_check_in_walk", "ix_presence_intervals_check_out_walk",
                  "ix_hours_ledger_statement_walk", "ix_face_verifications_statement_walk",
                  "ix_presence_intervals_check_out_verification_walk", "ix_face_verifications_id_walk"):
        assert f"SCAN {index}" in plan or f"COVERING INDEX {index}" in plan, (index, plan)
    assert "SEARCH lrs_statements USING INDEX ix_lrs_statements_id_walk (id=?)" in plan, plan
    assert plan.count("SEARCH audit_entries USING INDEX ix_audit_entries_object_hex (<expr>=?)") == 3, plan
    assert "SCAN audit_entries" not in plan and "SCAN lrs_statements" not in plan, plan


def test_a_run_for_one_trainee_drives_from_the_trainee_s_own_indexes(app, day):  # noqa: F811
    _sqlite_only()
    enrolment = db.session.get(Enrolment, day["credit"].enrolment_id)
    plan = _plans(lambda: find_differences(db.session, Scope(enrolment.trainee_id, (enrolment.id,))))
    assert "SCAN presence_intervals" not in plan and "SCAN hours_ledger" not in plan, plan
    assert "SCAN audit_entries" not in plan and "SCAN lrs_statements" not in plan, plan


def _normalised(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def test_the_migration_builds_the_indexes_the_models_declare(app):
    with db.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            names = {row[0] for row in conn.execute(text("SELECT indexname FROM pg_indexes"))}
            assert not names & {index.name for index in INDEXES}
            return
        built = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())
        for index in INDEXES:
            declared = str(CreateIndex(index).compile(dialect=conn.dialect))
            assert _normalised(built[index.name]) == _normalised(declared)
