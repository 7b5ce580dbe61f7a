"""A minimal Flask app hosting only the LRS, for tests and for running the conformance suite
and the benchmark before (and apart from) the SkillTrace app. Not imported by `lrs`.

    LRS_DATABASE_URL=sqlite:///lrs.db gunicorn 'tests.lrs.standalone:create_app()'
"""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import create_engine, event
from sqlalchemy.orm import scoped_session, sessionmaker

import lrs


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_app(database_url: str | None = None, config: dict | None = None) -> Flask:
    """An app with the LRS at /xapi over `database_url` (default $LRS_DATABASE_URL)."""
    url = database_url or os.environ.get("LRS_DATABASE_URL", "sqlite:///instance/lrs.db")
    app = Flask(__name__)
    app.config.update(config or {})
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    lrs.metadata.create_all(engine)
    sessions = scoped_session(sessionmaker(engine, expire_on_commit=False))
    app.extensions["lrs_engine"] = engine
    app.extensions["lrs_sessions"] = sessions

    @app.teardown_appcontext
    def _remove_session(_exc) -> None:
        sessions.remove()

    lrs.init_app(app, lambda: sessions())
    return app
