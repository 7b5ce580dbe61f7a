"""The store contract: a typed statement query and the abstract `LRSStore` that the HTTP
service and the app use. One implementation (`storage.sqlalchemy`) serves both databases."""

from __future__ import annotations

import abc
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class StatementQuery:
    """The filters of GET /statements, already parsed (names follow the spec's parameters).

    `agent` is a canonical IFI (see `lrs.models.agents.agent_ifi`); `after_pk` is the paging
    cursor carried by `more` links; `credential_id` restricts to one client's statements
    (statements/read/mine).
    """

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: uuid.UUID | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    ascending: bool = False
    after_pk: int | None = None
    credential_id: uuid.UUID | None = None


class LRSStore(abc.ABC):
    """What the service needs from storage: sessions and a unit of work.

    Implementations also carry `max_limit` (the largest page), `secrets` (the
    `lrs.auth.SecretHasher` for credentials), `principals` (the per-process
    `lrs.auth.CredentialCache`) and `cursor_key` (signs `more` tokens; the same in every
    process).
    """

    max_limit: int
    cursor_key: bytes

    @abc.abstractmethod
    def session(self) -> Session:
        """The session to read and write with."""

    @abc.abstractmethod
    def transaction(self, write: bool = False) -> AbstractContextManager[Session]:
        """A unit of work: commit on success, roll back on any error; `write` when it writes."""
