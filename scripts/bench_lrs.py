"""Benchmark of the LRS as deployed: gunicorn (2 workers) serving `wsgi:app` on a fresh SQLite
or PostgreSQL database, driven over loopback HTTP.

It prints, in one run:
  * POST throughput (statements/s) for batches of 1, 10 and 100 with N concurrent clients;
    batches of 1 are the naive way to send, so the ratio is the gain from batching;
  * p50/p99 of filtered GET /xapi/statements (agent+verb, activity+related_activities,
    registration, since) over a store bulk-loaded to --statements rows, next to the naive
    approach (the same filter as a scan of the statement JSON, run directly in the database);
  * the workers' peak memory, and their memory while paging through the whole store with
    `more` (it should stay flat);
  * time-window pages (`--windows`): `since=X&ascending=true` against `since=X` (newest first)
    and `until=X` alone, X at 10 %, 50 % and 90 % of the store's `stored` span, each the median
    of `--rounds` runs taken in turn (the issue's bar: ascending within 2x of descending).

`--base-tree DIR` also serves another checkout of the code (`git worktree add DIR COMMIT`,
outside the repository) on its own fresh database and port, and measures the POST throughput
of both in the same run, interleaved (A B B A ... per batch size, `--rounds` each), so a
regression shows against the same machine load.

    .venv/bin/python scripts/bench_lrs.py --db sqlite --statements 1000000
    .venv/bin/python scripts/bench_lrs.py --db postgresql --pg-url postgresql://postgres@127.0.0.1/postgres

`--keep NAME` keeps the store (and migrates it) between runs, so GETs of two versions of the
code can be compared on the same 1M statements; `--no-post`, `--no-filters` and
`--no-page-all` skip parts.
Each worker checks the credential (argon2) and runs each query shape once before GETs are
timed; that warm-up is reported apart.

Inputs (store shape and statement template) come from scripts/data/lrs_bench.json; the store is
loaded in bulk by scripts/lrs_store.py, row for row what the LRS writes. Nothing in
`app/` or `lrs/` imports this module.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import click
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.lrs_store import INPUTS, bulk_load, identity, make_statement  # noqa: E402


class Server:
    """gunicorn with 2 workers serving wsgi:app of the checkout `tree` on a loopback port."""

    def __init__(self, env: dict, port: int, tree: Path = ROOT) -> None:
        self.port = port
        self.env = env
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b",
             f"127.0.0.1:{port}", "--timeout", "300", "--chdir", str(tree), "wsgi:app"],
            cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/xapi/about")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise click.ClickException("gunicorn did not start")

    def worker_memory(self) -> dict[int, tuple[int, int]]:
        """{pid: (VmRSS, VmHWM) in KiB} of the workers."""
        out = {}
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        for pid in children.read_text().split():
            fields = dict(line.split(":", 1) for line in
                          Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
            out[int(pid)] = (int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))
        return out

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def request(port: int, auth: str, method: str, path: str, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status >= 300:
        raise click.ClickException(f"{method} {path[:80]} -> {response.status} {data[:200]!r}")
    return data


def bench_posts(port: int, auth: str, batch: int, clients: int, seconds: float) -> float:
    """Statements/s for POSTs of `batch` statements from `clients` threads."""
    stored = [0] * clients
    errors: list[Exception] = []
    deadline = time.perf_counter() + seconds

    def run(index: int) -> None:
        rng = random.Random(index * 7919 + batch + int(time.time()))
        try:
            while time.perf_counter() < deadline:
                request(port, auth, "POST", "/xapi/statements",
                        [make_statement(rng) for _ in range(batch)])
                stored[index] += batch
        except Exception as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(stored) / (time.perf_counter() - started)


def load_store(url: str, env: dict, auth: str, count: int) -> float:
    """Load `count` statements in bulk (`scripts/lrs_store.py`) as the bench credential's,
    with the authority homePage the server (`env`) is configured with; return the seconds."""
    home_page = subprocess.run(
        [sys.executable, "-c", "from wsgi import app; from lrs import DEFAULT_AUTHORITY_HOMEPAGE"
         " as d; print(app.config.get('LRS_AUTHORITY_HOMEPAGE') or d)"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.split()[-1]
    key = base64.b64decode(auth.split()[1]).decode().split(":", 1)[0]
    engine = create_engine(url)
    started = time.perf_counter()
    bulk_load(engine, count, *identity(engine, key, home_page))
    engine.dispose()
    return time.perf_counter() - started


def warm_up(port: int, auth: str, paths: list[str], clients: int = 4) -> float:
    """Send each of `paths` from concurrent clients so that every worker has checked the
    credential (argon2, remembered afterwards) and compiled each query shape once before
    latencies are measured; return the slowest."""
    slowest = [0.0]

    def run() -> None:
        for path in paths:
            started = time.perf_counter()
            request(port, auth, "GET", path)
            slowest[0] = max(slowest[0], time.perf_counter() - started)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return slowest[0]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    return (statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000)


def filter_cases(rng: random.Random, since: str) -> dict[str, callable]:
    """Each filtered query as a function returning fresh parameters."""
    def agent_verb():
        return {"agent": json.dumps({"mbox": f"mailto:trainee{rng.randrange(INPUTS['agents'])}"
                                             "@example.com"}),
                "verb": f"https://skilltrace.example.org/xapi/verbs/v{rng.randrange(40)}"}

    def activity_related():
        return {"activity": "https://skilltrace.example.org/xapi/courses/"
                            f"c{rng.randrange(INPUTS['parents'])}",
                "related_activities": "true"}

    def registration():
        return {"registration": str(uuid.UUID(int=rng.randrange(INPUTS["registrations"])))}

    return {"agent+verb": agent_verb, "activity+related_activities": activity_related,
            "registration": registration, "since": lambda: {"since": since}}


def naive_sql(dialect: str, case: str, params: dict) -> tuple[str, dict]:
    """The same filter as a scan of the statement JSON, without the link tables."""
    if dialect == "postgresql":
        get = {"mbox": "payload->'actor'->>'mbox'", "verb": "payload->'verb'->>'id'",
               "object": "payload->'object'->>'id'",
               "parent": "payload->'context'->'contextActivities'->'parent'->0->>'id'",
               "registration": "payload->'context'->>'registration'"}
    else:
        get = {"mbox": "json_extract(payload, '$.actor.mbox')",
               "verb": "json_extract(payload, '$.verb.id')",
               "object": "json_extract(payload, '$.object.id')",
               "parent": "json_extract(payload, '$.context.contextActivities.parent[0].id')",
               "registration": "json_extract(payload, '$.context.registration')"}
    if case == "agent+verb":
        where = f"{get['mbox']} = :a AND {get['verb']} = :b"
        values = {"a": json.loads(params["agent"])["mbox"], "b": params["verb"]}
    elif case == "activity+related_activities":
        where = f"({get['object']} = :a OR {get['parent']} = :a)"
        values = {"a": params["activity"]}
    elif case == "registration":
        where = f"{get['registration']} = :a"
        values = {"a": params["registration"]}
    else:
        return "", {}
    return (f"SELECT payload FROM lrs_statements WHERE {where} AND NOT is_voided "
            "ORDER BY pk DESC LIMIT 101", values)


def _report_posts(port: int, auth: str, clients: int, seconds: float) -> None:
    warm_up(port, auth, ["/xapi/statements?limit=1"])
    rates = {}
    for batch in (1, 10, 100):
        rates[batch] = bench_posts(port, auth, batch, clients, seconds)
        click.echo(f"  POST batch {batch:>3}: {rates[batch]:8.0f} statements/s")
    click.echo(f"  batching gain (100 vs naive 1): x{rates[100] / rates[1]:.1f}")


def _report_posts_against(servers: dict[str, tuple[int, str]], clients: int, seconds: float,
                          rounds: int) -> None:
    """POST throughput of each server ({label: (port, auth)}), interleaved A B B A ... per
    batch size; every round and the median per label. Each server's workers check the
    credential (argon2) before anything is timed."""
    labels = list(servers)
    for port, auth in servers.values():
        warm_up(port, auth, ["/xapi/statements?limit=1"])
    for batch in (1, 10, 100):
        rates: dict[str, list[float]] = {label: [] for label in labels}
        for round_ in range(rounds):
            for label in labels if round_ % 2 == 0 else reversed(labels):
                rates[label].append(bench_posts(*servers[label], batch, clients, seconds))
        click.echo(f"  POST batch {batch:>3}: " + "; ".join(
            f"{label} median {statistics.median(values):6.0f} statements/s "
            f"(runs {' '.join(f'{v:.0f}' for v in values)})" for label, values in rates.items()))


def _stored_span(engine) -> tuple[datetime, datetime]:
    """The earliest and latest `stored` of the store, as aware UTC datetimes."""
    with engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(stored), max(stored) FROM lrs_statements")).one()
    if isinstance(low, str):  # SQLite hands back its text
        low, high = (datetime.fromisoformat(v) for v in (low, high))
    return tuple(v if v.tzinfo else v.replace(tzinfo=timezone.utc) for v in (low, high))


def window_cases(low: datetime, high: datetime) -> list[tuple[str, dict]]:
    """(label, parameters) of the time-window pages, X at 10 %, 50 % and 90 % of the span."""
    cases = []
    for share in (0.1, 0.5, 0.9):
        moment = (low + (high - low) * share).isoformat()
        cases += [(f"since {share:.0%} ascending", {"since": moment, "ascending": "true"}),
                  (f"since {share:.0%} descending", {"since": moment}),
                  (f"until {share:.0%} alone", {"until": moment})]
    return cases


def _report_windows(port: int, auth: str, engine, limit: int, rounds: int) -> None:
    """Median (and slowest) of `rounds` runs of each time-window page, the cases taken in turn
    within each round (with the size of the page, which is `limit` on a big store)."""
    cases = window_cases(*_stored_span(engine))
    paths = {label: "/xapi/statements?" + urlencode({**params, "limit": str(limit)})
             for label, params in cases}
    warm_up(port, auth, list(paths.values()), clients=2)
    timings: dict[str, list[float]] = {label: [] for label in paths}
    sizes: dict[str, int] = {}
    for _ in range(rounds):
        for label, path in paths.items():
            started = time.perf_counter()
            body = json.loads(request(port, auth, "GET", path))
            timings[label].append(time.perf_counter() - started)
            sizes[label] = len(body["statements"])
    for label, values in timings.items():
        click.echo(f"  GET {label:<24} median {statistics.median(values) * 1000:7.1f} ms  "
                   f"slowest {max(values) * 1000:7.1f} ms  ({sizes[label]} statements)")
    for share in ("10%", "50%", "90%"):
        ascending = statistics.median(timings[f"since {share} ascending"])
        descending = statistics.median(timings[f"since {share} descending"])
        click.echo(f"  since at {share}: ascending / descending = {ascending / descending:.2f}")


def _report_filters(port: int, auth: str, engine, queries: int, limit: int) -> None:
    """p50/p99 of the filtered GETs, each next to the naive JSON scan of the same filter."""
    rng = random.Random(42)
    since = (_stored_span(engine)[1] - timedelta(days=2)).isoformat()
    shapes = ["/xapi/statements?" + urlencode({**params_of(), "limit": str(limit)})
              for params_of in filter_cases(random.Random(7), since).values()]
    click.echo("  warm-up (per worker: argon2 check of the credential, first compile of "
               f"each query): slowest {warm_up(port, auth, shapes * 2) * 1000:.0f} ms")
    for case, params_of in filter_cases(rng, since).items():
        timings = []
        for _ in range(queries):
            params = {**params_of(), "limit": str(limit)}
            started = time.perf_counter()
            request(port, auth, "GET", "/xapi/statements?" + urlencode(params))
            timings.append(time.perf_counter() - started)
        p50, p99 = percentiles(timings)
        line = f"  GET {case:<28} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
        sql, values = naive_sql(engine.dialect.name, case, params_of())
        if sql:
            naive = []
            for _ in range(3):
                sql, values = naive_sql(engine.dialect.name, case, params_of())
                started = time.perf_counter()
                with engine.connect() as conn:
                    conn.execute(text(sql), values).fetchall()
                naive.append(time.perf_counter() - started)
            line += f"   | naive JSON scan (SQL only) p50 {statistics.median(naive) * 1000:8.1f} ms"
        click.echo(line)


def _report_page_all(server: Server, port: int, auth: str) -> None:
    """Page through the whole store with `more`, sampling the workers' memory."""
    path, pages, samples = "/xapi/statements?limit=500", 0, []
    started = time.perf_counter()
    while path:
        body = json.loads(request(port, auth, "GET", path))
        path = body["more"]
        pages += 1
        if pages % 200 == 1:
            samples.append(max(rss for rss, _ in server.worker_memory().values()))
    samples.append(max(rss for rss, _ in server.worker_memory().values()))
    click.echo(f"  paged through the store: {pages} pages in "
               f"{time.perf_counter() - started:.0f} s; worker RSS MiB along the way: "
               + " ".join(f"{kib / 1024:.0f}" for kib in samples))


