"""The SQLAlchemy implementation of `LRSStore`, one for SQLite and PostgreSQL alike; the
session comes from the host application (Flask-SQLAlchemy's scoped session in SkillTrace)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from lrs.auth import SecretHasher
from lrs.exceptions import ConflictError, LRSError, StorageError
from lrs.storage.base import LRSStore


class SQLAlchemyStore(LRSStore):
    """Store over a `get_session` callable; `max_limit` caps a page of statements."""

    def __init__(self, get_session: Callable[[], Session], max_limit: int = 500,
                 secrets: SecretHasher | None = None) -> None:
        self._get_session = get_session
        self.max_limit = max_limit
        self.secrets = secrets or SecretHasher()

    def session(self) -> Session:
        """The session from the host application."""
        return self._get_session()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit on success; roll back and re-raise on an LRS error; wrap database errors."""
        session = self._get_session()
        try:
            yield session
            session.commit()
        except LRSError:
            session.rollback()
            raise
        except IntegrityError as exc:
            session.rollback()
            # Two requests wrote the same key at once (same statement id, same document).
            raise ConflictError("a concurrent request wrote the same resource; retry") from exc
        except SQLAlchemyError as exc:
            session.rollback()
            raise StorageError(f"storage failed: {exc.__class__.__name__}") from exc
        except BaseException:
            session.rollback()
            raise
