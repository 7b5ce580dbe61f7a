"""The session editor of the class-opening form: rows of date, times, kind and place posted as
parallel lists (``s_day``, ``s_start``, ``s_end``, ``s_kind``, ``s_place``), a repeat rule
expanded into rows for review before saving, and the planned hours and clash warnings shown
beside them. Parsing and rules are in `app.services.session_plans`; this module reads the form."""
from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from app.clock import LOCAL_TZ
from app.extensions import db
from app.models import Programme
from app.services import session_plans
from app.services.session_plans import SessionRow

BLANK_ROWS = 2   # empty rows offered after the filled ones (adding rows without JavaScript)
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


def rows_from_form() -> list[SessionRow]:
    """The editor's rows as posted."""
    columns = [request.form.getlist(f"s_{name}") for name in ("day", "start", "end", "kind", "place")]
    return [SessionRow(*(col[i] if i < len(col) else "" for col in columns)) for i in range(len(columns[0]))]


def rows_of(sessions) -> list[SessionRow]:
    """Saved or expanded sessions as editor rows (Beijing time, ISO dates for the date pickers)."""
    rows = []
    for s in sessions:
        start, end = s.starts_at.astimezone(LOCAL_TZ), s.ends_at.astimezone(LOCAL_TZ)
        rows.append(SessionRow(f"{start:%Y-%m-%d}", f"{start:%H:%M}", f"{end:%H:%M}",
                               getattr(s.kind, "value", s.kind), "在线" if s.online else s.place))
    return rows


def shown_rows(rows: list[SessionRow]) -> list[SessionRow]:
    """The rows to render: filled ones with dates and times normalised where they parse (so the
    pickers show them), then `BLANK_ROWS` empty ones."""
    shown = []
    for row in (r for r in rows if not r.is_blank()):
        day = session_plans.parse_day(row.day)
        start, end = session_plans.parse_times(row.start, row.end)
        shown.append(SessionRow(day.isoformat() if day else row.day, f"{start:%H:%M}" if start else row.start,
                                f"{end:%H:%M}" if end else row.end, row.kind, session_plans.normalise(row.place)))
    return shown + [SessionRow("", "", "", "theory", "") for _ in range(BLANK_ROWS)]


def repeat_from_form() -> tuple[session_plans.RepeatRule | None, dict]:
    """The repeat rule's fields parsed (see `session_plans.parse_repeat`)."""
    form = request.form
    return session_plans.parse_repeat(
        form.get("repeat_first", ""), form.get("repeat_last", ""), form.getlist("repeat_weekdays"),
        form.get("repeat_times", ""), form.get("repeat_kind", "theory"), form.get("repeat_place", ""),
        form.get("repeat_skip", ""), form.get("repeat_working_days") == "1")


def plan_review(programme_id, sessions, instructor_ids, trainee_ids, class_id=None) -> dict:
    """What the form and the class page show beside the sessions: planned hours against the
    programme's, and clash warnings."""
    programme = db.session.get(Programme, programme_id) if programme_id else None
    return {"planned": session_plans.planned_hours(db.session, programme, sessions) if programme else None,
            "clashes": session_plans.clash_warnings(db.session, sessions, instructor_ids, trainee_ids, class_id)}
