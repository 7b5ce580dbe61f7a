"""Class-opening pages: draft an application, revise it (a draft, or after a rejection with the
reviewer's comment beside the form), withdraw it, view it, submit it, review it (approve or
reject), import its roster from CSV/Excel and grant exemptions."""
from __future__ import annotations

import re
import uuid

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.errors.exceptions import SkillTraceError, ValidationError
from app.extensions import db
from app.models import Certificate, ClassStatus, Role, Trainee
from app.queries import catalogue as catalogue_queries
from app.queries import training as training_queries
from app.services.certificates import grant_exemption
from app.services import policy
from app.services import session_plans
from app.services.classes import (ClassApplication, draft_class,
                                  get_class_or_404, get_enrolment_or_404, review_class, revise_class,
                                  submit_class, withdraw_class)
from app.services.resident_id import normalise_id_number
from app.services.roster import import_roster, read_rows, roster_template
from app.web.access import STAFF, role_required
from app.web.forms import act_then_redirect, field, flash_refusal, int_field, raise_if, uuid_field
from app.web.training import bp, session_editor
from app.web.training.completion_pages import completion_context


def _trainee_ids(text: str, errors: dict) -> list[uuid.UUID]:
    numbers = [normalise_id_number(n) for n in re.split(r"[\s,，;；]+", text) if n.strip()]
    found = dict(db.session.execute(select(Trainee.id_number, Trainee.id)
                                    .where(Trainee.id_number.in_(numbers))).all())
    if unknown := [n for n in numbers if n not in found]:
        errors["roster"] = _("Not registered: %(numbers)s. Register them first or import a roster file.",
                             numbers="、".join(unknown[:10]))
    return [found[n] for n in numbers if n in found]


def _form_choices():
    institution_id = policy.visible_institution(current_user)
    institutions = catalogue_queries.list_listed(db.session, "institution")
    if institution_id:
        institutions = [i for i in institutions if i.id == institution_id]
    return dict(institutions=institutions,
                programmes=catalogue_queries.list_listed(db.session, "programme"),
                instructors=catalogue_queries.list_instructors(db.session, institution_id))


def _roster_text(errors: dict) -> str:
    """The roster's ID numbers as posted, with the trainees ticked in the search results added
    (only trainees the actor's institution sees may be picked)."""
    text = field("roster")
    picked = {i for i in map(_uuid_or_none, request.form.getlist("roster_pick")) if i}
    if not picked:
        return text
    numbers = training_queries.list_visible_id_numbers(db.session, picked, policy.visible_institution(current_user))
    if len(numbers) < len(picked):
        errors["roster"] = _("Pick trainees from the search results only.")
    known = {normalise_id_number(n) for n in re.split(r"[\s,，;；]+", text) if n.strip()}
    return "\n".join([text] + [n for n in numbers if n not in known]).strip()


def _application_from_form(errors: dict, form, institution_id=None) -> ClassApplication:
    """The application as posted on the class form (``form``: the post, roster picks merged);
    problems of parsing go to ``errors``."""
    institution_id = institution_id or uuid_field("institution_id", errors)
    programme_id = uuid_field("programme_id", errors)
    sessions, problems = session_plans.sessions_from_rows(session_editor.rows_from_form())
    if problems:
        errors["sessions"] = " ".join(problems)
    trainee_ids = _trainee_ids(form.get("roster", ""), errors)
    return ClassApplication(
        code=field("code"), name=field("name"), institution_id=institution_id, programme_id=programme_id,
        sessions=sessions, instructor_ids=[uuid.UUID(i) for i in request.form.getlist("instructor_ids")],
        trainee_ids=trainee_ids, teaching_plan=field("teaching_plan"), resources=field("resources"),
        assessment_plan=field("assessment_plan"))


