"""Benchmark of the nightly reconciliation (ledger = intervals = statements) on a fresh SQLite
or PostgreSQL database.

It builds the schema with the migrations, bulk-loads N closed presence intervals for M
enrolments, one credit entry per interval and three minimal statements per interval (check-in,
check-out, credit: only the columns and JSON the reconciliation reads), then prints:
  * the load time (executemany on SQLite, COPY on PostgreSQL);
  * the time of `reconcile()` over everything (set-based SQL);
  * the time of a naive reconciliation (one interval at a time from Python: its credit, then
    its three statements) on a sample of --naive-sample intervals, and that time scaled to N.

Parent rows (enrolments, trainees, classes) are not loaded: foreign keys are switched off for
the load (SQLite `PRAGMA foreign_keys`, PostgreSQL `session_replication_role`) and the
reconciliation never reads them; the class sessions it does read are loaded.

    .venv/bin/python scripts/bench_hours.py --db sqlite --intervals 1000000 --enrolments 50000
    .venv/bin/python scripts/bench_hours.py --db postgresql --intervals 1000000 --enrolments 50000

The PostgreSQL run creates and drops its own database on --pg-url's server. Nothing in `app/`
imports this module.
"""
from __future__ import annotations

import io
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ClassSession, HoursEntry, PresenceInterval  # noqa: E402
from app.services.reconciliation import reconcile  # noqa: E402
from app.services.xapi_records import EXT, VERBS  # noqa: E402
from lrs.storage.tables import Statement  # noqa: E402

SESSIONS = 2000
DAY0 = datetime(2025, 3, 3, 0, 30, tzinfo=timezone.utc)  # 08:30 Beijing


def _rows(intervals: int, enrolments: int, seed: int):
    """Sessions, intervals, ledger entries and statements as plain tuples (UUIDs, aware datetimes)."""
    rng = random.Random(seed)
    sessions = []
    for i in range(SESSIONS):
        start = DAY0 + timedelta(days=i // 4, hours=2 * (i % 4))
        sessions.append((uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128)),
                         start, start + timedelta(minutes=100)))
    enrolment_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(enrolments)]
    intervals_rows, ledger, statements = [], [], []
    for _ in range(intervals):
        sid, _cid, starts, _ends = sessions[rng.randrange(SESSIONS)]
        enrolment = enrolment_ids[rng.randrange(enrolments)]
        opened = starts + timedelta(minutes=rng.randrange(0, 20))
        closed = opened + timedelta(minutes=rng.randrange(10, 80))
        minutes = int((closed - opened).total_seconds()) // 60
        iid, eid = uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))
        s_in, s_out, s_credit = (uuid.UUID(int=rng.getrandbits(128)) for _ in range(3))
        intervals_rows.append((iid, enrolment, enrolment, sid, opened, closed, s_in, s_out))
        ledger.append((eid, closed, enrolment, minutes, closed.date(), iid, s_credit))
        statements.append((s_in, opened, VERBS["checked-in"][0], enrolment, {"id": str(s_in)}))
        statements.append((s_out, closed, VERBS["checked-out"][0], enrolment, {"id": str(s_out)}))
        statements.append((s_credit, closed, VERBS["credited"][0], enrolment,
                           {"id": str(s_credit), "context": {"extensions": {EXT["minutes"]: minutes}}}))
    return sessions, intervals_rows, ledger, statements


def _session_dicts(sessions):
    return [{"id": sid, "class_id": cid, "starts_at": s, "ends_at": e, "kind": "theory", "place": "",
             "online": False} for sid, cid, s, e in sessions]


def _load_sqlite(engine, data) -> None:
    sessions, intervals, ledger, statements = data
    iv, hl, st = PresenceInterval.__table__, HoursEntry.__table__, Statement.__table__
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        conn.commit()
        with conn.begin():
            conn.execute(ClassSession.__table__.insert(), _session_dicts(sessions))
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            raw = conn.connection.driver_connection
            raw.executemany(
                f"INSERT INTO {iv.name} (id, enrolment_id, trainee_id, session_id, mode, status, opened_at, "
                "last_verified_at, closed_at, check_in_statement_id, check_out_statement_id) "
                "VALUES (?, ?, ?, ?, 'kiosk', 'closed', ?, ?, ?, ?, ?)",
                ((i.hex, e.hex, t.hex, s.hex, o.strftime(fmt), c.strftime(fmt), c.strftime(fmt), a.hex, b.hex)
                 for i, e, t, s, o, c, a, b in intervals))
            raw.executemany(
                f"INSERT INTO {hl.name} (id, at, enrolment_id, entry_type, minutes, kind, mode, local_day, "
                "interval_id, rule, reason, statement_id) VALUES (?, ?, ?, 'credit', ?, 'theory', 'kiosk', ?, ?, "
                "'{}', '', ?)",
                ((i.hex, at.strftime(fmt), e.hex, m, d.isoformat(), iv_.hex, s.hex)
                 for i, at, e, m, d, iv_, s in ledger))
            raw.executemany(
                f"INSERT INTO {st.name} (id, stored, timestamp, verb_iri, registration, is_voided, payload) "
                "VALUES (?, ?, ?, ?, ?, 0, ?)",
                ((i.hex, at.strftime(fmt), at.strftime(fmt), verb, reg.hex, json.dumps(payload))
                 for i, at, verb, reg, payload in statements))


