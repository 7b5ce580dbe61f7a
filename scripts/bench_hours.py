"""Benchmark of the nightly reconciliation (ledger = intervals = statements) on a fresh SQLite
or PostgreSQL database.

It builds the schema with the migrations, bulk-loads N closed presence intervals for M
enrolments, one credit entry per interval, five minimal statements per interval (check-in,
check-out, credit and the two verifications: only the columns and JSON the reconciliation reads)
and an audit entry on each record (not hash-chained: the reconciliation only looks for one), then
prints:
  * the load time (executemany on SQLite, COPY then VACUUM ANALYZE on PostgreSQL; plain indexes
    built afterwards);
  * the time of `reconcile()` over everything (set-based SQL), and of each of its checks;
  * the time of a naive reconciliation (one interval at a time from Python: its credit, its
    verifications, then their statements) on a sample of --naive-sample intervals, and that time scaled to N;
  * check-ins per second through the real endpoint (gunicorn, real face frames), 1 client
    against 4 concurrent clients (`bench_checkins.py`), and the machine's load average.

Each interval also gets its check-in and check-out face verification, each with a statement and
an audit entry, as in real use (`--unverified` leaves them out: intervals naming none). Parent
rows (enrolments, trainees, classes) are not loaded: foreign keys are switched off for the load
(SQLite `PRAGMA foreign_keys`, PostgreSQL `session_replication_role`) and the reconciliation
never reads them; the class sessions it does read are loaded.

    .venv/bin/python scripts/bench_hours.py --db sqlite --intervals 1000000 --enrolments 50000
    .venv/bin/python scripts/bench_hours.py --db postgresql --intervals 1000000 --enrolments 50000

The PostgreSQL run creates and drops its own database on --pg-url's server. Nothing in `app/`
imports this module.
"""
from __future__ import annotations

import functools
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ClassSession, FaceVerification, HoursEntry, PresenceInterval  # noqa: E402
from app.services import reconciliation, reconciliation_plan  # noqa: E402
from app.services.reconciliation import reconcile  # noqa: E402
from app.services.xapi_records import EXT, VERBS  # noqa: E402
from lrs.storage.tables import Statement  # noqa: E402
from tests.factories import PASSWORD  # noqa: E402

import bench_checkins  # noqa: E402  (scripts/, beside this file)

SESSIONS = 2000
DAY0 = datetime(2025, 3, 3, 0, 30, tzinfo=timezone.utc)  # 08:30 Beijing


def _rows(intervals: int, enrolments: int, seed: int, verified: bool):
    """Sessions, intervals, ledger entries, verifications and statements as plain tuples (UUIDs,
    aware datetimes); with ``verified``, each interval has its check-in and check-out face
    verification, each with its statement, as in real use."""
    rng = random.Random(seed)
    sessions = []
    for i in range(SESSIONS):
        start = DAY0 + timedelta(days=i // 4, hours=2 * (i % 4))
        sessions.append((uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128)),
                         start, start + timedelta(minutes=100)))
    enrolment_ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(enrolments)]
    intervals_rows, ledger, statements, verifications = [], [], [], []
    for _ in range(intervals):
        sid, _cid, starts, _ends = sessions[rng.randrange(SESSIONS)]
        enrolment = enrolment_ids[rng.randrange(enrolments)]
        opened = starts + timedelta(minutes=rng.randrange(0, 20))
        closed = opened + timedelta(minutes=rng.randrange(10, 80))
        minutes = int((closed - opened).total_seconds()) // 60
        iid, eid = uuid.UUID(int=rng.getrandbits(128)), uuid.UUID(int=rng.getrandbits(128))
        s_in, s_out, s_credit = (uuid.UUID(int=rng.getrandbits(128)) for _ in range(3))
        v_in = v_out = None
        if verified:
            v_in, v_out, s_v_in, s_v_out = (uuid.UUID(int=rng.getrandbits(128)) for _ in range(4))
            for vid, at, purpose, statement_id in ((v_in, opened, "check_in", s_v_in),
                                                   (v_out, closed, "check_out", s_v_out)):
                verifications.append((vid, at, enrolment, sid, purpose, statement_id))
                statements.append((statement_id, at, VERBS["verified"][0], enrolment, {"id": str(statement_id)}))
        intervals_rows.append((iid, enrolment, enrolment, sid, opened, closed, s_in, s_out, v_in, v_out))
        ledger.append((eid, closed, enrolment, minutes, closed.date(), iid, s_credit))
        statements.append((s_in, opened, VERBS["checked-in"][0], enrolment, {"id": str(s_in)}))
        statements.append((s_out, closed, VERBS["checked-out"][0], enrolment, {"id": str(s_out)}))
        statements.append((s_credit, closed, VERBS["credited"][0], enrolment,
                           {"id": str(s_credit), "context": {"extensions": {EXT["minutes"]: minutes}}}))
    return sessions, intervals_rows, ledger, statements, verifications


