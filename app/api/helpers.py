"""Request parsing and access checks shared by the API modules: the one `api_roles` decorator
(401 ``unauthenticated``, 403 for a role not allowed) and the object checks that run before a
body is read (so that another institution's object answers 403, never a 400)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from functools import wraps

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import NotFoundError, PermissionDeniedError, SkillTraceError, ValidationError
from app.extensions import db
from app.models import HoursEntry, Role
from app.services.classes import get_enrolment_or_404
from app.services.policy import can_reverse_hours


class UnauthenticatedError(SkillTraceError):
    """No one is signed in."""

    status = 401
    code = "unauthenticated"


def api_roles(*roles: Role):
    """Let signed-in accounts with one of ``roles`` through.

    :raise 401: nobody is signed in. :raise 403: the role is not allowed.
    """
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                raise UnauthenticatedError(_("Sign in first."))
            if current_user.role not in roles:
                raise PermissionDeniedError(_("Your role may not do this."))
            return view(*args, **kwargs)
        return wrapped
    return decorator


def acting_on_entry(entry_id) -> None:
    """Authorise correcting this ledger entry (through its own class) before the body is read.

    :raise 404: unknown entry. :raise 403: the entry is in another institution's class.
    """
    entry = db.session.get(HoursEntry, entry_id)
    if entry is None:
        raise NotFoundError(_("No such ledger entry."))
    get_enrolment_or_404(db.session, entry.enrolment_id, current_user, can_reverse_hours)


def json_body() -> dict:
    """The request's JSON object.

    :raise 400: the body is not a JSON object.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_("Send a JSON object with Content-Type: application/json."),
                              code="invalid_json")
    return body


def text(body: dict, name: str, errors: dict, required: bool = True) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
        return ""
    if required and not value.strip():
        errors[name] = _("Required.")
    return value


def whole(body: dict, name: str, errors: dict) -> int | None:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        errors[name] = _("Enter a whole number.")
        return None
    return value


def an_id(value, name: str, errors: dict) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        errors[name] = _("Must be an id (UUID).")
        return None


def a_date(body: dict, name: str, errors: dict, required: bool = True) -> date | None:
    value = body.get(name)
    if value in (None, "") and not required:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def a_time(value, name: str, errors: dict) -> datetime | None:
    """An RFC 3339 timestamp with its offset (naive times are refused)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors[name] = _("Use an RFC 3339 time with offset, e.g. 2026-12-01T09:00:00+08:00.")
        return None
    if moment.tzinfo is None:
        errors[name] = _("Use an RFC 3339 time with offset, e.g. 2026-12-01T09:00:00+08:00.")
        return None
    return moment


def check(errors: dict) -> None:
    """:raise 400: when any field problem was collected."""
    if errors:
        raise ValidationError(_("Some fields are wrong."), errors=errors)
