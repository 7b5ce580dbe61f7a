"""Background jobs run by one scheduler process (`flask --app wsgi scheduler run`).

APScheduler 3 keeps its jobs in the app's database (SQLAlchemy job store), so schedules survive
a restart. Exactly one scheduler runs however many web workers there are: it holds a lock for
its whole life (a PostgreSQL advisory lock, or an exclusive lock on a file in the instance
folder for SQLite) and a second one exits with a message. Each job runs in an app context,
calls one service and is idempotent, so a job run twice after a crash changes nothing more.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `flask scheduler` command group."""
    from app.jobs.cli import scheduler_cli

    app.cli.add_command(scheduler_cli)
