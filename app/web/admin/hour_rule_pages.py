"""`/admin/hour-rules` (administrators): each listed programme's hour rule in force today and its
versions, and the form adding a version from an effective date (`hour_rules.set_hour_rule`, the
same service as `flask hours rules set`)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.clock import local_today
from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import Role
from app.queries import catalogue as catalogue_queries
from app.services import hour_rules
from app.web.access import role_required
from app.web.admin import bp
from app.web.forms import date_field, int_field, raise_if, uuid_field


def _programmes() -> list[dict]:
    return [{"programme": p, "in_force": hour_rules.rules_for(db.session, p.id),
             "versions": hour_rules.history(db.session, p.id)}
            for p in catalogue_queries.list_listed(db.session, "programme")]


def _page(status: int = 200, problem: str = "", problems: dict | None = None):
    form = request.form if request.method == "POST" else {
        "effective_from": local_today().isoformat(), "hour_length": "45", "unit": "1", "daily_cap": "480",
        "tolerance": "15", "practical_percent": "0", "roll_calls_per_hour": "2"}
    return render_template("admin/hour_rules.html", programmes=_programmes(), form=form, problem=problem,
                           errors=problems or {}, hour_lengths=hour_rules.HOUR_LENGTHS,
                           max_roll_calls=hour_rules.MAX_ROLL_CALLS_PER_HOUR), status


def _posted() -> tuple:
    errors: dict = {}
    programme_id = uuid_field("programme_id", errors)
    numbers = {name: int_field(name, errors) for name in ("hour_length", "unit", "daily_cap", "tolerance",
                                                          "practical_percent", "roll_calls_per_hour")}
    effective_from = date_field("effective_from", errors)
    raise_if(errors)
    return programme_id, hour_rules.RuleInput(effective_from, **numbers)


@bp.route("/hour-rules", methods=["GET", "POST"], endpoint="hour_rules")
@role_required(Role.ADMIN)
def hour_rules_page():
    """GET: the rules of every listed programme with their versions. POST: add a version; the
    form again with the problem (400 for a bad field, 409 for a back-dated version)."""
    if request.method == "POST":
        try:
            programme_id, values = _posted()
            rule = hour_rules.set_hour_rule(current_user, programme_id, values)
        except SkillTraceError as exc:
            return _page(exc.status, exc.message, exc.errors)
        flash(_("Version %(v)s of the hour rule is in force from %(day)s.", v=rule.version,
                day=rule.effective_from.isoformat()), "info")
        return redirect(url_for("admin.hour_rules"))
    return _page()
