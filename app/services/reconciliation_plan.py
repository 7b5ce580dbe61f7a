"""Planner steering of the reconciliation: which index each whole-table join walks (SQLite's
INDEXED BY hints), per-query settings (PostgreSQL merge joins only, memory, no JIT or parallel
workers; SQLite's memory map and page cache) and the runner taking the checks on two
connections at once. The checks themselves (`app.services.reconciliation`) say only what is
compared."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

#: Settings of the reconciliation's read transaction (see `full_scan_settings`).
_PG_WORK_MEM = "1GB"
_PG_MERGE_ONLY = ("enable_hashjoin", "enable_nestloop", "enable_sort")
_SQLITE_SCAN_PRAGMAS = {"mmap_size": (1 << 32, 0), "cache_size": (-262144, -2000)}  # (value, default)


def walk(select_, entity, index: str, scope=None):
    """``select_`` told to read ``entity`` (a model or an alias) through ``index`` on SQLite
    (one of `app.models.reconciliation_indexes`: covering, in join-key order). A run scoped to
    one trainee (``scope``) drives from the scope's own indexes instead."""
    if scope is not None and scope.trainee_id is not None:
        return select_
    return select_.with_hint(inspect(entity).selectable, f"INDEXED BY {index}", "sqlite")


def run_walk(session: Session, query, scope) -> list:
    """The rows of ``query``, a whole-table join along walk indexes. PostgreSQL is told, for this
    query only, to merge-join without sorting, so that it merges the indexes' ordered index-only
    scans (its cost model prefers hashing whole tables, which took two to three times as long at
    1M intervals); SQLite follows ``query``'s hints (`walk`). A run scoped to one trainee runs
    ``query`` as it is."""
    conn = session.connection()
    if scope.trainee_id is not None or conn.dialect.name != "postgresql":
        return session.execute(query).all()
    for setting in _PG_MERGE_ONLY:
        conn.exec_driver_sql(f"SET LOCAL {setting} = off")
    rows = session.execute(query).all()
    for setting in _PG_MERGE_ONLY:  # (a failed query leaves a transaction only good for rollback)
        conn.exec_driver_sql(f"SET LOCAL {setting} TO DEFAULT")
    return rows


@contextmanager
def full_scan_settings(session: Session, scope):
    """Give a whole-database run room for whole-table joins: on PostgreSQL memory for the one
    hash join left (the ledger's minutes), no JIT and no parallel workers; on SQLite a
    memory-mapped file and a larger page cache for this connection (index probes then read pages
    in place instead of through read() calls). A run scoped to one trainee follows indexes and
    keeps the defaults."""
    conn = session.connection()
    if scope.trainee_id is not None:
        yield
        return
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{_PG_WORK_MEM}'")
        conn.exec_driver_sql("SET LOCAL jit = off")  # compiling each big query cost ~0.9 s
        # the run's own two connections use both cores; parallel workers would only contend
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        yield
        return
    for pragma, (value, _default) in _SQLITE_SCAN_PRAGMAS.items():
        conn.exec_driver_sql(f"PRAGMA {pragma} = {value}")
    try:
        yield
    finally:
        for pragma, (_value, default) in _SQLITE_SCAN_PRAGMAS.items():
            conn.exec_driver_sql(f"PRAGMA {pragma} = {default}")


def run_checks(session: Session, checks, scope) -> dict:
    """{check: its result} for each of ``checks`` on ``session``, under `full_scan_settings`."""
    with full_scan_settings(session, scope):
        return {check: check(session, scope) for check in checks}


def run_on_own_connection(engine: Engine, checks, scope) -> dict:
    """`run_checks` on a session of its own (a connection of its own) of ``engine``."""
    with Session(engine) as session:
        return run_checks(session, checks, scope)


def has_own_connections(engine: Engine) -> bool:
    """Whether a second connection sees the same database (not so for in-memory SQLite)."""
    return engine.dialect.name != "sqlite" or engine.url.database not in (None, "", ":memory:")


def run_in_parallel(engine: Engine, checks, scope) -> dict:
    """Every check of ``checks`` (longest first) on two connections of ``engine`` at once, each
    taking the next check when it is done with one: {check: its result}."""
    results: dict = {}
    with ThreadPoolExecutor(2) as pool:
        for done in pool.map(lambda check: run_on_own_connection(engine, (check,), scope), checks):
            results.update(done)
    return results