@functools.lru_cache(maxsize=None)
def _sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's SQLite storage format (times repeat a lot: the cache saves most strftime calls)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


_LOADED = ("presence_intervals", "hours_ledger", "lrs_statements", "audit_entries", "face_verifications")


def _audit_rows(intervals, ledger, verifications, moment):
    """One audit entry on each interval, credit and verification: (seq, at, object_type,
    object_id, hash)."""
    records = [("presence_intervals", row[0], row[5]) for row in intervals]
    records += [("hours_ledger", row[0], row[1]) for row in ledger]
    records += [("face_verifications", row[0], row[1]) for row in verifications]
    return ((seq, moment(at), table, str(rid), f"{seq:064x}")
            for seq, (table, rid, at) in enumerate(records, 1))


@contextmanager
def _secondary_indexes_dropped(conn):
    """Drop the plain (non-unique) indexes of the loaded tables, re-create them after the load:
    building an index once from sorted data is much faster than filling it row by row."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
            f"({', '.join(repr(t) for t in _LOADED)})").all()
    else:
        rows = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE position('UNIQUE' in indexdef) = 0 AND tablename IN "
            f"({', '.join(repr(t) for t in _LOADED)})").all()
    for name, _sql in rows:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _name, sql in rows:
        conn.exec_driver_sql(sql)


def _session_dicts(sessions):
    return [{"id": sid, "class_id": cid, "starts_at": s, "ends_at": e, "kind": "theory", "place": "",
             "online": False} for sid, cid, s, e in sessions]


def _hex(value) -> str | None:
    return None if value is None else value.hex


def _load_sqlite(engine, data) -> None:
    sessions, intervals, ledger, statements, verifications = data
    iv, hl, st = PresenceInterval.__table__, HoursEntry.__table__, Statement.__table__
    with engine.connect() as conn:
        raw = conn.connection.driver_connection  # outside any transaction: pragmas take effect
        # a page cache that holds the indexes being filled (random UUID keys), and no fsync
        for pragma in ("foreign_keys = OFF", "cache_size = -2000000", "synchronous = OFF"):
            raw.execute(f"PRAGMA {pragma}")
        with conn.begin(), _secondary_indexes_dropped(conn):
            conn.execute(ClassSession.__table__.insert(), _session_dicts(sessions))
            fmt = _sqlite_time
            raw.executemany(
                f"INSERT INTO {iv.name} (id, enrolment_id, trainee_id, session_id, mode, status, opened_at, "
                "last_verified_at, closed_at, check_in_statement_id, check_out_statement_id, "
                "check_in_verification_id, check_out_verification_id) "
                "VALUES (?, ?, ?, ?, 'kiosk', 'closed', ?, ?, ?, ?, ?, ?, ?)",
                ((i.hex, e.hex, t.hex, s.hex, fmt(o), fmt(c), fmt(c), a.hex, b.hex, _hex(vi), _hex(vo))
                 for i, e, t, s, o, c, a, b, vi, vo in intervals))
            raw.executemany(
                "INSERT INTO face_verifications (id, at, trainee_id, enrolment_id, session_id, purpose, mode, "
                "decision, reason, liveness_reason, device, statement_id) "
                "VALUES (?, ?, ?, ?, ?, ?, 'kiosk', 'accepted', '', '', 'bench', ?)",
                ((v.hex, fmt(at), e.hex, e.hex, s.hex, purpose, st.hex)
                 for v, at, e, s, purpose, st in verifications))
            raw.executemany(
                f"INSERT INTO {hl.name} (id, at, enrolment_id, entry_type, minutes, kind, mode, local_day, "
                "interval_id, rule, reason, statement_id) VALUES (?, ?, ?, 'credit', ?, 'theory', 'kiosk', ?, ?, "
                "'{}', '', ?)",
                ((i.hex, fmt(at), e.hex, m, d.isoformat(), iv_.hex, s.hex)
                 for i, at, e, m, d, iv_, s in ledger))
            raw.executemany(
                f"INSERT INTO {st.name} (id, stored, timestamp, verb_iri, registration, is_voided, payload) "
                "VALUES (?, ?, ?, ?, ?, 0, ?)",
                ((i.hex, fmt(at), fmt(at), verb, reg.hex, json.dumps(payload))
                 for i, at, verb, reg, payload in statements))
            raw.executemany(
                "INSERT INTO audit_entries (seq, at, actor, action, object_type, object_id, payload, "
                "payload_digest, prev_hash, hash) VALUES (?, ?, 'system', 'bench', ?, ?, '{}', '', '', ?)",
                _audit_rows(intervals, ledger, verifications, fmt))
        # the load went through the write-ahead log: copy it into the database file, so that the
        # reconciliation reads a settled database as the nightly job does, not a log of gigabytes
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _pg(value) -> str:
    """A value in COPY's text format (``\\N`` is NULL)."""
    return "\\N" if value is None else str(value)


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
    sessions, intervals, ledger, statements, verifications = data
    with engine.connect() as conn:
        with conn.begin(), _secondary_indexes_dropped(conn):
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            conn.execute(ClassSession.__table__.insert(), _session_dicts(sessions))
            cur = conn.connection.driver_connection.cursor()
            _copy(cur, "presence_intervals",
                  "id, enrolment_id, trainee_id, session_id, mode, status, opened_at, last_verified_at, "
                  "closed_at, check_in_statement_id, check_out_statement_id, check_in_verification_id, "
                  "check_out_verification_id",
                  ((str(i), str(e), str(t), str(s), "kiosk", "closed", o.isoformat(), c.isoformat(),
                    c.isoformat(), str(a), str(b), _pg(vi), _pg(vo)) for i, e, t, s, o, c, a, b, vi, vo in intervals))
            _copy(cur, "face_verifications",
                  "id, at, trainee_id, enrolment_id, session_id, purpose, mode, decision, reason, "
                  "liveness_reason, device, statement_id",
                  ((str(v), at.isoformat(), str(e), str(e), str(s), purpose, "kiosk", "accepted", "", "", "bench",
                    str(st)) for v, at, e, s, purpose, st in verifications))
            _copy(cur, "hours_ledger",
                  "id, at, enrolment_id, entry_type, minutes, kind, mode, local_day, interval_id, rule, "
                  "reason, statement_id",
                  ((str(i), at.isoformat(), str(e), "credit", str(m), "theory", "kiosk", d.isoformat(),
                    str(iv), "{}", "", str(s)) for i, at, e, m, d, iv, s in ledger))
            _copy(cur, "lrs_statements", "id, stored, timestamp, verb_iri, registration, is_voided, payload",
                  ((str(i), at.isoformat(), at.isoformat(), verb, str(reg), "f", json.dumps(payload))
                   for i, at, verb, reg, payload in statements))
            _copy(cur, "audit_entries",
                  "seq, at, actor, action, object_type, object_id, payload, payload_digest, prev_hash, hash",
                  ((str(seq), at, "system", "bench", table, rid, "{}", "", "", digest)
                   for seq, at, table, rid, digest in _audit_rows(intervals, ledger, verifications,
                                                                  datetime.isoformat)))
    # what autovacuum does after a bulk load: statistics, and the visibility map that the
    # reconciliation's index-only scans rely on (without it they read every row's page); then
    # the checkpoint, so that writing the load out does not run during the reconciliation
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        conn.exec_driver_sql("CHECKPOINT")


