"""Exceptions raised by the LRS, each carrying the HTTP status the xAPI specification names.

    LRSError
    ├── BadRequestError          400  malformed request or statement
    ├── UnauthorizedError        401  missing or wrong credentials
    ├── ForbiddenError           403  credentials lack the scope
    ├── NotFoundError            404  no such statement, document or activity
    ├── ConflictError            409  same id with other content, or a document changed
    ├── PreconditionFailedError  412  If-Match / If-None-Match not met
    ├── PayloadTooLargeError     413  request body over the configured limit
    ├── StorageError             500  the store failed (never for bad input)
    └── StoreUnavailableError    503  the database does not answer (retry later)
"""

from __future__ import annotations


class LRSError(Exception):
    """Base of every LRS error; `status` is the HTTP status to answer with."""

    status = 500
    code = "lrs_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequestError(LRSError):
    """The request or the statement breaks a rule of the specification."""

    status = 400
    code = "bad_request"


class UnauthorizedError(LRSError):
    """No credentials, or credentials that do not match an active key."""

    status = 401
    code = "unauthorized"


class ForbiddenError(LRSError):
    """The credential lacks the scope the request needs."""

    status = 403
    code = "forbidden"


class NotFoundError(LRSError):
    """The statement, document or activity does not exist."""

    status = 404
    code = "not_found"


class ConflictError(LRSError):
    """A statement id already stored with other content, or a document changed meanwhile."""

    status = 409
    code = "conflict"


class PreconditionFailedError(LRSError):
    """An If-Match or If-None-Match header was not satisfied."""

    status = 412
    code = "precondition_failed"


class PayloadTooLargeError(LRSError):
    """The request body is larger than the configured limit."""

    status = 413
    code = "payload_too_large"


class StorageError(LRSError):
    """The store failed; a bug or an outage, never the client's fault."""

    status = 500
    code = "storage_error"


class StoreUnavailableError(LRSError):
    """The database does not answer (connection refused or lost); the client may retry."""

    status = 503
    code = "store_unavailable"
