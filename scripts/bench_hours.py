"""Benchmark of the nightly reconciliation (ledger = intervals = statements) on a fresh SQLite
or PostgreSQL database.

It builds the schema with the migrations, bulk-loads N closed presence intervals for M
enrolments, one credit entry per interval, five minimal statements per interval (check-in,
check-out, credit and the two verifications: only the columns and JSON the reconciliation reads)
and the audit entries the app writes for them, with the app's actions and payloads (not
hash-chained: the reconciliation does not verify the chain, but its payload cross-check reads
the minutes of ``hours.credited`` / ``hours.reversed`` / ``presence.closed`` and the decision of
``attendance.verified``). 5 % of the intervals are held for review (``held_hours``: 60 % still
pending, 30 % accepted with their statement, 10 % rejected with a reversal entry, statement and
audit entry) and 2 % are made up by an approved appeal (mode ``appeal``, no face verification, an
``appeals`` row and ``presence.made_up``). Then it prints:
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

The PostgreSQL run creates and drops its own database on --pg-url's server. `--against DIR`
times `reconcile()` of another checkout (`git worktree add DIR COMMIT`, outside the repository)
and of this one in turn on the same database, each run in a fresh process (A B B A ...,
`--rounds` each, medians). `--keep-db` then `--database URL` loads once and compares again.
Nothing in `app/` imports this module.
"""
from __future__ import annotations

import functools
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
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


#: Shares of the intervals that are held for review (online study with a risk signal) and that
#: are made up by an approved appeal; how the held ones were decided.
HELD_SHARE, APPEAL_SHARE = 0.05, 0.02
HELD_DECISIONS = (("pending", 0.6), ("accepted", 0.3), ("rejected", 0.1))
HELD_REASONS = (["regular_heartbeats"], ["roll_call_failed_then_passed"], ["look_alike_margin"])


@dataclass
class Fixture:
    """The generated rows, as plain tuples (UUIDs, aware datetimes).

    ``audits`` holds one ``(at, action, table, record id, details)`` per audit entry, in the
    order the app writes them; `_audit_rows` turns ``details`` into the payload that action's
    `append_audit` call writes (with the minutes and decisions the reconciliation compares)."""

    sessions: list = field(default_factory=list)
    intervals: list = field(default_factory=list)
    ledger: list = field(default_factory=list)
    statements: list = field(default_factory=list)
    verifications: list = field(default_factory=list)
    held: list = field(default_factory=list)
    appeals: list = field(default_factory=list)
    audits: list = field(default_factory=list)


def _uuids(rng: random.Random, count: int):
    return (uuid.UUID(int=rng.getrandbits(128)) for _ in range(count))


def _statement(data: Fixture, sid, at, verb: str, enrolment, minutes=None) -> None:
    payload = {"id": str(sid)}
    if minutes is not None:
        payload["context"] = {"extensions": {EXT["minutes"]: minutes}}
    data.statements.append((sid, at, VERBS[verb][0], enrolment, payload))


def _held(data: Fixture, rng: random.Random, row: dict) -> None:
    """The held-hours row of a credit, decided (accepted, or rejected with a reversal) or not."""
    hid, decision_sid, rid = _uuids(rng, 3)
    status = rng.choices([s for s, _ in HELD_DECISIONS], [w for _, w in HELD_DECISIONS])[0]
    reasons = HELD_REASONS[rng.randrange(len(HELD_REASONS))]
    decided = row["closed"] + timedelta(days=1) if status != "pending" else None
    data.held.append((hid, row["entry"], row["enrolment"], row["class"], row["interval"], row["minutes"],
                      reasons, status, row["closed"], decided, decision_sid if decided else None))
    data.audits.append((row["closed"], "hours.held", "held_hours", hid, (row["entry"], row["minutes"], reasons)))
    if status == "accepted":
        _statement(data, decision_sid, decided, "accepted-held", row["enrolment"], row["minutes"])
    elif status == "rejected":
        data.ledger.append((rid, decided, row["enrolment"], "reversal", -row["minutes"], row["mode"],
                            row["closed"].date(), None, row["entry"], decision_sid))
        _statement(data, decision_sid, decided, "reversed", row["enrolment"], -row["minutes"])
        data.audits.append((decided, "hours.reversed", "hours_ledger", rid, (row["entry"], -row["minutes"])))
    if decided:
        data.audits.append((decided, f"hours.held_{status}", "held_hours", hid,
                            (row["entry"], row["minutes"], reasons)))