def _form_of(klass) -> MultiDict:
    """The class as the form shows it (the sessions go to the editor's rows): the roster as ID
    numbers."""
    form = MultiDict({"code": klass.code, "name": klass.name, "institution_id": str(klass.institution_id),
                      "programme_id": str(klass.programme_id),
                      "roster": "\n".join(e.trainee.id_number for e in klass.enrolments),
                      "teaching_plan": klass.teaching_plan, "resources": klass.resources,
                      "assessment_plan": klass.assessment_plan})
    for u in klass.instructors:
        form.add("instructor_ids", str(u.id))
    return form


def _add_repeated(errors: dict) -> tuple[list, str]:
    """The posted rows with the repeat rule's sessions appended (nothing saved), and what the
    page says about it; the rule's problems go to ``errors``."""
    rows = session_editor.rows_from_form()
    rule, rule_errors = session_editor.repeat_from_form()
    errors.update(rule_errors)
    if rule is None:
        return rows, ""
    added = session_plans.expand(rule)
    if not added:
        errors["repeat_dates"] = _("The rule makes no session: no chosen weekday lies between the dates.")
        return rows, ""
    return ([r for r in rows if not r.is_blank()] + session_editor.rows_of(added),
            _("%(n)s sessions added below: check them, then save.", n=len(added)))


def _class_form(klass, errors: dict, form, rows, notice: str = ""):
    """The form page: fields, the session editor with its planned hours and clash warnings."""
    sessions, _problems = session_plans.sessions_from_rows(rows)
    trainee_ids = _trainee_ids(form.get("roster", ""), {})
    review = session_editor.plan_review(_uuid_or_none(form.get("programme_id")), sessions,
                                        [i for i in map(_uuid_or_none, form.getlist("instructor_ids")) if i],
                                        trainee_ids, klass.id if klass else None)
    status = 400 if errors else 200
    found = training_queries.search_trainees(db.session, form.get("roster_query", ""),
                                             policy.visible_institution(current_user))
    return render_template("training/class_form.html", errors=errors, klass=klass, form=form,
                           rows=session_editor.shown_rows(rows), weekdays=session_editor.WEEKDAYS,
                           notice=notice, found=found, **review, **_form_choices()), status


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _post_class_form(klass, save):
    """POST of the class form: ``action=search`` looks trainees up for the roster, ``action=repeat``
    adds a repeat rule's sessions for review; otherwise ``save(application)`` saves (the form
    again with the problems named). Trainees ticked in the search results join the roster."""
    errors = {}
    form = request.form.copy()
    form["roster"] = _roster_text(errors)
    if request.form.get("action") == "search":
        return _class_form(klass, errors, form, session_editor.rows_from_form())
    if request.form.get("action") == "repeat":
        rows, notice = _add_repeated(errors)
        return _class_form(klass, errors, form, rows, notice)
    try:
        application = _application_from_form(errors, form, klass.institution_id if klass else None)
        raise_if(errors)
        return save(application)
    except (SkillTraceError, ValueError) as exc:
        if getattr(exc, "status", 400) in (403, 404):
            raise
        errors = getattr(exc, "errors", None) or {"code": str(exc)}
    return _class_form(klass, errors, form, session_editor.rows_from_form())


@bp.route("/classes/<uuid:class_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def edit_class(class_id: uuid.UUID):
    """GET: the application in the form (a draft, or a rejected one with the review comment).
    POST: save the changes; the form again with the problems named."""
    klass = get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)
    if klass.status not in (ClassStatus.DRAFT, ClassStatus.REJECTED):
        flash(_("Only a draft or a rejected application can be changed or submitted."), "error")
        return redirect(url_for("training.show_class", class_id=class_id))
    if request.method == "GET":
        return _class_form(klass, {}, _form_of(klass), session_editor.rows_of(klass.sessions))

    def save(application):
        revise_class(current_user, class_id, application)
        flash(_("The application is saved."), "info")
        return redirect(url_for("training.show_class", class_id=class_id))
    return _post_class_form(klass, save)