def _database(backend: str, pg_url: str, work: Path, name: str, keep: bool):
    """(SQLAlchemy URL, drop function or None) of the store `name`: a fresh one unless `keep`."""
    if backend == "sqlite":
        db_file = work / f"{name}.db"
        for suffix in ("", "-wal", "-shm") if not keep else ():
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db_file}", None
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"

    def drop_database():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return url, None if keep else drop_database


def _serve(tree: Path, url: str, port: int) -> tuple[Server, str]:
    """Migrate the store with `tree`'s code, create a credential, start gunicorn; return the
    server and the Authorization header."""
    env = {**os.environ, "DATABASE_URL": url, "SKILLTRACE_ENV": "development"}
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=tree, env=env, check=True, capture_output=True)
    pair = json.loads(subprocess.run(
        [*flask, "lrs", "credentials", "create", "--name", "bench", "--scopes", "all"],
        cwd=tree, env=env, check=True, capture_output=True, text=True).stdout)
    auth = "Basic " + base64.b64encode(f"{pair['key']}:{pair['secret']}".encode()).decode()
    return Server(env, port, tree), auth


@click.command()
@click.option("--db", "backend", type=click.Choice(["sqlite", "postgresql"]), default="sqlite")
@click.option("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
              show_default=True, help="PostgreSQL server; a fresh database is made there.")
