"""Load and fault test: gunicorn on a PostgreSQL database of its own, for a bounded time,
N trainees doing a server-paced check-in and check-out answered with real face frames (the live
responder of the tests, from ../shared/faces/talking_head.mp4; after a trainee's first cycle the
replay memory refuses the same frames with 409 ``replayed``, counted among the errors) and M xAPI clients posting statements.
Afterwards it counts in the database and prints requests, errors and p50/p99 per endpoint, and
`lost=N duplicated=M`: acknowledged check-ins, check-outs and statements missing, and anything
recorded twice (a credit per interval, an interval per check-in, a verification per challenge).

    PYTHONPATH=. .venv/bin/python scripts/load_test.py --seconds 60
    PYTHONPATH=. .venv/bin/python scripts/load_test.py --seconds 60 --kill --db-outage

``--kill`` SIGKILLs gunicorn (and the scheduler) half-way and restarts them; ``--db-outage`` cuts
the database (through a proxy, so a shared server keeps running) for a few seconds and checks that
/healthz and the API answer 503, then that they recover. Exit status 1 when lost or duplicated.
"""
from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.load_clients import Book, Trainee, XapiClient, percentile  # noqa: E402
from tests.factories import PASSWORD  # noqa: E402
from tests.fixtures.tcp_proxy import TcpProxy  # noqa: E402



class Process:
    """A child in its own process group (gunicorn and its workers, or the scheduler)."""

    def __init__(self, argv: list[str], env: dict, log: Path, ready_url: str | None = None) -> None:
        self.argv, self.env, self.ready_url, self.log = argv, env, ready_url, log
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, start_new_session=True,
                                         stdout=log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.ready_url is None:
                return
            try:
                if requests.get(self.ready_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise click.ClickException(f"{self.argv[0]} did not start")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=60)