@bp.route("/classes/<uuid:class_id>/withdraw", methods=["POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def withdraw_class_view(class_id: uuid.UUID):
    """Withdraw an application not yet approved (form field ``reason``)."""
    return _back_to_class(class_id, lambda: withdraw_class(current_user, class_id, field("reason")),
                          _("The application is withdrawn."))


@bp.route("/classes/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def new_class():
    """GET: the class-opening application form. POST: save it as a draft (``action=repeat``:
    add a repeat rule's sessions to the rows for review, nothing saved)."""
    if request.method == "GET":
        return _class_form(None, {}, request.form, [])

    def save(application):
        klass = draft_class(current_user, application)
        flash(_("The application is saved as a draft."), "info")
        return redirect(url_for("training.show_class", class_id=klass.id))
    return _post_class_form(None, save)


@bp.route("/classes/<uuid:class_id>")
@role_required(*STAFF)
def show_class(class_id: uuid.UUID):
    """The application: plans, sessions, instructors, roster, review and the actions allowed.

    :raise 403: the class belongs to another institution. :raise 404: no such class."""
    klass = get_class_or_404(db.session, class_id, current_user)
    certificates = {e.trainee_id: list(db.session.scalars(
        select(Certificate).where(Certificate.trainee_id == e.trainee_id))) for e in klass.enrolments}
    return _class_page(klass, certificates, None)


def _class_page(klass, certificates: dict, report):
    """The class page, with the planned hours and clash warnings beside the sessions."""
    review = session_editor.plan_review(klass.programme_id, klass.sessions, [u.id for u in klass.instructors],
                                        [e.trainee_id for e in klass.enrolments], klass.id)
    return render_template("training/class.html", klass=klass, certificates=certificates, report=report,
                           errors={}, **review, **completion_context(klass))


def _back_to_class(class_id, action, success: str):
    return act_then_redirect(action, success, url_for("training.show_class", class_id=class_id))


@bp.route("/classes/<uuid:class_id>/submit", methods=["POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def submit_class_view(class_id: uuid.UUID):
    """Submit the application for review; a refusal comes back as a message on the class page."""
    return _back_to_class(class_id, lambda: submit_class(current_user, class_id), _("Submitted for review."))


@bp.route("/classes/<uuid:class_id>/review", methods=["POST"])
@role_required(Role.REVIEWER)
def review_class_view(class_id: uuid.UUID):
    """Approve (``decision=approve``) or reject with a comment."""
    approve = field("decision") == "approve"
    return _back_to_class(class_id, lambda: review_class(current_user, class_id, approve, field("comment")),
                          _("Approved.") if approve else _("Rejected."))


@bp.route("/classes/roster-template.xlsx")
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def roster_template_xlsx():
    """The Excel template of the roster import (ID column as text, the person categories listed)."""
    return Response(roster_template(), headers={"Content-Disposition": 'attachment; filename="roster-template.xlsx"'},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/classes/<uuid:class_id>/roster", methods=["POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def import_roster_view(class_id: uuid.UUID):
    """Upload a CSV or Excel roster; the page shows what went in and each refused row."""
    klass = get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationError(_("Choose a file to import."))
        report = import_roster(current_user, class_id, read_rows(upload.filename, upload.read()))
    except SkillTraceError as exc:
        flash_refusal(exc)
        return redirect(url_for("training.show_class", class_id=class_id))
    db.session.refresh(klass)
    return _class_page(klass, {}, report)


@bp.route("/enrolments/<uuid:enrolment_id>/exemptions", methods=["POST"])
@role_required(Role.ADMIN, Role.INSTRUCTOR)
def grant_exemption_view(enrolment_id: uuid.UUID):
    """Exempt an enrolment from some hours on the strength of a certificate (免修).

    :raise 403: the enrolment is in another institution's class. :raise 404: no such enrolment."""
    enrolment = get_enrolment_or_404(db.session, enrolment_id, current_user, policy.can_grant_exemption)
    errors = {}
    certificate_id, hours = uuid_field("certificate_id", errors), int_field("hours", errors)

    def act():
        raise_if(errors)
        grant_exemption(current_user, enrolment_id, certificate_id, hours, field("reason"))
    return _back_to_class(enrolment.class_id, act, _("Exemption granted; it takes effect once a reviewer confirms it."))