def _appeal(data: Fixture, rng: random.Random, row: dict) -> None:
    """The approved appeal an appeal-mode interval was made up from."""
    aid = next(_uuids(rng, 1))
    filed = row["closed"] + timedelta(hours=2)
    data.appeals.append((aid, row["enrolment"], row["enrolment"], row["class"], row["session"], row["opened"],
                         row["closed"], filed, filed + timedelta(hours=20), row["interval"]))
    data.audits.append((filed, "appeal.filed", "appeals", aid, (row["session"],)))
    data.audits.append((filed + timedelta(hours=20), "appeal.approved", "appeals", aid, (row["minutes"],)))


def _rows(intervals: int, enrolments: int, seed: int, verified: bool) -> Fixture:
    """Sessions, intervals, ledger entries, verifications, held hours, appeals, statements and
    audit entries; with ``verified``, each face-checked interval has its check-in and check-out
    verification, each with its statement, as in real use. `HELD_SHARE` of the intervals are
    held for review, `APPEAL_SHARE` are made up by an appeal (no verification: an ID-card check)."""
    rng = random.Random(seed)
    data = Fixture()
    for i in range(SESSIONS):
        start = DAY0 + timedelta(days=i // 4, hours=2 * (i % 4))
        sid, cid = _uuids(rng, 2)
        data.sessions.append((sid, cid, start, start + timedelta(minutes=100)))
    enrolment_ids = list(_uuids(rng, enrolments))
    for _ in range(intervals):
        sid, cid, starts, _ends = data.sessions[rng.randrange(SESSIONS)]
        enrolment = enrolment_ids[rng.randrange(enrolments)]
        opened = starts + timedelta(minutes=rng.randrange(0, 20))
        closed = opened + timedelta(minutes=rng.randrange(10, 80))
        share = rng.random()
        kind = "appeal" if share < APPEAL_SHARE else "held" if share < APPEAL_SHARE + HELD_SHARE else "kiosk"
        mode = "personal" if kind == "held" else kind
        iid, eid, s_in, s_out, s_credit = _uuids(rng, 5)
        row = {"interval": iid, "entry": eid, "enrolment": enrolment, "session": sid, "class": cid,
               "opened": opened, "closed": closed, "mode": mode,
               "minutes": int((closed - opened).total_seconds()) // 60}
        v_in = v_out = None
        if verified and kind != "appeal":
            v_in, v_out, s_v_in, s_v_out = _uuids(rng, 4)
            for vid, at, purpose, statement_id in ((v_in, opened, "check_in", s_v_in),
                                                   (v_out, closed, "check_out", s_v_out)):
                data.verifications.append((vid, at, enrolment, sid, purpose, statement_id, mode))
                _statement(data, statement_id, at, "verified", enrolment)
                data.audits.append((at, "attendance.verified", "face_verifications", vid, (enrolment, sid, purpose,
                                                                                          mode)))
        data.intervals.append((iid, enrolment, enrolment, sid, opened, closed, s_in, s_out, v_in, v_out, mode))
        data.ledger.append((eid, closed, enrolment, "credit", row["minutes"], mode, closed.date(), iid, None, s_credit))
        _statement(data, s_in, opened, "checked-in", enrolment)
        _statement(data, s_out, closed, "checked-out", enrolment)
        _statement(data, s_credit, closed, "credited", enrolment, row["minutes"])
        if kind == "appeal":
            _appeal(data, rng, row)
            data.audits.append((closed, "presence.made_up", "presence_intervals", iid, (row["opened"], closed)))
        else:
            data.audits.append((opened, "presence.opened", "presence_intervals", iid, (enrolment, sid, mode, v_in)))
        data.audits.append((closed, "hours.credited", "hours_ledger", eid, (enrolment, iid, row["minutes"], mode)))
        if kind != "appeal":
            data.audits.append((closed, "presence.closed", "presence_intervals", iid,
                                (enrolment, sid, row["minutes"], v_out)))
        if kind == "held":
            _held(data, rng, row)
    return data


@functools.lru_cache(maxsize=None)
def _sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's SQLite storage format (times repeat a lot: the cache saves most strftime calls)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


_LOADED = ("presence_intervals", "hours_ledger", "lrs_statements", "audit_entries", "face_verifications",
           "held_hours", "appeals")
_RULE = {"unit_minutes": 1, "daily_cap_minutes": 480, "tolerance_minutes": 5, "version": 1}


def _payload(action: str, details: tuple) -> dict:
    """The payload `append_audit` writes for ``action`` (the app's keys; ``details`` from `Fixture`)."""
    if action == "attendance.verified":
        enrolment, session, purpose, mode = details
        return {"trainee_id": str(enrolment), "purpose": purpose, "mode": mode, "reason": "", "distance": 0.31,
                "liveness": "", "session_id": str(session), "kiosk_id": None, "device": "bench"}
    if action == "presence.opened":
        enrolment, session, mode, verification = details
        return {"trainee_id": str(enrolment), "session_id": str(session), "mode": mode,
                "verification_id": str(verification)}
    if action == "presence.closed":
        enrolment, session, minutes, verification = details
        return {"trainee_id": str(enrolment), "session_id": str(session), "minutes": minutes,
                "verification_id": str(verification)}
    if action == "hours.credited":
        enrolment, interval, minutes, mode = details
        return {"enrolment_id": str(enrolment), "interval_id": str(interval), "minutes": minutes, "kind": "theory",
                "mode": mode, "rule": _RULE}
    if action == "hours.reversed":
        return {"reverses_id": str(details[0]), "minutes": details[1], "reason": "held hours rejected"}
    if action.startswith("hours.held"):
        return {"entry_id": str(details[0]), "minutes": details[1], "reasons": details[2]}
    if action == "presence.made_up":
        return {"from": details[0].isoformat(), "to": details[1].isoformat()}
    if action == "appeal.filed":
        return {"session_id": str(details[0]), "category": "network"}
    return {"method": "id_card", "note": "bench", "minutes": details[0]}  # appeal.approved


def _audit_rows(data: Fixture, moment):
    """The audit entries (not hash-chained: the reconciliation does not verify the chain):
    (seq, at, action, object_type, object_id, payload JSON, hash)."""
    return ((seq, moment(at), action, table, str(rid), json.dumps(_payload(action, details)), f"{seq:064x}")
            for seq, (at, action, table, rid, details) in enumerate(data.audits, 1))


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


def _load_sqlite(engine, data: Fixture) -> None:
    iv, hl, st = PresenceInterval.__table__, HoursEntry.__table__, Statement.__table__
    with engine.connect() as conn:
        raw = conn.connection.driver_connection  # outside any transaction: pragmas take effect
        # a page cache that holds the indexes being filled (random UUID keys), and no fsync
        for pragma in ("foreign_keys = OFF", "cache_size = -2000000", "synchronous = OFF"):
            raw.execute(f"PRAGMA {pragma}")
        with conn.begin(), _secondary_indexes_dropped(conn):
            conn.execute(ClassSession.__table__.insert(), _session_dicts(data.sessions))
            fmt = _sqlite_time
            raw.executemany(
                f"INSERT INTO {iv.name} (id, enrolment_id, trainee_id, session_id, mode, status, opened_at, "
                "last_verified_at, closed_at, check_in_statement_id, check_out_statement_id, "
                "check_in_verification_id, check_out_verification_id) "
                "VALUES (?, ?, ?, ?, ?, 'closed', ?, ?, ?, ?, ?, ?, ?)",
                ((i.hex, e.hex, t.hex, s.hex, mode, fmt(o), fmt(c), fmt(c), a.hex, b.hex, _hex(vi), _hex(vo))
                 for i, e, t, s, o, c, a, b, vi, vo, mode in data.intervals))
            raw.executemany(
                "INSERT INTO face_verifications (id, at, trainee_id, enrolment_id, session_id, purpose, mode, "
                "decision, reason, liveness_reason, device, statement_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'accepted', '', '', 'bench', ?)",
                ((v.hex, fmt(at), e.hex, e.hex, s.hex, purpose, mode, st.hex)
                 for v, at, e, s, purpose, st, mode in data.verifications))
            raw.executemany(
                f"INSERT INTO {hl.name} (id, at, enrolment_id, entry_type, minutes, kind, mode, local_day, "
                "interval_id, reverses_id, rule, reason, statement_id) "
                "VALUES (?, ?, ?, ?, ?, 'theory', ?, ?, ?, ?, ?, '', ?)",
                ((i.hex, fmt(at), e.hex, kind, m, mode, d.isoformat(), _hex(iv_), _hex(rev),
                  json.dumps(_RULE if kind == "credit" else {}), s.hex)
                 for i, at, e, kind, m, mode, d, iv_, rev, s in data.ledger))
            raw.executemany(
                "INSERT INTO held_hours (id, entry_id, enrolment_id, class_id, interval_id, minutes, reasons, "
                "status, held_at, decided_at, decision_reason, decision_statement_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)",
                ((h.hex, e.hex, en.hex, c.hex, i.hex, m, json.dumps(r), status, fmt(at), fmt(d) if d else None,
                  _hex(ds)) for h, e, en, c, i, m, r, status, at, d, ds in data.held))
            raw.executemany(
                "INSERT INTO appeals (id, trainee_id, enrolment_id, class_id, session_id, missed, category, "
                "statement, claimed_from, claimed_to, status, filed_at, decided_at, method, decision_note, "
                "interval_id) VALUES (?, ?, ?, ?, ?, 'check_in', 'network', 'bench', ?, ?, 'approved', ?, ?, "
                "'id_card', 'bench', ?)",
                ((a.hex, t.hex, e.hex, c.hex, s.hex, fmt(f), fmt(to), fmt(filed), fmt(d), i.hex)
                 for a, t, e, c, s, f, to, filed, d, i in data.appeals))
            raw.executemany(
                f"INSERT INTO {st.name} (id, stored, timestamp, verb_iri, registration, is_voided, payload) "
                "VALUES (?, ?, ?, ?, ?, 0, ?)",
                ((i.hex, fmt(at), fmt(at), verb, reg.hex, json.dumps(payload))
                 for i, at, verb, reg, payload in data.statements))
            raw.executemany(
                "INSERT INTO audit_entries (seq, at, actor, action, object_type, object_id, payload, "
                "payload_digest, prev_hash, hash) VALUES (?, ?, 'system', ?, ?, ?, ?, '', '', ?)",
                _audit_rows(data, fmt))
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


def _load_postgresql(engine, data: Fixture) -> None:
    iso = datetime.isoformat
    with engine.connect() as conn:
        with conn.begin(), _secondary_indexes_dropped(conn):
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            conn.execute(ClassSession.__table__.insert(), _session_dicts(data.sessions))
            cur = conn.connection.driver_connection.cursor()
            _copy(cur, "presence_intervals",
                  "id, enrolment_id, trainee_id, session_id, mode, status, opened_at, last_verified_at, "
                  "closed_at, check_in_statement_id, check_out_statement_id, check_in_verification_id, "
                  "check_out_verification_id",
                  ((str(i), str(e), str(t), str(s), mode, "closed", o.isoformat(), c.isoformat(),
                    c.isoformat(), str(a), str(b), _pg(vi), _pg(vo))
                   for i, e, t, s, o, c, a, b, vi, vo, mode in data.intervals))
            _copy(cur, "face_verifications",
                  "id, at, trainee_id, enrolment_id, session_id, purpose, mode, decision, reason, "
                  "liveness_reason, device, statement_id",
                  ((str(v), at.isoformat(), str(e), str(e), str(s), purpose, mode, "accepted", "", "", "bench",
                    str(st)) for v, at, e, s, purpose, st, mode in data.verifications))
            _copy(cur, "hours_ledger",
                  "id, at, enrolment_id, entry_type, minutes, kind, mode, local_day, interval_id, reverses_id, "
                  "rule, reason, statement_id",
                  ((str(i), at.isoformat(), str(e), kind, str(m), "theory", mode, d.isoformat(), _pg(iv),
                    _pg(rev), json.dumps(_RULE if kind == "credit" else {}), "", str(s))
                   for i, at, e, kind, m, mode, d, iv, rev, s in data.ledger))
            _copy(cur, "held_hours",
                  "id, entry_id, enrolment_id, class_id, interval_id, minutes, reasons, status, held_at, "
                  "decided_at, decision_reason, decision_statement_id",
                  ((str(h), str(e), str(en), str(c), str(i), str(m), json.dumps(r), status, at.isoformat(),
                    _pg(d and d.isoformat()), "", _pg(ds)) for h, e, en, c, i, m, r, status, at, d, ds in data.held))
            _copy(cur, "appeals",
                  "id, trainee_id, enrolment_id, class_id, session_id, missed, category, statement, "
                  "claimed_from, claimed_to, status, filed_at, decided_at, method, decision_note, interval_id",
                  ((str(a), str(t), str(e), str(c), str(s), "check_in", "network", "bench", f.isoformat(),
                    to.isoformat(), "approved", filed.isoformat(), d.isoformat(), "id_card", "bench", str(i))
                   for a, t, e, c, s, f, to, filed, d, i in data.appeals))
            _copy(cur, "lrs_statements", "id, stored, timestamp, verb_iri, registration, is_voided, payload",
                  ((str(i), at.isoformat(), at.isoformat(), verb, str(reg), "f", json.dumps(payload))
                   for i, at, verb, reg, payload in data.statements))
            _copy(cur, "audit_entries",
                  "seq, at, actor, action, object_type, object_id, payload, payload_digest, prev_hash, hash",
                  ((str(seq), at, "system", action, table, rid, payload, "", "", digest)
                   for seq, at, action, table, rid, payload, digest in _audit_rows(data, iso)))
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


def _generate_and_load(backend: str, intervals: int, enrolments: int, seed: int, verified: bool,
                       naive_sample: int) -> list:
    """Generate and bulk-load the fixture; return a sample of ``naive_sample`` interval ids."""
    clock = time.perf_counter()
    data = _rows(intervals, enrolments, seed, verified)
    click.echo(f"{backend}: generated {intervals} intervals / {enrolments} enrolments "
               f"in {time.perf_counter() - clock:.1f} s")
    clock = time.perf_counter()
    (_load_sqlite if backend == "sqlite" else _load_postgresql)(db.engine, data)
    click.echo(f"loaded {intervals} intervals ({len(data.appeals)} made up by appeals, "
               f"{len(data.held)} held), {len(data.ledger)} ledger entries, {len(data.verifications)} "
               f"verifications, {len(data.statements)} statements, {len(data.audits)} audit entries "
               f"in {time.perf_counter() - clock:.1f} s")
    return [row[0] for row in random.Random(seed).sample(data.intervals, min(naive_sample, intervals))]


#: Run in a checkout's own directory (its `app` first on the path): one timed `reconcile()`.
_RECONCILE_IN_TREE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from app import create_app
from app.services.reconciliation import reconcile
app = create_app(json.loads(sys.argv[2]))
with app.app_context():
    clock = time.perf_counter()
    report = reconcile()
    print(json.dumps({"seconds": time.perf_counter() - clock, "by_kind": report.counts_by_kind()}))
"""


def _reconcile_in(tree: Path, config: dict) -> dict:
    """{"seconds", "by_kind"} of one `reconcile()` by the code of checkout ``tree``, in a fresh
    process (the same harness for every checkout)."""
    done = subprocess.run([sys.executable, "-c", _RECONCILE_IN_TREE, str(tree), json.dumps(config)],
                          cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compare_reconcile(trees: dict[str, Path], config: dict, rounds: int) -> float:
    """`reconcile()` of each checkout ({label: directory}) on the same database, interleaved
    A B B A ...; print every run, the median per checkout and what each found; return the
    first checkout's median."""
    labels = list(trees)
    runs: dict[str, list] = {label: [] for label in labels}
    for round_ in range(rounds):
        for label in labels if round_ % 2 == 0 else reversed(labels):
            runs[label].append(_reconcile_in(trees[label], config))
    for label in labels:
        seconds = [run["seconds"] for run in runs[label]]
        click.echo(f"reconcile() {label} ({trees[label]}): median {statistics.median(seconds):.2f} s "
                   f"(runs {' '.join(f'{v:.2f}' for v in seconds)}); differences {runs[label][-1]['by_kind']}")
    return statistics.median(run["seconds"] for run in runs[labels[0]])


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
@click.option("--against", "base_tree", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Another checkout (git worktree add DIR COMMIT): its reconcile() and this "
                                 "one's run in turn on the same database, each in a fresh process.")
@click.option("--rounds", default=3, show_default=True, help="reconcile() runs per checkout with --against.")
@click.option("--database", "reuse_url", default=None, metavar="URL",
              help="Run on a database an earlier --keep-db run loaded (its printed URL) instead of loading one; "
                   "it is left in place.")
def main(backend: str, intervals: int, enrolments: int, naive_sample: int, pg_url: str, verified: bool,
         keep_db: bool, seed: int, checkin_cycles: int, base_tree: Path | None, rounds: int,
         reuse_url: str | None) -> None:
    """Load intervals, ledger and statements in bulk, time reconcile() against a naive loop, then
    check-ins per second through the real endpoint."""
    from flask_migrate import upgrade

    click.echo(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    workdir = tempfile.mkdtemp(prefix="bench_hours_")
    admin = None
    if reuse_url is not None:
        url, keep_db = reuse_url, True
        backend = make_url(url).get_backend_name()
    elif backend == "sqlite":
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
        config = {"SKILLTRACE_ENV": "testing", "INSTANCE_PATH": f"{workdir}/instance",
                  "SQLALCHEMY_DATABASE_URI": url, "FACE_DUPLICATE_THRESHOLD": 1e-6}
        app = create_app(config)
        with app.app_context():
            if reuse_url is None:
                upgrade()
                sample = _generate_and_load(backend, intervals, enrolments, seed, verified, naive_sample)
            else:
                ids = db.session.scalars(select(PresenceInterval.id)).all()
                intervals = len(ids)
                click.echo(f"{backend}: {intervals} intervals in {url}")
                sample = random.Random(seed).sample(ids, min(naive_sample, intervals))
                del ids
            db.session.remove()
            if base_tree is not None:
                took = _compare_reconcile({"this": ROOT, "base": base_tree.resolve()}, config, rounds)
            else:
                clock = time.perf_counter()
                report = reconcile()
                took = time.perf_counter() - clock
                click.echo(f"reconcile(): {took:.2f} s for {report.checked['closed_intervals']} intervals "
                           f"(checks {report.seconds:.2f} s), {len(report.differences)} differences")
                db.session.remove()
                _profile_checks()
            if sample:
                clock = time.perf_counter()
                naive_differences = _naive(sample)
                naive = time.perf_counter() - clock
                click.echo(f"naive per-row: {naive:.2f} s for a sample of {len(sample)} intervals "
                           f"({naive_differences} differences) -> ~{naive * intervals / len(sample):.0f} s "
                           f"scaled to {intervals}; set-based is ~{naive * intervals / len(sample) / took:.0f}x "
                           "faster")
                db.session.remove()
            if checkin_cycles:
                bench_checkins.measure(url, f"{workdir}/instance", PASSWORD, click.echo, checkin_cycles)
            db.session.remove()
            db.engine.dispose()
        click.echo(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if reuse_url is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        elif keep_db:
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
