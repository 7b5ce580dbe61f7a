"""xAPI Learning Record Store: a Flask blueprint at /xapi and its storage layer. It never
imports `app`; the host calls `init_app(app, get_session)` and uses `metadata` in Alembic."""

from __future__ import annotations

from typing import Callable

from flask import Flask
from sqlalchemy.orm import Session

from lrs.auth import CredentialCache, SecretHasher
from lrs.exceptions import (BadRequestError, ConflictError, ForbiddenError, LRSError,
                            NotFoundError, PreconditionFailedError, UnauthorizedError)
from lrs.service import record_statement
from lrs.storage.base import LRSStore, StatementQuery
from lrs.storage.sqlalchemy import SQLAlchemyStore
from lrs.storage.tables import metadata

__all__ = [
    "init_app", "metadata", "record_statement", "LRSStore", "SQLAlchemyStore",
    "StatementQuery", "LRSError", "BadRequestError", "UnauthorizedError", "ForbiddenError",
    "NotFoundError", "ConflictError", "PreconditionFailedError",
]


#: The authority's homePage when the host configures none: a reserved name (RFC 2606), so it
#: can never be mistaken for, or be made to be, a real site.
DEFAULT_AUTHORITY_HOMEPAGE = "https://lrs.invalid"


def init_app(app: Flask, get_session: Callable[[], Session],
             write_options: dict | None = None) -> None:
    """Register the /xapi blueprint, the store and the `flask lrs` CLI group on `app`.

    `write_options` are execution options for the connection of a writing unit of work (the
    host's way to take a write lock up front, e.g. BEGIN IMMEDIATE on SQLite).

    Config read: LRS_MAX_LIMIT (largest page, default 500), LRS_MAX_BODY_BYTES (default
    32 MiB), LRS_AUTHORITY_HOMEPAGE (the `account.homePage` of the authority
    the LRS puts on statements; never taken from the request, default DEFAULT_AUTHORITY_HOMEPAGE),
    LRS_CURSOR_KEY (signs `more` links, default SECRET_KEY; one of them is required),
    LRS_FALLBACK_VERSION (version header answered to requests without a usable one;
    default "2.0.0"; a client that declared a version earlier is answered in that one),
    LRS_CREDENTIAL_CACHE_SECONDS (how long a process trusts a verified key/secret without
    looking it up again, so the longest a revocation takes to reach other processes;
    default 5, 0 disables) and LRS_SECRET_HASH_COST (argon2 `time_cost`/`memory_cost`;
    tests only).
    """
    from lrs.blueprint import bp
    from lrs.cli import lrs_cli

    cost = app.config.get("LRS_SECRET_HASH_COST", {})
    store = app.extensions["lrs_store"] = SQLAlchemyStore(get_session,
                                                  app.config.get("LRS_MAX_LIMIT", 500),
                                                  SecretHasher(**cost), write_options,
                                                  CredentialCache(app.config.get(
                                                      "LRS_CREDENTIAL_CACHE_SECONDS", 5.0)))
    key = app.config.get("LRS_CURSOR_KEY") or app.config.get("SECRET_KEY")
    if not key:
        raise RuntimeError("the LRS needs LRS_CURSOR_KEY or SECRET_KEY to sign `more` links")
    store.cursor_key = key.encode() if isinstance(key, str) else key
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        # xAPI clients authenticate every request with HTTP Basic; there is no form session.
        csrf.exempt(bp)
    app.register_blueprint(bp, url_prefix="/xapi")
    app.cli.add_command(lrs_cli)
