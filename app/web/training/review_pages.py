"""`/reviews`: the reviewer's second-person confirmations. Exemptions (免修) and ID-card
alternative arrangements count only once a reviewer other than the person who started them
confirms them here."""
from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import Role
from app.queries import reviews as queries
from app.services.certificates import confirm_exemption
from app.services.consent import confirm_alternative_verification
from app.web.access import role_required
from app.web.training import bp


@bp.get("/reviews")
@role_required(Role.REVIEWER)
def list_reviews():
    """Pending exemptions and ID-card arrangements (names only; ID numbers stay masked)."""
    return render_template("training/reviews.html", exemptions=queries.list_pending_exemptions(db.session),
                           alternatives=queries.list_pending_alternatives(db.session))


def _confirm(action, done: str):
    try:
        action()
    except SkillTraceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(done, "info")
    return redirect(url_for("training.list_reviews"))


@bp.post("/reviews/exemptions/<uuid:exemption_id>/confirm")
@role_required(Role.REVIEWER)
def confirm_exemption_view(exemption_id: uuid.UUID):
    """Confirm a pending exemption (not one's own)."""
    return _confirm(lambda: confirm_exemption(current_user, exemption_id), _("Exemption confirmed."))


@bp.post("/reviews/alternatives/<uuid:arrangement_id>/confirm")
@role_required(Role.REVIEWER)
def confirm_alternative_view(arrangement_id: uuid.UUID):
    """Confirm a pending ID-card arrangement (not one's own)."""
    return _confirm(lambda: confirm_alternative_verification(current_user, arrangement_id),
                    _("ID-card arrangement confirmed."))
