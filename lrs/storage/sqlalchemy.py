"""The SQLAlchemy implementation of `LRSStore`, one for SQLite and PostgreSQL alike; the
session comes from the host application (Flask-SQLAlchemy's scoped session in SkillTrace)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session

from lrs.auth import CredentialCache, SecretHasher
from lrs.exceptions import ConflictError, LRSError, StorageError, StoreUnavailableError
from lrs.storage.base import LRSStore


class SQLAlchemyStore(LRSStore):
    """Store over a `get_session` callable; `max_limit` caps a page of statements."""

    def __init__(self, get_session: Callable[[], Session], max_limit: int = 500,
                 secrets: SecretHasher | None = None,
                 write_options: dict | None = None,
                 principals: CredentialCache | None = None) -> None:
        self._get_session = get_session
        self.max_limit = max_limit
        self.secrets = secrets or SecretHasher()
        self.principals = principals or CredentialCache()
        self._write_options = dict(write_options or {})

    def session(self) -> Session:
        """The session from the host application (a scoped session is resolved)."""
        session = self._get_session()
        return session() if isinstance(session, scoped_session) else session

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Session]:
        """Commit on success; roll back and re-raise on an LRS error; wrap database errors.

        A `write` unit of work first ends any read-only transaction the request left open,
        then opens its connection with the host's `write_options` (SkillTrace's make SQLite
        begin with BEGIN IMMEDIATE, so concurrent writers wait instead of failing).
        """
        session = self.session()
        if write and session.in_transaction():
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("unflushed changes outside an LRS unit of work")
            session.commit()
        try:
            if write:  # may wait for the write lock, and fail when it waited too long
                session.connection(execution_options=self._write_options)
            yield session
            session.commit()
        except LRSError:
            session.rollback()
            raise
        except IntegrityError as exc:
            session.rollback()
            # Two requests wrote the same key at once (same statement id, same document).
            raise ConflictError("a concurrent request wrote the same resource; retry") from exc
        except (OperationalError, InterfaceError) as exc:
            try:
                session.rollback()
            except SQLAlchemyError:
                pass  # the connection is gone; the pool replaces it
            raise StoreUnavailableError(f"database unavailable: {exc.__class__.__name__}") from exc
        except SQLAlchemyError as exc:
            session.rollback()
            raise StorageError(f"storage failed: {exc.__class__.__name__}") from exc
        except BaseException:
            session.rollback()
            raise
