"""Consent and enrolment pages.

Staff (admin, instructor): ``/trainees/<uuid>/biometrics`` (state, consent text, record or
withdraw consent, arrange the ID-card alternative) and ``…/biometrics/enrol`` (webcam).
A trainee: ``/me/biometrics`` and ``/me/biometrics/enrol``. Administrators:
``/admin/duplicate-faces``. Form posts redirect back with a message; a rule broken shows as an
error message on the page it came from.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Role
from app.queries import biometrics as queries
from app.services import consent as consent_service
from app.services import enrolment
from app.services.policy import can_see_full_id
from app.services.resident_id import mask_resident_id
from app.web.access import for_trainee, role_required
from app.web.forms import act_then_redirect
from app.web.biometrics import bp
from app.web.biometrics.forms import (METHOD_CHOICES, AlternativeForm, ConsentForm, MyConsentForm,
                                      ResolveFlagForm, WithdrawForm)

STAFF = (Role.ADMIN, Role.INSTRUCTOR)


def _overview_url(trainee_id) -> str:
    if trainee_id is None:
        return url_for("biometrics.show_my_biometrics")
    return url_for("biometrics.show_trainee_biometrics", trainee_id=trainee_id)


def _run(action, success: str, trainee_id):
    """Run a service call for a form post, flash the outcome and go back to the overview."""
    return act_then_redirect(action, success, _overview_url(trainee_id))


def _form_problem(form) -> None:
    problems = [message for messages in form.errors.values() for message in messages]
    flash(_("The form is incomplete: %(problems)s", problems="; ".join(map(str, problems))), "error")


def _overview(trainee_id):
    own = trainee_id is None
    target = enrolment.own_trainee_id(current_user) if own else trainee_id
    state = enrolment.biometric_state(current_user, target)
    consent_form = MyConsentForm() if own else ConsentForm()
    consent_form.version.data = state.consent_text.version
    recorder = queries.get_user_name(db.session, state.consent.recorded_by_id) if state.consent else ""
    show_id = (lambda n: n) if can_see_full_id(current_user) else mask_resident_id
    return render_template(
        "biometrics/overview.html", state=state, own=own, consent_form=consent_form,
        withdraw_form=WithdrawForm(), alternative_form=None if own else AlternativeForm(),
        recorded_by=recorder, show_id=show_id, method_choices=METHOD_CHOICES,
        detector=enrolment.detector_words(state.template.detector) if state.template else "",
        reenrol=enrolment.needs_reenrolment(state.template),
        enrol_url=(url_for("biometrics.enrol_my_face") if own
                   else url_for("biometrics.enrol_trainee_face", trainee_id=trainee_id)))


@bp.get("/trainees/<uuid:trainee_id>/biometrics")
@role_required(*STAFF)
@for_trainee
def show_trainee_biometrics(trainee_id):
    """A trainee's consent state with the current consent text, enrolment and the alternative."""
    return _overview(trainee_id)


@bp.get("/me/biometrics")
@role_required(Role.TRAINEE)
def show_my_biometrics():
    """The signed-in trainee's own consent and enrolment."""
    return _overview(None)


@bp.post("/trainees/<uuid:trainee_id>/biometrics/consent")
@role_required(*STAFF)
@for_trainee
def record_consent(trainee_id):
    """Record consent given on screen or on the paper form, under the version shown."""
    form = ConsentForm()
    if not form.validate_on_submit():
        _form_problem(form)
        return redirect(_overview_url(trainee_id))
    return _run(lambda: consent_service.give_consent(current_user, trainee_id, form.version.data,
                                                     form.method.data, form.paper_reference.data or ""),
                _("Consent recorded."), trainee_id)


@bp.post("/me/biometrics/consent")
@role_required(Role.TRAINEE)
def give_my_consent():
    """The trainee agrees on screen to the version shown."""
    form = MyConsentForm()
    if not form.validate_on_submit():
        _form_problem(form)
        return redirect(_overview_url(None))
    trainee_id = enrolment.own_trainee_id(current_user)
    return _run(lambda: consent_service.give_consent(current_user, trainee_id, form.version.data,
                                                     "on_screen"),
                _("Consent recorded."), None)


