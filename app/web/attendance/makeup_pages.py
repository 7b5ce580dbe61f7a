"""``/me/makeup`` (trainees): make-up study (补学) — the trainee's online studies with minutes not
credited that may still be made up (with the deadline), their claims, and the form claiming one
(field ``interval_id``); the next online study of that class is then the make-up."""
from __future__ import annotations

import uuid

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import NotFoundError
from app.models import Role
from app.services import makeup
from app.web.access import role_required
from app.web.attendance import bp
from app.web.forms import act_then_redirect


def _interval_id() -> uuid.UUID:
    try:
        return uuid.UUID(request.form.get("interval_id", ""))
    except ValueError:
        raise NotFoundError(_("No such study of yours.")) from None


@bp.route("/me/makeup", methods=["GET", "POST"])
@role_required(Role.TRAINEE)
def my_makeup():
    """GET: what may be made up and the claims. POST: claim the make-up of ``interval_id``."""
    if request.method == "POST":
        return act_then_redirect(
            lambda: makeup.claim(current_user, _interval_id()),
            lambda made: _("Make-up of %(n)s minutes claimed: start online study of this class by %(day)s; "
                           "it is credited under face roll-calls like any study.",
                           n=made.missing_minutes, day=made.deadline.isoformat()),
            url_for("attendance.my_makeup"))
    gaps, claims = makeup.for_trainee(current_user)
    return render_template("attendance/my_makeup.html", gaps=gaps, claims=claims)