def _profile_checks() -> None:
    """Each check of the reconciliation timed on its own (where the time goes)."""
    everything, times = reconciliation.Scope(), []
    checks = [("count_checked", lambda session, _scope: reconciliation._count_checked(session))]
    checks += [(check.__name__.lstrip("_"), check) for check in reconciliation._CHECKS]
    for name, check in checks:
        clock = time.perf_counter()
        with reconciliation_plan.full_scan_settings(db.session, everything):
            check(db.session, everything)
        times.append(f"{name} {time.perf_counter() - clock:.2f} s")
        db.session.rollback()
    click.echo("  by check: " + ", ".join(times))


def _naive(sample: list) -> int:
    """One interval at a time: its credit entry, its verifications, then each statement (its
    registration and verb; the credit's minutes; a verification's time), as `reconcile()` checks."""
    differences = 0
    session = db.session
    for interval_id in sample:
        interval = session.get(PresenceInterval, interval_id)
        entry = session.scalar(select(HoursEntry).where(HoursEntry.interval_id == interval_id))
        if entry is None:
            differences += 1
            continue
        for sid, verb in ((interval.check_in_statement_id, "checked-in"),
                          (interval.check_out_statement_id, "checked-out"), (entry.statement_id, "credited")):
            stmt = session.scalar(select(Statement).where(Statement.id == sid))
            if stmt is None or stmt.registration != interval.enrolment_id or stmt.verb_iri != VERBS[verb][0]:
                differences += 1
            elif verb == "credited" and stmt.payload["context"]["extensions"][EXT["minutes"]] != entry.minutes:
                differences += 1
        for vid in (interval.check_in_verification_id, interval.check_out_verification_id):
            verification = session.get(FaceVerification, vid) if vid else None
            stmt = verification and session.scalar(select(Statement).where(Statement.id == verification.statement_id))
            if vid and (stmt is None or stmt.registration != interval.enrolment_id
                        or stmt.verb_iri != VERBS["verified"][0] or stmt.timestamp != verification.at):
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
@click.option("--verified/--unverified", default=True, show_default=True,
              help="Load each interval's check-in and check-out verification (with statements).")
