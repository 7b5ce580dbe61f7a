"""The one place that commits: `with transaction(): ...` around a service's unit of work."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app.database import WRITE_OPTION
from app.extensions import db


@contextmanager
def transaction() -> Iterator[Session]:
    """Yield the session; commit when the block succeeds, roll back when it raises.

    A read-only transaction left open by the request (loading the signed-in user, say) is
    ended first, so the unit of work starts with the write lock (``BEGIN IMMEDIATE`` on SQLite)
    and sees the latest committed state.
    """
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unflushed changes outside a service transaction")
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