@click.option("--port", default=5180, show_default=True)
@click.option("--statements", "store_size", default=1_000_000, show_default=True,
              help="Store size for the GET measurements (bulk-loaded).")
@click.option("--clients", default=8, show_default=True)
@click.option("--seconds", default=10.0, show_default=True, help="Per POST batch size.")
@click.option("--queries", default=200, show_default=True, help="GETs per filter.")
@click.option("--limit", default=100, show_default=True, help="Page size of the GETs.")
@click.option("--page-all/--no-page-all", default=True, show_default=True,
              help="Page through the whole store with `more`, watching worker memory.")
@click.option("--workdir", default="/tmp/lrs_bench", show_default=True)
@click.option("--keep", default=None, metavar="NAME",
              help="Keep the store between runs: SQLite file NAME.db in --workdir, or "
                   "PostgreSQL database NAME (reused, migrated, not dropped).")
@click.option("--post/--no-post", default=True, show_default=True,
              help="Measure POST throughput.")
@click.option("--filters/--no-filters", default=True, show_default=True,
              help="Measure the filtered GETs against the naive JSON scan.")
@click.option("--windows/--no-windows", default=True, show_default=True,
              help="Measure since ascending / descending and until alone.")
@click.option("--rounds", default=5, show_default=True,
              help="Runs of each time-window page, and of each POST batch size per tree "
                   "with --base-tree (medians reported).")
