"""Length limits of text columns, read from the models themselves, checked before a flush.

A value longer than its `String(n)` column is refused by PostgreSQL (a 500 if it got that far)
and silently kept by SQLite; `refuse_overlong` makes both a 400 that names the field, for every
model and every service, without a second list of limits to keep in step with the columns.
"""
from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from sqlalchemy import String, inspect
from sqlalchemy.orm import Session

from app.errors.exceptions import ValidationError


@cache
def text_limits(model) -> dict[str, int]:
    """Attribute name → maximum length, for each length-limited string column of ``model``."""
    mapper = inspect(model)
    return {attr.key: attr.columns[0].type.length for attr in mapper.column_attrs
            if isinstance(attr.columns[0].type, String) and attr.columns[0].type.length}


def overlong_fields(obj) -> dict[str, int]:
    """Attribute name → limit, for each string attribute of ``obj`` longer than its column."""
    return {key: limit for key, limit in text_limits(type(obj)).items()
            if isinstance(value := getattr(obj, key, None), str) and len(value) > limit}


def refuse_overlong(session: Session, _context, _instances) -> None:
    """``before_flush`` hook: a ValidationError naming every too-long field of new or changed
    objects; nothing is written."""
    errors = {}
    for obj in list(session.new) + list(session.dirty):
        for key, limit in overlong_fields(obj).items():
            errors[key] = _("At most %(n)s characters.", n=limit)
    if errors:
        raise ValidationError.of_fields(errors)
