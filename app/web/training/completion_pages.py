"""Final assessment and completion on the class page: record or correct a result, issue a
completion certificate and print it, mark the class completed (instructors of the class and
admins act; other staff read). Trainees print their own certificates at /me/certificates."""
from __future__ import annotations

import uuid

from flask import current_app, redirect, render_template, url_for
from markupsafe import Markup
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import NotFoundError, SkillTraceError
from app.extensions import db
from app.models import CompletionCertificate, Role, TrainingClass
from app.queries import catalogue as catalogue_queries
from app.queries.biometrics import get_trainee_of_user
from app.queries import completion as queries
from app.services import hours, policy
from app.services.classes import get_class_or_404, get_enrolment_or_404
from app.services.document_stamps import current_stamp, qr_svg
from app.services.completion import (AssessmentInput, complete_class,
                                     issue_certificate, record_assessment)
from app.web.access import STAFF, role_required
from app.web.forms import act_then_redirect, date_field, field, flash_refusal
from app.web.training import bp

ACTORS = (Role.ADMIN, Role.INSTRUCTOR)


def completion_context(klass: TrainingClass) -> dict:
    """What the class page shows of assessment and completion."""
    return {"assessments": queries.get_class_assessments(db.session, klass.id),
            "completion_certificates": queries.get_class_certificates(db.session, klass.id),
            "progress": {e.id: hours.progress(db.session, e) for e in klass.enrolments},
            "organisations": catalogue_queries.list_listed(db.session, "evaluation_organisation"),
            "pass_mark": current_app.config["ASSESSMENT_PASS_MARK"]}


def _back(class_id, action, success: str):
    return act_then_redirect(action, success, url_for("training.show_class", class_id=class_id))


@bp.route("/enrolments/<uuid:enrolment_id>/assessment", methods=["POST"])
@role_required(*ACTORS)
def record_assessment_view(enrolment_id: uuid.UUID):
    """Record or correct the result (fields theory_score, practical_score, assessed_on,
    evaluation_organisation_id, and reason for a correction)."""
    enrolment, errors = get_enrolment_or_404(db.session, enrolment_id, current_user, policy.can_assess), {}
    data = AssessmentInput(field("theory_score"), field("practical_score"), date_field("assessed_on", errors),
                           field("evaluation_organisation_id") or None, field("reason"))
    return _back(enrolment.class_id, lambda: record_assessment(current_user, enrolment_id, data),
                 _("The assessment result is recorded."))


@bp.route("/enrolments/<uuid:enrolment_id>/certificate", methods=["POST"])
@role_required(*ACTORS)
def issue_certificate_view(enrolment_id: uuid.UUID):
    """Issue the completion certificate (once) and show it."""
    enrolment = get_enrolment_or_404(db.session, enrolment_id, current_user, policy.can_assess)
    try:
        certificate = issue_certificate(current_user, enrolment_id)
    except SkillTraceError as exc:
        flash_refusal(exc)
        return redirect(url_for("training.show_class", class_id=enrolment.class_id))
    return redirect(url_for("training.show_certificate", certificate_id=certificate.id))


@bp.route("/certificates/<uuid:certificate_id>")
@role_required(*STAFF)
def show_certificate(certificate_id: uuid.UUID):
    """The printable completion certificate; the full ID number for administrators only.

    :raise 403: the class belongs to another institution. :raise 404: no such certificate."""
    certificate = db.session.get(CompletionCertificate, certificate_id)
    if certificate is None:
        raise NotFoundError(_("No such certificate."))
    policy.require(policy.can_read_class(current_user, certificate.enrolment.training_class),
                   _("This certificate belongs to another institution."))
    return render_template("training/certificate.html", certificate=certificate,
                           enrolment=certificate.enrolment, klass=certificate.enrolment.training_class,
                           **_stamp())


@bp.route("/me/certificates")
@role_required(Role.TRAINEE)
def my_certificates():
    """The signed-in trainee's own completion certificates, printable (no id in the URL)."""
    trainee = get_trainee_of_user(db.session, current_user.id)
    certificates = queries.list_trainee_certificates(db.session, trainee.id) if trainee else []
    return render_template("training/my_certificates.html", certificates=certificates, **_stamp())


def _stamp() -> dict:
    """The latest audit checkpoint's stamp and its QR code, printed on every certificate."""
    stamp = current_stamp()
    return {"stamp": stamp, "stamp_qr": Markup(qr_svg(stamp))}


@bp.route("/classes/<uuid:class_id>/complete", methods=["POST"])
@role_required(*ACTORS)
def complete_class_view(class_id: uuid.UUID):
    """Mark the class completed once every enrolment is assessed."""
    get_class_or_404(db.session, class_id, current_user, policy.is_class_instructor)
    return _back(class_id, lambda: complete_class(current_user, class_id), _("The class is completed."))