@click.option("--keep-db", is_flag=True,
              help="Leave the database (SQLite file or PostgreSQL database) in place; its URL is printed.")
@click.option("--seed", default=1, show_default=True)
@click.option("--checkin-cycles", default=10, show_default=True,
              help="Check-in/check-out pairs per client in the endpoint benchmark (0: skip it).")
def main(backend: str, intervals: int, enrolments: int, naive_sample: int, pg_url: str, verified: bool,
         keep_db: bool, seed: int, checkin_cycles: int) -> None:
    """Load intervals, ledger and statements in bulk, time reconcile() against a naive loop, then
    check-ins per second through the real endpoint."""
    from flask_migrate import upgrade

    click.echo(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    workdir = tempfile.mkdtemp(prefix="bench_hours_")
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir}/bench.db"
    else:
        server = make_url(pg_url).set(drivername="postgresql+psycopg")
        name = f"skilltrace_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
    try:
        # the check-in trainees share one face (the only clip with liveness actions): no duplicate check
        app = create_app({"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": f"{workdir}/instance",
                          "SQLALCHEMY_DATABASE_URI": url, "FACE_DUPLICATE_THRESHOLD": 1e-6})
        with app.app_context():
            upgrade()
            clock = time.perf_counter()
            data = _rows(intervals, enrolments, seed, verified)
            click.echo(f"{backend}: generated {intervals} intervals / {enrolments} enrolments "
                       f"in {time.perf_counter() - clock:.1f} s")
            clock = time.perf_counter()
            (_load_sqlite if backend == "sqlite" else _load_postgresql)(db.engine, data)
            click.echo(f"loaded {intervals} intervals, {intervals} credits, {len(data[4])} verifications, "
                       f"{len(data[3])} statements in {time.perf_counter() - clock:.1f} s")
            sample = [row[0] for row in random.Random(seed).sample(data[1], min(naive_sample, intervals))]
            del data
            clock = time.perf_counter()
            report = reconcile()
            took = time.perf_counter() - clock
            click.echo(f"reconcile(): {took:.2f} s for {report.checked['closed_intervals']} intervals "
                       f"(checks {report.seconds:.2f} s), {len(report.differences)} differences")
            db.session.remove()
            _profile_checks()
            clock = time.perf_counter()
            naive_differences = _naive(sample)
            naive = time.perf_counter() - clock
            click.echo(f"naive per-row: {naive:.2f} s for a sample of {len(sample)} intervals "
                       f"({naive_differences} differences) -> ~{naive * intervals / len(sample):.0f} s "
                       f"scaled to {intervals}; set-based is ~{naive * intervals / len(sample) / took:.0f}x faster")
            db.session.remove()
            if checkin_cycles:
                bench_checkins.measure(url, f"{workdir}/instance", PASSWORD, click.echo, checkin_cycles)
            db.session.remove()
            db.engine.dispose()
        click.echo(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if keep_db:
            click.echo(f"kept: {url}")
        else:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            shutil.rmtree(workdir, ignore_errors=True)
        if admin is not None:
            admin.dispose()


if __name__ == "__main__":
    main()
