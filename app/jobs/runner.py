"""Build and run the scheduler: the job store, the single-instance lock and app contexts."""
from __future__ import annotations

import fcntl
import logging
from contextlib import contextmanager
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.jobs.registry import RECURRING_JOBS

log = logging.getLogger(__name__)
_LOCK_KEY = 0x5354_5343_4845_44  # "STSCHED"
_app: Flask | None = None  # the app of this scheduler process, set by `run_scheduler`


class SchedulerBusyError(RuntimeError):
    """Another scheduler process holds the lock."""


@contextmanager
def single_instance(app: Flask):
    """Hold the scheduler lock while the block runs.

    :raise SchedulerBusyError: another scheduler holds it.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY}).scalar():
                raise SchedulerBusyError("another scheduler is running on this database")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
        return
    path = Path(app.instance_path) / "scheduler.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SchedulerBusyError(f"another scheduler holds {path}") from None
        yield


def run_job(name: str) -> None:
    """Run one recurring job in the scheduler's app context (the function the store keeps)."""
    with _app.app_context():
        try:
            log.info("job %s: %s", name, RECURRING_JOBS[name].func())
        finally:
            db.session.remove()


def build_scheduler(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler with its jobs in the app's database, one run at a time per job."""
    store = SQLAlchemyJobStore(engine=db.engine, tablename="apscheduler_jobs")
    scheduler = scheduler_class(jobstores={"default": store}, timezone="UTC",
                                  job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 300})
    for name, job in RECURRING_JOBS.items():
        trigger_args = job.trigger_args(app.config) if callable(job.trigger_args) else job.trigger_args
        scheduler.add_job(run_job, job.trigger, args=[name], id=name, replace_existing=True, **trigger_args)
    return scheduler


def run_scheduler(app: Flask, once: bool = False) -> list[str]:
    """Run the scheduler until stopped; with ``once``, run every recurring job once and return
    their names (for tests and cron-style use)."""
    global _app
    _app = app
    with single_instance(app):
        if once:
            for name in RECURRING_JOBS:
                run_job(name)
            return list(RECURRING_JOBS)
        build_scheduler(app).start()
    return []
