"""Domain exceptions raised by services; `app.errors.handlers` turns them into responses.

    SkillTraceError             base; never raised itself
    ├── ValidationError         400: the input is malformed or breaks a rule (field problems listed)
    ├── PermissionDeniedError   403: the actor may not do this
    ├── NotFoundError           404: the object does not exist (or is not visible to the actor)
    ├── ConflictError           409: the object exists already or is in the wrong state
    └── UnavailableError        503: a part the action needs (face models, keys) cannot be used
"""
from __future__ import annotations


class SkillTraceError(Exception):
    """Base of every domain error: a stable machine code and a message for people."""

    status = 500
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.errors = errors or {}


class ValidationError(SkillTraceError):
    """The input is malformed or breaks a business rule."""

    status = 400
    code = "invalid"

    @classmethod
    def of_fields(cls, errors: dict) -> "ValidationError":
        """One error for several fields: the message is their problems in words (the field
        names, which are codes, stay in ``errors`` for the form and the API)."""
        return cls("；".join(str(v) for v in errors.values()), errors=errors)


class PermissionDeniedError(SkillTraceError):
    """The actor's role or scope does not allow the action."""

    status = 403
    code = "forbidden"


class NotFoundError(SkillTraceError):
    """The object does not exist or is not visible to the actor."""

    status = 404
    code = "not_found"


class ConflictError(SkillTraceError):
    """The object already exists or is in a state that forbids the action."""

    status = 409
    code = "conflict"


class UnavailableError(SkillTraceError):
    """A part the action needs cannot be used now (face models missing, a template key gone)."""

    status = 503
    code = "unavailable"