@bp.post("/trainees/<uuid:trainee_id>/biometrics/withdraw")
@role_required(*STAFF)
@for_trainee
def withdraw_consent(trainee_id):
    """Record a signed paper withdrawal (its reference); the face template is deleted in the same step."""
    form = WithdrawForm()
    if not form.validate_on_submit():
        _form_problem(form)
        return redirect(_overview_url(trainee_id))
    return _run(lambda: consent_service.withdraw_consent(current_user, trainee_id, form.paper_reference.data or ""),
                _("Consent withdrawn; the face data has been deleted."), trainee_id)


@bp.post("/me/biometrics/withdraw")
@role_required(Role.TRAINEE)
def withdraw_my_consent():
    """The trainee withdraws their own consent; the template is deleted."""
    trainee_id = enrolment.own_trainee_id(current_user)
    return _run(lambda: consent_service.withdraw_consent(current_user, trainee_id),
                _("Consent withdrawn; the face data has been deleted."), None)


@bp.post("/trainees/<uuid:trainee_id>/biometrics/alternative")
@role_required(*STAFF)
@for_trainee
def arrange_alternative(trainee_id):
    """Verify this trainee by an instructor checking the ID card, with the reason."""
    form = AlternativeForm()
    if not form.validate_on_submit():
        _form_problem(form)
        return redirect(_overview_url(trainee_id))
    return _run(lambda: consent_service.arrange_alternative_verification(
        current_user, trainee_id, form.reason.data), _("ID-card verification arranged."), trainee_id)


def _enrol_page(trainee_id):
    own = trainee_id is None
    target = enrolment.own_trainee_id(current_user) if own else trainee_id
    state = enrolment.biometric_state(current_user, target)
    if state.consent is None:
        flash(_("Record the trainee's consent to face recognition before enrolment."), "error")
        return redirect(_overview_url(trainee_id))
    if own:
        urls = (url_for("biometrics_api.check_my_frame"), url_for("biometrics_api.enrol_my_face"))
    else:
        urls = (url_for("biometrics_api.check_trainee_frame", trainee_id=trainee_id),
                url_for("biometrics_api.enrol_trainee_face", trainee_id=trainee_id))
    return render_template("biometrics/enrol.html", state=state, check_url=urls[0], enrol_url=urls[1],
                           back_url=_overview_url(trainee_id), frames_needed=enrolment.frames_to_capture())


@bp.get("/trainees/<uuid:trainee_id>/biometrics/enrol")
@role_required(*STAFF)
@for_trainee
def enrol_trainee_face(trainee_id):
    """The webcam page: frames are checked one by one, then enrolled together."""
    return _enrol_page(trainee_id)


@bp.get("/me/biometrics/enrol")
@role_required(Role.TRAINEE)
def enrol_my_face():
    """The webcam page for the signed-in trainee."""
    return _enrol_page(None)


@bp.get("/admin/duplicate-faces")
@role_required(Role.ADMIN, Role.REVIEWER)
def list_duplicate_flags():
    """The review list: enrolments whose face is close to trainees under other ID numbers,
    refused or kept, each with its nearest enrolled faces and their distances."""
    flags = queries.list_open_duplicate_flags(db.session)
    return render_template("biometrics/duplicates.html", form=ResolveFlagForm(), flags=flags, mask=mask_resident_id,
                           named=queries.candidate_trainees(db.session, [f for f, _t, _o in flags]))


@bp.post("/admin/duplicate-faces/<uuid:flag_id>/resolve")
@role_required(Role.ADMIN, Role.REVIEWER)
def resolve_duplicate_flag(flag_id):
    """Close a flag with a note (kept in the audit log)."""
    form = ResolveFlagForm()
    if form.validate_on_submit():
        return act_then_redirect(lambda: enrolment.resolve_duplicate_flag(current_user, flag_id, form.note.data or ""),
                                 _("Flag resolved."), url_for("biometrics.list_duplicate_flags"))
    _form_problem(form)
    return redirect(url_for("biometrics.list_duplicate_flags"))
