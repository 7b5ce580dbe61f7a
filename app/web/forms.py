"""Small helpers shared by the plain HTML forms of the web pages."""
from __future__ import annotations

import uuid
from datetime import date

from flask import flash, redirect, request
from flask_babel import gettext as _

from app.errors.exceptions import SkillTraceError, ValidationError


def field(name: str) -> str:
    """A posted text field, stripped ('' when absent)."""
    return request.form.get(name, "").strip()


def date_field(name: str, errors: dict, required: bool = True) -> date | None:
    """A posted YYYY-MM-DD date; records a message in ``errors`` when it is wrong."""
    value = field(name)
    if not value:
        if required:
            errors[name] = _("Required.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def int_field(name: str, errors: dict) -> int | None:
    """A posted whole number; records a message in ``errors`` when it is wrong."""
    try:
        return int(field(name))
    except ValueError:
        errors[name] = _("Enter a whole number.")
        return None


def uuid_field(name: str, errors: dict) -> uuid.UUID | None:
    """A posted id; records a message in ``errors`` when it is missing or malformed."""
    try:
        return uuid.UUID(field(name))
    except ValueError:
        errors[name] = _("Choose an entry from the list.")
        return None


def raise_if(errors: dict) -> None:
    """Raise the collected form problems as one ValidationError."""
    if errors:
        raise ValidationError.of_fields(errors)


def act_then_redirect(action, success, back_url: str):
    """The one flash-and-redirect of the form posts: run ``action``; flash ``success`` (text, or
    a function of the action's result) or the refusal's message, and redirect to ``back_url``.
    A permission refusal (403) or an unknown object (404) is not a form error: it propagates to
    the error page."""
    try:
        result = action()
    except SkillTraceError as exc:
        flash_refusal(exc)
    else:
        flash(success(result) if callable(success) else success, "info")
    return redirect(back_url)


def flash_refusal(exc: SkillTraceError) -> None:
    """Flash a refused form post's message; re-raise a 403 or 404 for the error page."""
    if exc.status in (403, 404):
        raise exc
    flash(exc.message, "error")