def create_database(server_url: str) -> str:
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"skilltrace_load_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def seed(trainees: int) -> tuple[list[str], tuple[str, str], dict[str, list[bytes]]]:
    """Migrate and fill the database named by the environment: a running class of trainees
    with accounts, consent and the talking_head template; an LRS credential. In-process."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import FaceTemplate, Role
    from app.services._tx import transaction
    from app.services.consent import current_consent_text, give_consent
    from lrs import service
    from tests.attendance_helpers import running_class, trainee_with_face
    from tests.factories import make_trainee, make_user

    app = create_app({"INSTANCE_PATH": str(ROOT / "instance")})
    with app.app_context():
        upgrade()
        admin = make_user(Role.ADMIN, password=PASSWORD)
        instructor = make_user(Role.INSTRUCTOR, username="teacher", password=PASSWORD)
        _user, first = trainee_with_face(admin, "load000")
        template = db.session.query(FaceTemplate).filter_by(trainee_id=first.id).one()
        people, names = [first], ["load000"]
        version = current_consent_text(db.session).version
        for n in range(1, trainees):
            user = make_user(Role.TRAINEE, username=f"load{n:03d}", password=PASSWORD)
            trainee = make_trainee("学员" + "".join("零一二三四五六七八九"[int(d)] for d in f"{n:03d}"), actor=admin)
            with transaction() as session:
                session.merge(trainee).user_id = user.id
            give_consent(admin, trainee.id, version, "paper")
            with transaction() as session:  # the same face for all: enrol_face would flag duplicates
                session.add(FaceTemplate(trainee_id=trainee.id, encoder=template.encoder, detector=template.detector,
                                         sealed=template.sealed, captures=template.captures))
            people.append(trainee)
            names.append(user.username)
        running_class(admin, instructor, people, minutes=11 * 60)
        pair = service.create_credential(app.extensions["lrs_store"], "load", ["all"])
        db.session.remove()
        db.engine.dispose()
    return names, (pair["key"], pair["secret"])


def warm_up(base: str, username: str, workers: int) -> None:
    """Load the face models in every worker thread before the clock starts (not counted)."""
    click.echo("warming up the workers' face models …")
    probes = [Trainee(base, username, PASSWORD, Book()) for _ in range(workers * 4)]
    threads = [threading.Thread(target=lambda p=p: p.sign_in() and p.check("check_in")) for p in probes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    probes[0].check("check_out")


def sign_in_all(base: str, names: list[str], book: Book) -> list[Trainee]:
    """Sign every trainee in before the clock starts (Argon2id is slow by design), 8 at a time."""
    click.echo(f"signing {len(names)} trainees in …")
    signing = Book()
    clients = [Trainee(base, n, PASSWORD, signing) for n in names]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(Trainee.sign_in, clients))
    values = signing.latency["POST /login"]
    click.echo(f"sign-in: {len(values)} requests, p50 {percentile(values, .5) * 1000:.0f} ms, "
               f"p99 {percentile(values, .99) * 1000:.0f} ms, errors {dict(signing.errors) or 0}")
    for client in clients:
        client.book = book
    return clients


def count(database_url: str, book: Book) -> dict:
    """Look in the database for every acknowledged record, and for anything recorded twice."""
    engine = create_engine(make_url(database_url).set(drivername="postgresql+psycopg"))
    ins = [a for a in book.acked_check_ins]
    outs = [a for a in book.acked_check_outs]

    def present(sql: str, ids: list[str]) -> int:
        return conn.execute(text(sql), {"ids": ids}).scalar_one() if ids else 0

    with engine.connect() as conn:
        lost = {
            "check_in_verifications": len(ins) - present(
                "SELECT count(*) FROM face_verifications WHERE id = ANY(CAST(:ids AS uuid[]))",
                [a["verification_id"] for a in ins]),
            "check_in_intervals": len(ins) - present(
                "SELECT count(*) FROM presence_intervals WHERE id = ANY(CAST(:ids AS uuid[])) "
                "AND check_in_statement_id IN (SELECT id FROM lrs_statements)",
                [a["interval_id"] for a in ins]),
            "check_outs": len(outs) - present(
                "SELECT count(*) FROM presence_intervals WHERE id = ANY(CAST(:ids AS uuid[])) "
                "AND closed_at IS NOT NULL AND check_out_statement_id IN (SELECT id FROM lrs_statements)",
                [a["interval_id"] for a in outs]),
            "statements": len(book.acked_statements) - present(
                "SELECT count(*) FROM lrs_statements WHERE id = ANY(CAST(:ids AS uuid[]))",
                book.acked_statements),
        }
        duplicated = {name: conn.execute(text(sql)).scalar_one() for name, sql in {
            "credits_per_interval": "SELECT count(*) FROM (SELECT interval_id FROM hours_ledger WHERE "
                                    "entry_type = 'credit' AND interval_id IS NOT NULL GROUP BY interval_id "
                                    "HAVING count(*) > 1) d",
            "intervals_per_check_in": "SELECT count(*) FROM (SELECT check_in_verification_id FROM "
                                      "presence_intervals GROUP BY 1 HAVING count(*) > 1) d",
            "verifications_per_challenge": "SELECT count(*) FROM (SELECT challenge_id FROM face_verifications "
                                           "WHERE challenge_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d",
            "statements": "SELECT count(*) FROM (SELECT id FROM lrs_statements GROUP BY id HAVING count(*) > 1) d",
        }.items()}
        totals = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("face_verifications", "presence_intervals", "hours_ledger", "lrs_statements")}
    engine.dispose()
    return {"lost": lost, "duplicated": duplicated, "totals": totals}


def _retry(send, attempts: int = 3):
    """A request that survives a connection reset (a worker restarting under load)."""
    for attempt in range(attempts):
        try:
            return send()
        except requests.ConnectionError:
            if attempt == attempts - 1:
                raise
            time.sleep(1)


def outage_drill(proxy: TcpProxy, base: str, probe: Trainee, seconds: float = 5.0) -> list[str]:
    """Cut the database; /healthz and the API must answer 503, then recover. Returns findings."""
    findings = []
    proxy.cut()
    time.sleep(0.5)
    try:
        health = _retry(lambda: requests.get(f"{base}/healthz", timeout=30))
        api = _retry(lambda: probe.http.post(f"{base}/api/attendance/conversation", json={"purpose": "check_in"},
                                             headers={"X-CSRFToken": probe.token}, timeout=30))
        findings.append(f"database cut: /healthz {health.status_code}, API {api.status_code} "
                        f"{api.json().get('error') if api.headers.get('content-type', '').startswith('application/json') else api.text[:60]}")
        if health.status_code != 503 or api.status_code != 503:
            findings.append("FAIL: expected 503 from both")
    except requests.RequestException as exc:
        findings.append(f"FAIL: no answer during the outage: {exc}")
    time.sleep(seconds)
    proxy.resume()
    started = time.monotonic()
    while time.monotonic() - started < 60:
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                findings.append(f"database back: /healthz 200 after {time.monotonic() - started:.1f} s")
                return findings
        except requests.RequestException:
            pass
        time.sleep(0.2)
    findings.append("FAIL: not recovered within 60 s")
    return findings


def report(book: Book, counts: dict, findings: list[str], seconds: float) -> int:
    click.echo(f"\n{'endpoint':40} {'requests':>8} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}  error codes")
    for label in sorted(book.latency):
        values, errors = book.latency[label], book.errors.get(label, {})
        click.echo(f"{label:40} {len(values):8d} {sum(errors.values()):7d} "
                   f"{percentile(values, .5) * 1000:8.0f} {percentile(values, .99) * 1000:8.0f}  "
                   f"{dict(errors) or ''}")
    total = sum(len(v) for v in book.latency.values())
    errors = sum(sum(e.values()) for e in book.errors.values())
    click.echo(f"total: {total} requests in {seconds:.0f} s ({total / seconds:.1f}/s), {errors} errors; "
               f"acknowledged: {len(book.acked_check_ins)} check-ins, {len(book.acked_check_outs)} "
               f"check-outs, {len(book.acked_statements)} statements")
    click.echo(f"in the database: {counts['totals']}")
    for line in findings:
        click.echo(line)
    lost, duplicated = sum(counts["lost"].values()), sum(counts["duplicated"].values())
    click.echo(f"lost={lost} duplicated={duplicated}  (lost {counts['lost']}; duplicated {counts['duplicated']})")
    failed = lost or duplicated or any(f.startswith("FAIL") for f in findings)
    return 1 if failed else 0


@click.command()
@click.option("--seconds", default=60, show_default=True, help="How long the load runs.")
@click.option("--trainees", default=50, show_default=True)
@click.option("--xapi-clients", default=20, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn workers (4 threads each).")
@click.option("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres", show_default=True,
              help="A PostgreSQL server; the test creates (and drops) a database of its own there.")
@click.option("--kill", is_flag=True, help="SIGKILL gunicorn and the scheduler half-way, then restart.")
@click.option("--db-outage", is_flag=True, help="Cut the database for 5 s at two thirds of the run.")
@click.option("--port", default=5190, show_default=True)
@click.option("--keep-db", is_flag=True, help="Leave the database for inspection.")
def main(seconds, trainees, xapi_clients, workers, pg_url, kill, db_outage, port, keep_db):
    """Run the load (and faults) and print the figures."""
    database_url = create_database(pg_url)
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    keys = f"load1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
    env = {**os.environ, "SKILLTRACE_ENV": "development", "SECRET_KEY": secrets.token_urlsafe(32),
           "SKILLTRACE_TEMPLATE_KEYS": keys, "SKILLTRACE_TEMPLATE_KEY_ID": "load1",
           "SKILLTRACE_CHECK_IN_RATE_LIMIT": "100000 per minute", "PYTHONPATH": str(ROOT),
           "SKILLTRACE_FACE_MODEL_DIR": str(ROOT / "instance" / "models"),
           "DATABASE_URL": url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)}
    os.environ.update(env)
    click.echo(f"seeding {trainees} trainees on {url.database} …")
    names, lrs_auth = seed(trainees)
    base = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="skilltrace-load-"))
    click.echo(f"server logs in {logs}")
    bin_dir = Path(sys.executable).parent
    server = Process([str(bin_dir / "gunicorn"), "-w", str(workers), "--threads", "4", "-b", f"127.0.0.1:{port}",
                      "--timeout", "120", "wsgi:app"], env, logs / "gunicorn.log", ready_url=f"{base}/healthz")
    scheduler = Process([str(bin_dir / "flask"), "--app", "wsgi", "scheduler", "run"], env, logs / "scheduler.log")
    warm_up(base, names[0], workers)
    book, findings = Book(), []
    trainee_clients = sign_in_all(base, names, book)
    started = time.monotonic()
    deadline = started + seconds
    clients = list(trainee_clients)
    clients += [XapiClient(base, lrs_auth, book) for _ in range(xapi_clients)]
    threads = [threading.Thread(target=c.run, args=(deadline,)) for c in clients]
    for t in threads:
        t.start()
    try:
        if kill:
            time.sleep(seconds / 2)
            server.kill()
            scheduler.kill()
            findings.append(f"SIGKILL gunicorn and the scheduler at {time.monotonic() - started:.0f} s")
            server.start()
            scheduler.start()
            findings.append(f"restarted, serving again at {time.monotonic() - started:.0f} s")
        if db_outage:  # at two thirds of the run, and not while a killed server restarts
            time.sleep(max(5.0 if kill else 0.0, started + seconds * 2 / 3 - time.monotonic()))
            probe = Trainee(base, names[0], PASSWORD, Book())
            probe.sign_in()
            findings += outage_drill(proxy, base, probe)
        for t in threads:
            t.join()
    finally:
        server.stop()
        scheduler.stop()
    counts = count(database_url, book)
    proxy.close()
    status = report(book, counts, findings, time.monotonic() - started)
    if not keep_db:
        admin = create_engine(make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()
    sys.exit(status)


if __name__ == "__main__":
    main()
