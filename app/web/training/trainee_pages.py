"""Trainee pages: register (实名登记), view one trainee with certificates, record a certificate,
and print account activation slips (shown once: the codes are not stored in the clear)."""
from __future__ import annotations

import uuid

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import PERSON_CATEGORIES, Role, SkillLevel
from app.queries import catalogue as catalogue_queries
from app.services.certificates import add_certificate
from app.services.registry import TraineeInput, can_manage_trainee, get_trainee_or_404, register_trainee
from app.services.trainee_accounts import (account_state, issue_class_slips, issue_first_code,
                                           reissue_code)
from app.web.access import role_required
from app.web.forms import date_field, field, raise_if, uuid_field
from app.web.training import bp

REGISTRARS = (Role.ADMIN, Role.INSTRUCTOR)


@bp.route("/trainees/new", methods=["GET", "POST"])
@role_required(*REGISTRARS)
def new_trainee():
    """GET: the registration form. POST: register and show the trainee's activation slip (once);
    the form again with the problems named."""
    errors = {}
    if request.method == "POST":
        try:
            trainee = register_trainee(current_user, TraineeInput(
                field("name"), field("id_number"), field("phone"), field("category"), field("employer"),
                field("payee_bank"), field("payee_account")))
        except SkillTraceError as exc:
            errors = exc.errors or {"id_number": exc.message}
        else:
            flash(_("%(name)s is registered.", name=trainee.name), "info")
            return _slips([issue_first_code(current_user, trainee.id)],
                          url_for("training.show_trainee", trainee_id=trainee.id))
    return render_template("training/trainee_form.html", errors=errors, categories=PERSON_CATEGORIES,
                           form=request.form), 400 if errors else 200


@bp.route("/trainees/<uuid:trainee_id>")
@role_required(Role.ADMIN, Role.INSTRUCTOR, Role.AUDITOR)
def show_trainee(trainee_id: uuid.UUID):
    """One trainee: identity (ID masked except for admins), certificates, enrolments.

    :raise 403: an instructor whose institution does not see the trainee. :raise 404: unknown."""
    trainee = get_trainee_or_404(db.session, trainee_id, current_user)
    return render_template("training/trainee.html", trainee=trainee,
                           account=account_state(db.session, trainee),
                           occupations=catalogue_queries.list_listed(db.session, "occupation"),
                           levels=list(SkillLevel), errors={})


@bp.route("/trainees/<uuid:trainee_id>/certificates", methods=["POST"])
@role_required(*REGISTRARS)
def record_certificate(trainee_id: uuid.UUID):
    """Record a skill certificate the trainee holds (grounds for exemptions)."""
    trainee = get_trainee_or_404(db.session, trainee_id, current_user, can_manage_trainee)
    errors = {}
    occupation_id = uuid_field("occupation_id", errors)
    issued_on = date_field("issued_on", errors)
    try:
        raise_if(errors)
        add_certificate(current_user, trainee.id, occupation_id, field("level"), field("serial"),
                        issued_on, field("issuer"))
    except SkillTraceError as exc:
        errors = exc.errors or {"serial": exc.message}
        return render_template("training/trainee.html", trainee=trainee, errors=errors,
                               account=account_state(db.session, trainee),
                               occupations=catalogue_queries.list_listed(db.session, "occupation"),
                               levels=list(SkillLevel)), 400
    flash(_("Certificate recorded."), "info")
    return redirect(url_for("training.show_trainee", trainee_id=trainee.id))


def _slips(slips, back: str):
    """The printable activation slips; ``no-store`` since the codes are on them."""
    response = make_response(render_template("training/activation_slips.html", slips=slips, back=back))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/trainees/<uuid:trainee_id>/activation-code", methods=["POST"])
@role_required(*REGISTRARS)
def reissue_activation_code(trainee_id: uuid.UUID):
    """A new one-time activation code for the trainee (the old one stops working), on a slip."""
    get_trainee_or_404(db.session, trainee_id, current_user, can_manage_trainee)
    return _slips([reissue_code(current_user, trainee_id)],
                  url_for("training.show_trainee", trainee_id=trainee_id))


@bp.route("/classes/<uuid:class_id>/activation-slips", methods=["POST"])
@role_required(*REGISTRARS)
def class_activation_slips(class_id: uuid.UUID):
    """New codes for every trainee on the roster not yet activated, one slip each, to print."""
    return _slips(issue_class_slips(current_user, class_id),
                  url_for("training.show_class", class_id=class_id))
