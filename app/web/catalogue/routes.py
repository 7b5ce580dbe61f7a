"""`/catalogue`: every catalogue on one page for staff; administrators add, revoke and re-list
entries, add subsidy standards and shortage-list periods. Problems come back as messages."""
from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import DeliveryMode, Role, SkillLevel, TrainingCategory
from app.queries import catalogue as catalogue_queries
from app.services import catalogue as catalogue_service
from app.web.access import STAFF, role_required
from app.web.catalogue import bp
from app.web.forms import date_field, field, int_field, raise_if, uuid_field

KIND_LABELS = {"occupation": "Occupations", "programme": "Programmes",
               "evaluation_organisation": "Evaluation organisations", "institution": "Institutions"}


def _done(message: str):
    flash(message, "info")
    return redirect(url_for("catalogue.index"))


def _refused(exc: SkillTraceError):
    flash(exc.message, "error")
    return redirect(url_for("catalogue.index"))


@bp.route("/")
@role_required(*STAFF)
def index():
    """All catalogues with their status; forms for administrators."""
    entries = {kind: catalogue_queries.list_entries(db.session, kind) for kind in KIND_LABELS}
    return render_template("catalogue/index.html", entries=entries,
                           shortage=catalogue_queries.list_shortage_listings(db.session),
                           levels=list(SkillLevel), categories=list(TrainingCategory),
                           modes=list(DeliveryMode))


@bp.route("/<kind>", methods=["POST"])
@role_required(Role.ADMIN)
def create_entry(kind: str):
    """List a new occupation, evaluation organisation or institution."""
    try:
        entry = catalogue_service.create_listed_entry(current_user, kind, field("code"), field("name"))
    except SkillTraceError as exc:
        return _refused(exc)
    return _done(_("%(name)s is listed.", name=entry.name))


@bp.route("/programmes", methods=["POST"])
@role_required(Role.ADMIN)
def create_programme():
    """List a programme with its first subsidy standard."""
    errors = {}
    values = dict(occupation_id=uuid_field("occupation_id", errors),
                  theory_hours=int_field("theory_hours", errors),
                  practice_hours=int_field("practice_hours", errors),
                  subsidy_from=date_field("subsidy_from", errors))
    try:
        raise_if(errors)
        programme = catalogue_service.create_programme(
            current_user, code=field("code"), name=field("name"), level=field("level"),
            category=field("category"), delivery_mode=field("delivery_mode"),
            subsidy_amount=field("subsidy_amount"), **values)
    except SkillTraceError as exc:
        return _refused(exc)
    return _done(_("%(name)s is listed.", name=programme.name))


@bp.route("/programmes/<uuid:programme_id>/standards", methods=["POST"])
@role_required(Role.ADMIN)
def add_standard(programme_id: uuid.UUID):
    """A new subsidy standard for a programme from a date on."""
    errors = {}
    effective_from = date_field("effective_from", errors)
    try:
        raise_if(errors)
        catalogue_service.add_subsidy_standard(current_user, programme_id, field("amount"), effective_from)
    except SkillTraceError as exc:
        return _refused(exc)
    return _done(_("The new standard is recorded."))


@bp.route("/shortage", methods=["POST"])
@role_required(Role.ADMIN)
def add_shortage():
    """Put an occupation on the urgent-shortage list for a period."""
    errors = {}
    occupation_id = uuid_field("occupation_id", errors)
    starts, ends = date_field("effective_from", errors), date_field("effective_to", errors, required=False)
    try:
        raise_if(errors)
        catalogue_service.add_shortage_listing(current_user, occupation_id, starts, ends, field("note"))
    except SkillTraceError as exc:
        return _refused(exc)
    return _done(_("The urgent-shortage list is updated."))


@bp.route("/<kind>/<uuid:entry_id>/status", methods=["POST"])
@role_required(Role.ADMIN)
def set_status(kind: str, entry_id: uuid.UUID):
    """Revoke (清退) or re-list an entry, with the reason."""
    listed = field("status") == "listed"
    try:
        entry = catalogue_service.set_listing_status(current_user, kind, entry_id, listed, field("reason"))
    except SkillTraceError as exc:
        return _refused(exc)
    return _done(_("%(name)s is listed again.", name=entry.name) if listed
                 else _("%(name)s is revoked.", name=entry.name))
