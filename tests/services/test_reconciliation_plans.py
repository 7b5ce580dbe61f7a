"""A whole reconciliation walks the covering indexes built for it (checked with each database's
own EXPLAIN: tables this small would not show the difference in timings), and the migrations
build those indexes exactly as the models declare them (an expression index is only used when
the query writes the expression the same way)."""
import re

import pytest
from sqlalchemy import event, text
from sqlalchemy.schema import CreateIndex

from app.extensions import db
from app.models import Enrolment
from app.models.reconciliation_indexes import INDEXES, PAYLOAD_WALKS, payload_walk_index
from app.services.reconciliation import Scope, _check_audit_payloads, find_differences
from tests.services.test_reconciliation import day  # noqa: F401  (fixture)


def _sent(run) -> dict:
    """Every statement ``run()`` sends, in order, by connection: {connection: [(sql, params)]}."""
    sent: dict = {}

    def capture(conn, _cursor, sql, params, _context, _many):
        sent.setdefault(id(conn.connection.driver_connection), []).append((sql, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return sent


def _plans(run, counting: bool = True) -> str:
    """The plan of every SELECT ``run()`` sends, from any connection: SQLite's EXPLAIN QUERY PLAN;
    on PostgreSQL each connection's statements are replayed in one transaction (its SET LOCALs
    run, its SELECTs explained). Without ``counting``, the counts of audit entries by action are
    left out (on tables this small PostgreSQL counts them by reading the table)."""
    lines = []
    with db.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for statements in _sent(run).values():
            for sql, params in statements:
                if not counting and "count(*)" in sql and "audit_entries.action IN" in sql:
                    continue
                if conn.dialect.name == "sqlite" and sql.lstrip().upper().startswith("SELECT"):
                    lines += [row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + sql, params)]
                elif sql.lstrip().upper().startswith("SELECT"):
                    lines += [row[0] for row in cursor.execute("EXPLAIN " + sql, params).fetchall()]
                elif sql.lstrip().upper().startswith("SET LOCAL"):
                    cursor.execute(sql)
            conn.connection.driver_connection.rollback()
    return "\n".join(lines)


def _on(dialect):
    if db.engine.dialect.name != dialect:
        pytest.skip(f"the plan checked is {dialect}'s")


def test_a_whole_run_on_postgresql_merges_index_only_scans(app, day):  # noqa: F811
    _on("postgresql")
    # as autovacuum leaves them: statistics, and pages marked all-visible for index-only scans
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE presence_intervals, hours_ledger, face_verifications, "
                             "lrs_statements, audit_entries")
    plan = _plans(lambda: find_differences(db.session), counting=False)
    for index in ("ix_presence_intervals_id_walk", "ix_hours_ledger_interval_walk",
                  "ix_presence_intervals_check_in_walk", "ix_presence_intervals_check_out_walk",
                  "ix_hours_ledger_statement_walk", "ix_face_verifications_statement_walk",
                  "uq_lrs_statements_id", "ix_presence_intervals_check_in_verification_walk", "ix_presence_intervals_check_out_verification_walk",
                  "ix_face_verifications_id_walk", "ix_audit_entries_object_uuid", "ix_hours_ledger_id_walk",
                  *(payload_walk_index(kind, "postgresql") for kind in PAYLOAD_WALKS)):
        assert f"Index Only Scan using {index} on" in plan, (index, plan)
    assert "Merge Append" in plan and "Merge Left Join" in plan and "Merge Anti Join" in plan, plan
    assert "Seq Scan on audit_entries" not in plan, plan