@click.option("--base-tree", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Another checkout whose POST throughput is measured in the "
                                 "same run, interleaved with this one's (own fresh store).")
def main(backend, pg_url, port, store_size, clients, seconds, queries, limit, page_all,
         workdir, keep, post, filters, windows, rounds, base_tree) -> None:
    """Benchmark the LRS over HTTP on SQLite or PostgreSQL (see the module docstring)."""
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    drops, servers = [], []
    try:
        url, drop = _database(backend, pg_url, work, keep or f"lrs_bench_{os.getpid()}",
                              keep is not None)
        drops.append(drop)
        server, auth = _serve(ROOT, url, port)
        servers.append(server)
        click.echo(f"LRS benchmark on {backend}: gunicorn -w 2, {clients} clients; "
                   f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        if base_tree is not None:
            base_url, base_drop = _database(backend, pg_url, work,
                                            f"lrs_bench_base_{os.getpid()}", False)
            drops.append(base_drop)
            base_server, base_auth = _serve(base_tree.resolve(), base_url, port + 1)
            servers.append(base_server)
            click.echo(f"  this tree ({ROOT}) against {base_tree}, interleaved:")
            _report_posts_against({"this": (port, auth), "base": (port + 1, base_auth)},
                                  clients, seconds, rounds)
            base_server.stop()
            servers.remove(base_server)
        elif post:
            _report_posts(port, auth, clients, seconds)

        engine = create_engine(url)
        with engine.connect() as conn:
            have = conn.execute(text("SELECT count(*) FROM lrs_statements")).scalar()
        if have < store_size:
            missing = store_size - have
            click.echo(f"  bulk load of {missing} statements: "
                       f"{load_store(url, server.env, auth, missing):.0f} s "
                       f"(store: {store_size})")
        if filters:
            _report_filters(port, auth, engine, queries, limit)
        if windows:
            _report_windows(port, auth, engine, limit, rounds)
        engine.dispose()

        peak = server.worker_memory()
        click.echo("  worker memory after the above (RSS / peak, MiB): " + ", ".join(
            f"{rss / 1024:.0f}/{hwm / 1024:.0f}" for rss, hwm in peak.values()))
        if page_all:
            _report_page_all(server, port, auth)
        click.echo(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        for running in servers:
            running.stop()
        for drop in drops:
            if drop is not None:
                drop()


if __name__ == "__main__":
    main()