def _copy(cursor, table: str, columns: str, rows) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buf = io.StringIO()
        for n, row in enumerate(rows, 1):
            buf.write("\t".join(row))
            buf.write("\n")
            if n % 50000 == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


def _load_postgresql(engine, data) -> None:
    sessions, intervals, ledger, statements = data
    with engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.execute(ClassSession.__table__.insert(), _session_dicts(sessions))
            cur = conn.connection.driver_connection.cursor()
            _copy(cur, "presence_intervals",
                  "id, enrolment_id, trainee_id, session_id, mode, status, opened_at, last_verified_at, "
                  "closed_at, check_in_statement_id, check_out_statement_id",
                  ((str(i), str(e), str(t), str(s), "kiosk", "closed", o.isoformat(), c.isoformat(),
                    c.isoformat(), str(a), str(b)) for i, e, t, s, o, c, a, b in intervals))
            _copy(cur, "hours_ledger",
                  "id, at, enrolment_id, entry_type, minutes, kind, mode, local_day, interval_id, rule, "
                  "reason, statement_id",
                  ((str(i), at.isoformat(), str(e), "credit", str(m), "theory", "kiosk", d.isoformat(),
                    str(iv), "{}", "", str(s)) for i, at, e, m, d, iv, s in ledger))
            _copy(cur, "lrs_statements", "id, stored, timestamp, verb_iri, registration, is_voided, payload",
                  ((str(i), at.isoformat(), at.isoformat(), verb, str(reg), "f", json.dumps(payload))
                   for i, at, verb, reg, payload in statements))
        conn.exec_driver_sql("COMMIT")  # autobegin of the driver-level ANALYZE below
        conn.exec_driver_sql("ANALYZE")


def _naive(sample: list) -> int:
    """One interval at a time: its credit entry, then each of its statements."""
    differences = 0
    session = db.session
    for interval_id in sample:
        interval = session.get(PresenceInterval, interval_id)
        entry = session.scalar(select(HoursEntry).where(HoursEntry.interval_id == interval_id))
        if entry is None:
            differences += 1
            continue
        for sid in (interval.check_in_statement_id, interval.check_out_statement_id, entry.statement_id):
            stmt = session.scalar(select(Statement).where(Statement.id == sid))
            if stmt is None or stmt.registration != interval.enrolment_id:
                differences += 1
        credit_statement = session.scalar(select(Statement.payload).where(Statement.id == entry.statement_id))
        if credit_statement["context"]["extensions"][EXT["minutes"]] != entry.minutes:
            differences += 1
        session.expunge_all()
    return differences


@click.command()
@click.option("--db", "backend", type=click.Choice(["sqlite", "postgresql"]), default="sqlite",
              help="Which database to run on.")
@click.option("--intervals", default=1_000_000, show_default=True, help="Closed intervals to load.")
@click.option("--enrolments", default=50_000, show_default=True, help="Enrolments they belong to.")
@click.option("--naive-sample", default=10_000, show_default=True,
              help="Intervals the naive per-row reconciliation walks (its time is scaled to all).")
@click.option("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres", show_default=True,
              help="A PostgreSQL server to create the throw-away database on.")
@click.option("--seed", default=1, show_default=True)
def main(backend: str, intervals: int, enrolments: int, naive_sample: int, pg_url: str, seed: int) -> None:
    """Load intervals, ledger and statements in bulk, then time reconcile() against a naive loop."""
    from flask_migrate import upgrade

    tmp = tempfile.TemporaryDirectory()
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp.name}/bench.db"
    else:
        server = make_url(pg_url).set(drivername="postgresql+psycopg")
        name = f"skilltrace_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
    try:
        app = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": f"{tmp.name}/instance",
                          "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            clock = time.perf_counter()
            data = _rows(intervals, enrolments, seed)
            click.echo(f"{backend}: generated {intervals} intervals / {enrolments} enrolments "
                       f"in {time.perf_counter() - clock:.1f} s")
            clock = time.perf_counter()
            (_load_sqlite if backend == "sqlite" else _load_postgresql)(db.engine, data)
            click.echo(f"loaded {intervals} intervals, {intervals} credits, {3 * intervals} statements "
                       f"in {time.perf_counter() - clock:.1f} s")
            sample = [row[0] for row in random.Random(seed).sample(data[1], min(naive_sample, intervals))]
            del data
            clock = time.perf_counter()
            report = reconcile()
            took = time.perf_counter() - clock
            click.echo(f"reconcile(): {took:.2f} s for {report.checked['closed_intervals']} intervals "
                       f"(checks {report.seconds:.2f} s), {len(report.differences)} differences")
            db.session.remove()
            clock = time.perf_counter()
            naive_differences = _naive(sample)
            naive = time.perf_counter() - clock
            click.echo(f"naive per-row: {naive:.2f} s for a sample of {len(sample)} intervals "
                       f"({naive_differences} differences) -> ~{naive * intervals / len(sample):.0f} s "
                       f"scaled to {intervals}; set-based is ~{naive * intervals / len(sample) / took:.0f}x faster")
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        tmp.cleanup()


if __name__ == "__main__":
    main()