def test_a_whole_run_on_sqlite_walks_every_join_through_its_index(app, day):  # noqa: F811
    _on("sqlite")
    plan = _plans(lambda: find_differences(db.session))
    for index in ("ix_presence_intervals_id_walk", "ix_hours_ledger_interval_walk",
                  "ix_presence_intervals_check_in_walk", "ix_presence_intervals_check_out_walk",
                  "ix_hours_ledger_statement_walk", "ix_face_verifications_statement_walk",
                  "ix_presence_intervals_check_out_verification_walk", "ix_face_verifications_id_walk",
                  "ix_presence_intervals_check_in_verification_walk"):
        assert f"SCAN {index}" in plan or f"COVERING INDEX {index}" in plan, (index, plan)
    assert plan.count("SEARCH lrs_statements USING COVERING INDEX ix_lrs_statements_id_walk (id=?)") == 4, plan
    assert "SEARCH lrs_statements USING INDEX ix_lrs_statements_id_walk (id=? AND registration=?)" in plan, plan
    assert plan.count("SEARCH audit_entries USING INDEX ix_audit_entries_object_hex (<expr>=?)") == 3, plan
    walks = [f"SCAN audit_entries USING INDEX {payload_walk_index(kind, 'sqlite')}" for kind in PAYLOAD_WALKS]
    assert all(walk in plan for walk in walks), plan
    assert "SEARCH hours_ledger USING COVERING INDEX ix_hours_ledger_id_walk (id=?)" in plan, plan
    assert "SEARCH face_verifications USING COVERING INDEX ix_face_verifications_id_walk (id=?)" in plan, plan
    for walk in walks:
        plan = plan.replace(walk, "")
    assert "SCAN audit_entries" not in plan and "SCAN lrs_statements" not in plan, plan


def test_the_audit_payload_check_on_sqlite_reads_no_audit_row(app, day):  # noqa: F811
    """The payload walks are expression indexes, which EXPLAIN QUERY PLAN does not call covering:
    the program itself shows that no column is read from an audit entry's row (the seek to the
    row is deferred until a column is needed, and none is: the index holds every value)."""
    _on("sqlite")
    sent = [(sql, params) for statements in _sent(lambda: _check_audit_payloads(db.session, Scope())).values()
            for sql, params in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(sent) == 3
    with db.engine.connect() as conn:
        table_page = conn.scalar(text("SELECT rootpage FROM sqlite_master WHERE type = 'table' "
                                      "AND name = 'audit_entries'"))
        for sql, params in sent:
            program = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
            cursors = {row[2] for row in program if row[1] == "OpenRead" and row[3] == table_page}
            assert len(cursors) == 1, program
            assert not [row for row in program if row[1] == "Column" and row[2] in cursors], sql


def test_a_run_for_one_trainee_drives_from_the_trainee_s_own_indexes(app, day):  # noqa: F811
    _on("sqlite")
    enrolment = db.session.get(Enrolment, day["credit"].enrolment_id)
    plan = _plans(lambda: find_differences(db.session, Scope(enrolment.trainee_id, (enrolment.id,))))
    assert "SCAN presence_intervals" not in plan and "SCAN hours_ledger" not in plan, plan
    assert "SCAN audit_entries" not in plan and "SCAN lrs_statements" not in plan, plan


def _normalised(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def _for(index, dialect: str) -> bool:
    ddl_if = getattr(index, "_ddl_if", None)
    return ddl_if is None or ddl_if.dialect == dialect


def test_the_migrations_build_the_indexes_the_models_declare(app):
    """Each database has exactly the walk indexes meant for it, built as declared: SQLite's SQL
    compared as written; PostgreSQL's as it normalises them (the declared one is built beside
    the migrated one under another name, then both definitions are read back)."""
    with db.engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            built = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())
        else:
            built = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes")).all())
        assert {index.name for index in INDEXES} & set(built) == {i.name for i in INDEXES if _for(i, dialect)}
        for index in (i for i in INDEXES if _for(i, dialect)):
            declared = str(CreateIndex(index).compile(dialect=conn.dialect))
            if dialect == "postgresql":
                conn.execute(text(declared.replace(index.name, "declared_" + index.name, 1)))
                declared = conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                                       {"name": "declared_" + index.name}).replace("declared_", "", 1)
            assert _normalised(built[index.name]) == _normalised(declared)
        conn.rollback()
