"""`/audit`: the audit entries, newest first, page by page, narrowed by actor, action, Beijing
date range and object (``?actor=&action=&since=&until=&object=``), and the integrity check (the
recomputed chain and the records reconciled with the LRS)."""
import json
from datetime import date, datetime, time, timedelta

from flask import render_template, request
from flask_babel import gettext as _

from app.clock import LOCAL_TZ
from app.extensions import db
from app.models import Role
from app.queries.audit import EntryFilter, list_actions, list_entries
from app.services.integrity import check_integrity
from app.web.access import role_required
from app.web.audit import bp
from app.services.action_labels import action_label, object_label

PAGE_SIZE = 100
MAX_SEQ = 2**63 - 1  # BIGINT: a larger ?before= would overflow the query
FILTER_ARGS = ("actor", "action", "object", "since", "until")
MAX_TEXT = 100


def _before() -> int | None:
    """``?before=SEQ`` as a sequence number; anything else (text, out of range) means the newest."""
    before = request.args.get("before", type=int)
    return before if before is not None and 0 < before <= MAX_SEQ else None


def _day(name: str, errors: dict) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def _start_of(day: date | None) -> datetime | None:
    """The instant a Beijing calendar day begins."""
    return datetime.combine(day, time(0), LOCAL_TZ) if day is not None else None


def parse_filter() -> tuple[EntryFilter, dict[str, str]]:
    """The filter in the query string and the problems with it (field → message)."""
    errors = {}
    texts = {name: request.args.get(name, "").strip() for name in ("actor", "action", "object")}
    for name, value in texts.items():
        if len(value) > MAX_TEXT:
            errors[name] = _("At most %(n)s characters.", n=MAX_TEXT)
    since, until = _day("since", errors), _day("until", errors)
    if since and until and until < since:
        errors["until"] = _("The end date is before the start date.")
    return EntryFilter(actor=texts["actor"], action=texts["action"], object_id=texts["object"],
                       since=_start_of(since),
                       until=_start_of(until + timedelta(days=1)) if until else None), errors


def payload_text(payload) -> str:
    """An entry's details as JSON with Chinese kept as written (no \\u escapes)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


@bp.route("/")
@role_required(Role.AUDITOR, Role.ADMIN)
def index():
    """Entries newest first (``?before=SEQ`` pages back, keeping the filter) and, on the first
    unfiltered page, every integrity problem, if any (the whole-database check is not repeated for
    each filter or page); a malformed filter is a 400 naming the field, with no entries."""
    where, errors = parse_filter()
    entries = [] if errors else list_entries(db.session, before=_before(), limit=PAGE_SIZE, where=where)
    kept = {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}
    first_page = not kept and not errors and _before() is None
    return render_template("audit/index.html", entries=entries,
                           integrity=check_integrity(db.session) if first_page else None,
                           older=entries[-1].seq if len(entries) == PAGE_SIZE else None,
                           errors=errors, args=request.args, kept=kept, action_label=action_label,
                           object_label=object_label, actions=list_actions(db.session),
                           payload_text=payload_text), 400 if errors else 200
