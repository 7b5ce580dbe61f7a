"""`/api/classes`: class-opening applications — draft, read, submit, review, import a roster."""
import uuid

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from app.api import bp
from app.api.helpers import a_time, an_id, api_roles, check, json_body, text
from app.api.serializers import class_json
from app.errors.exceptions import ValidationError
from app.extensions import db
from app.models import ClassStatus, Role
from app.queries import training as training_queries
from app.services.classes import (ClassApplication, SessionInput, draft_class, get_class_or_404,
                                  review_class, submit_class)
from app.services.policy import can_manage_class, visible_institution
from app.services.roster import import_roster, read_rows
from app.web.access import STAFF


def _sessions(body: dict, errors: dict) -> list[SessionInput]:
    raw = body.get("sessions")
    if not isinstance(raw, list):
        errors["sessions"] = _("A list of sessions is required.")
        return []
    sessions = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            errors[f"sessions[{n}]"] = _("Must be an object.")
            continue
        starts = a_time(item.get("starts_at"), f"sessions[{n}].starts_at", errors)
        ends = a_time(item.get("ends_at"), f"sessions[{n}].ends_at", errors)
        kind, place = text(item, "kind", errors), text(item, "place", errors, required=False)
        if starts and ends:
            sessions.append(SessionInput(starts, ends, kind, place, item.get("online") is True))
    return sessions


def _ids(body: dict, name: str, errors: dict) -> list[uuid.UUID]:
    raw = body.get(name, [])
    if not isinstance(raw, list):
        errors[name] = _("Must be a list of ids.")
        return []
    return [i for i in (an_id(v, name, errors) for v in raw) if i]


@bp.get("/classes")
@api_roles(*STAFF)
def list_classes():
    """200 `{"classes": [...]}` (an instructor: their institution's); `?status=submitted` filters."""
    status = request.args.get("status")
    if status and status not in {s.value for s in ClassStatus}:
        raise ValidationError(_("Unknown status."), errors={"status": "unknown"})
    rows = training_queries.list_classes(db.session, ClassStatus(status) if status else None,
                                         visible_institution(current_user))
    return {"classes": [dict(class_json(k), roster_size=n) for k, n in rows]}


@bp.post("/classes")
@api_roles(Role.ADMIN, Role.INSTRUCTOR)
def create_class():
    """201 with the draft; 400 naming each problem (revoked programme, overlapping sessions …)."""
    body, errors = json_body(), {}
    application = ClassApplication(
        code=text(body, "code", errors), name=text(body, "name", errors),
        institution_id=an_id(body.get("institution_id"), "institution_id", errors),
        programme_id=an_id(body.get("programme_id"), "programme_id", errors),
        sessions=_sessions(body, errors), instructor_ids=_ids(body, "instructor_ids", errors),
        trainee_ids=_ids(body, "trainee_ids", errors),
        teaching_plan=text(body, "teaching_plan", errors, required=False),
        resources=text(body, "resources", errors, required=False),
        assessment_plan=text(body, "assessment_plan", errors, required=False))
    check(errors)
    return class_json(draft_class(current_user, application), detail=True), 201


@bp.get("/classes/<uuid:class_id>")
@api_roles(*STAFF)
def get_class(class_id: uuid.UUID):
    """200 with sessions, instructors and roster; 404 when unknown; 403 another institution's."""
    return class_json(get_class_or_404(db.session, class_id, current_user), detail=True)


@bp.post("/classes/<uuid:class_id>/submit")
@api_roles(Role.ADMIN, Role.INSTRUCTOR)
def submit(class_id: uuid.UUID):
    """200 with the submitted application; 400 when incomplete; 409 in the wrong state."""
    return class_json(submit_class(current_user, class_id))


@bp.post("/classes/<uuid:class_id>/review")
@api_roles(Role.REVIEWER)
def review(class_id: uuid.UUID):
    """`{"approve": true|false, "comment": "..."}`; 403 for the class's own institution."""
    body, errors = json_body(), {}
    if not isinstance(body.get("approve"), bool):
        errors["approve"] = _("Must be true or false.")
    comment = text(body, "comment", errors, required=False)
    check(errors)
    return class_json(review_class(current_user, class_id, body["approve"], comment))


@bp.post("/classes/<uuid:class_id>/roster")
@api_roles(Role.ADMIN, Role.INSTRUCTOR)
def import_roster_file(class_id: uuid.UUID):
    """multipart `file` (.csv or .xlsx) → 200 with the import report; 403 another institution's."""
    get_class_or_404(db.session, class_id, current_user, can_manage_class)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(_("Choose a file to import."), errors={"file": "missing"})
    report = import_roster(current_user, class_id, read_rows(upload.filename, upload.read()))
    return {"rows": report.rows, "registered": report.registered, "enrolled": report.enrolled,
            "already_enrolled": report.already_enrolled,
            "refused": [{"line": line, "reason": reason} for line, reason in report.refused]}
