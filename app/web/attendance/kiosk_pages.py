"""`/kiosks`: the institution's staff provision check-in kiosks (an administrator for any
institution): the list with each kiosk's state and address ranges, a form for a new one whose
one-time enrolment code is shown on the answer page only, and revocation (re-provisioning is how a
kiosk's device key is rotated)."""
from __future__ import annotations

import uuid

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors.exceptions import NotFoundError, PermissionDeniedError, SkillTraceError
from app.extensions import db
from app.models import Kiosk, Role
from app.queries import catalogue as catalogue_queries
from app.services import kiosks
from app.services.policy import can_manage_kiosk
from app.web.access import role_required
from app.web.attendance import bp
from app.web.forms import act_then_redirect, field

STATE_WORDS = {"bound": _l("in use (device key bound)"), "waiting": _l("waiting for its enrolment code"),
               "expired": _l("enrolment code expired: revoke and create again"), "revoked": _l("revoked")}


def _institution_id():
    """An instructor's own institution; an administrator's choice from the form."""
    if current_user.role != Role.ADMIN:
        return current_user.institution_id
    try:
        return uuid.UUID(field("institution_id"))
    except ValueError:
        return None


def _screen_facing() -> bool:
    """The form's "screen faces the trainee" box (an unticked box sends nothing; a form without
    the box keeps the default, on)."""
    return "screen_facing_shown" not in request.form or request.form.get("screen_facing") == "on"


def _page(status: int = 200, **context):
    institutions = (catalogue_queries.list_listed(db.session, "institution")
                    if current_user.role == Role.ADMIN else [])
    page = {"form": request.form, "problem": "", "problems": {}, "made": None, "code": None, **context}
    return render_template("attendance/kiosks.html", kiosks=kiosks.list_kiosks(current_user),
                           state=kiosks.kiosk_state, state_words=STATE_WORDS, institutions=institutions,
                           code_hours=kiosks.code_hours(), **page), status


@bp.route("/kiosks", methods=["GET", "POST"])
@role_required(Role.INSTRUCTOR, Role.ADMIN)
def manage_kiosks():
    """GET: the kiosks and the form. POST: create one; the page shows its enrolment code once."""
    if request.method == "POST":
        try:
            kiosk, code = kiosks.create_kiosk(current_user, field("name"), _institution_id(), field("site"),
                                              field("allowed_ranges"), screen_facing=_screen_facing())
        except SkillTraceError as exc:
            return _page(400, problem=exc.message, problems=exc.errors)
        return _page(201, made=kiosk, code=code, form={})
    return _page()


@bp.route("/kiosks/<uuid:kiosk_id>/revoke", methods=["POST"])
@role_required(Role.INSTRUCTOR, Role.ADMIN)
def revoke_kiosk(kiosk_id: uuid.UUID):
    """Revoke a kiosk of one's institution: its device key stops working at once.

    :raise 404: no such kiosk. :raise 403: another institution's kiosk.
    """
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFoundError(_("No such kiosk."))
    if not can_manage_kiosk(current_user, kiosk.institution_id):
        raise PermissionDeniedError(_("Only the institution's own staff register its kiosks."))
    return act_then_redirect(lambda: kiosks.revoke_kiosk(current_user, kiosk.key),
                             _("Kiosk %(name)s revoked.", name=kiosk.name), url_for("attendance.manage_kiosks"))
