"""`/api/…` for biometric consent, face enrolment and duplicate-face flags.

Staff (admin, instructor) act on ``/api/trainees/<uuid>/…``; a signed-in trainee acts on their own
record through ``/api/me/…``. JSON bodies in, JSON out; frames are ``multipart/form-data`` files
(``frame`` for a quality check, ``frames`` repeated for an enrolment). Errors are
``{"error": code, "message": text}`` with a 4xx status (503 when the face models are missing).
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from app.api.helpers import api_roles
from app.errors.exceptions import ValidationError
from app.extensions import csrf, db
from app.models import Role
from app.queries import biometrics as queries
from app.services import consent as consent_service
from app.services import enrolment
from app.services.policy import can_see_full_id
from app.services.resident_id import mask_resident_id
from app.web.access import acting_for_trainee, for_trainee

bp = Blueprint("biometrics_api", __name__, url_prefix="/api")

STAFF = (Role.ADMIN, Role.INSTRUCTOR)
_FORM_OVERHEAD = 64 * 1024  # multipart headers and the CSRF field around the frames


def frame_upload(max_frames):
    """Cap the request body at ``max_frames()`` frames before anything reads it, then check the
    CSRF token (the view is exempt from the app-wide check, which would read the body unbounded).

    :raise 413: the body is larger than the frames allowed.
    :raise 400: the CSRF token is missing or wrong.
    """
    def decorator(view):
        @csrf.exempt
        @wraps(view)
        def wrapped(*args, **kwargs):
            request.max_content_length = (max_frames() * current_app.config["FACE_MAX_FRAME_BYTES"]
                                          + _FORM_OVERHEAD)
            csrf.protect()
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(_("Send a JSON object."), code="invalid_json")
    return body


def _target(trainee_id):
    """The trainee acted on: the one in the URL (staff), or the caller's own (``/me``)."""
    return trainee_id if trainee_id is not None else enrolment.own_trainee_id(current_user)


def _time(value):
    return value.isoformat() if value else None


def consent_json(consent) -> dict | None:
    if consent is None:
        return None
    return {"id": str(consent.id), "version": consent.consent_text.version, "method": consent.method.value,
            "given_at": _time(consent.created_at), "withdrawn_at": _time(consent.withdrawn_at),
            "recorded_by": queries.get_user_name(db.session, consent.recorded_by_id)}


def state_json(state) -> dict:
    """The JSON of `enrolment.BiometricState`; never the template itself."""
    trainee, text, template, alt = state.trainee, state.consent_text, state.template, state.alternative
    return {
        "trainee": {"id": str(trainee.id), "name": trainee.name,
                    "id_number": (trainee.id_number if can_see_full_id(current_user)
                                  else mask_resident_id(trainee.id_number))},
        "consent_text": {"version": text.version, "body": text.body, "retention_days": text.retention_days},
        "consent": consent_json(state.consent),
        "template": None if template is None else {
            "id": str(template.id), "encoder": template.encoder, "captures": template.captures,
            "enrolled_at": _time(template.created_at)},
        "alternative_verification": None if alt is None else {
            "id": str(alt.id), "reason": alt.reason, "arranged_at": _time(alt.created_at)},
    }


@bp.get("/trainees/<uuid:trainee_id>/biometrics")
@api_roles(*STAFF)
def get_trainee_biometrics(trainee_id):
    """200: consent text, consent, template summary and alternative arrangement of a trainee."""
    return state_json(enrolment.biometric_state(current_user, trainee_id))


@bp.get("/me/biometrics", defaults={"trainee_id": None})
@api_roles(Role.TRAINEE)
def get_my_biometrics(trainee_id):
    """200: as ``/api/trainees/<id>/biometrics`` for the caller's own record."""
    return state_json(enrolment.biometric_state(current_user, _target(trainee_id)))


@bp.post("/trainees/<uuid:trainee_id>/consent")
@api_roles(*STAFF)
def give_trainee_consent(trainee_id):
    """Body ``{"version", "method": "paper", "paper_reference"}`` (on-screen consent is the
    trainee's own, at ``/api/me/consent``). 201: the consent. 400: outdated version, unknown
    method or no reference. 403: not the trainee's own institution. 409 ``consent_exists``."""
    acting_for_trainee(trainee_id)
    body = _json_body()
    consent = consent_service.give_consent(current_user, trainee_id, str(body.get("version", "")),
                                           str(body.get("method", "")), str(body.get("paper_reference", "")))
    return consent_json(consent), 201


@bp.post("/me/consent", defaults={"trainee_id": None})
@api_roles(Role.TRAINEE)
def give_my_consent(trainee_id):
    """Body ``{"version"}`` (the text the trainee read on screen). 201, 400, 409 as above."""
    body = _json_body()
    consent = consent_service.give_consent(current_user, _target(trainee_id),
                                           str(body.get("version", "")), "on_screen")
    return consent_json(consent), 201


@bp.delete("/trainees/<uuid:trainee_id>/consent")
@api_roles(*STAFF)
def withdraw_trainee_consent(trainee_id):
    """Record a signed paper withdrawal (``?paper_reference=``) and delete the face template.
    200 ``{"templates_deleted"}``; 400 no reference; 403 not the trainee's own institution;
    409 ``no_consent``."""
    return {"templates_deleted": consent_service.withdraw_consent(
        current_user, trainee_id, request.args.get("paper_reference", ""))}


@bp.delete("/me/consent", defaults={"trainee_id": None})
@api_roles(Role.TRAINEE)
def withdraw_my_consent(trainee_id):
    """As the staff withdrawal, for the caller's own record."""
    return {"templates_deleted": consent_service.withdraw_consent(current_user, _target(trainee_id))}


@bp.post("/trainees/<uuid:trainee_id>/alternative-verification")
@api_roles(*STAFF)
def arrange_alternative_verification(trainee_id):
    """Body ``{"reason"}``: the trainee is verified by an instructor checking the ID card.
    201; 400 without a reason; 409 when already arranged."""
    acting_for_trainee(trainee_id)
    body = _json_body()
    alt = consent_service.arrange_alternative_verification(current_user, trainee_id,
                                                           str(body.get("reason", "")))
    return {"id": str(alt.id), "reason": alt.reason, "arranged_at": _time(alt.created_at)}, 201


def _one_frame() -> bytes:
    upload = request.files.get("frame")
    return upload.read() if upload is not None else b""


@bp.post("/trainees/<uuid:trainee_id>/face/check")
@api_roles(*STAFF)
@frame_upload(lambda: 1)
@for_trainee
def check_trainee_frame(trainee_id):
    """File ``frame``. 200 ``{"ok", "reason", "message", "quality"}``: a refused frame is a verdict
    with its reason (``no_face``, ``several_faces``, ``too_dark`` …), not an error. 409 ``no_consent``."""
    return enrolment.check_enrolment_frame(current_user, trainee_id, _one_frame()).as_dict()


@bp.post("/me/face/check", defaults={"trainee_id": None})
@api_roles(Role.TRAINEE)
@frame_upload(lambda: 1)
def check_my_frame(trainee_id):
    """As the staff frame check, for the caller's own record."""
    return enrolment.check_enrolment_frame(current_user, _target(trainee_id), _one_frame()).as_dict()


def _enrol(trainee_id):
    frames = [upload.read() for upload in request.files.getlist("frames")]
    result = enrolment.enrol_face(current_user, trainee_id, frames)
    return {"template_id": str(result.template_id), "trainee_id": str(result.trainee_id),
            "encoder": result.encoder, "captures": result.captures, "replaced": result.replaced,
            "message": _("The face is enrolled.")}, 201


def _max_frames() -> int:
    return current_app.config["ENROL_MAX_FRAMES"]


@bp.post("/trainees/<uuid:trainee_id>/face")
@api_roles(*STAFF)
@frame_upload(_max_frames)
@for_trainee
def enrol_trainee_face(trainee_id):
    """Files ``frames`` (3–8 by default). 201: the template summary. 400 with the refusal reason
    as ``error`` and ``errors.frame`` = the frame's index; 409 ``no_consent`` or ``duplicate_face``
    (flagged for an administrator); 413 when the upload is too large."""
    return _enrol(trainee_id)


@bp.post("/me/face", defaults={"trainee_id": None})
@api_roles(Role.TRAINEE)
@frame_upload(_max_frames)
def enrol_my_face(trainee_id):
    """As the staff enrolment, for the caller's own record."""
    return _enrol(_target(trainee_id))


@bp.get("/duplicate-faces")
@api_roles(Role.ADMIN, Role.REVIEWER)
def list_duplicate_flags():
    """200 ``{"flags": [...]}``: open duplicate-face flags, newest first, each ``refused`` (else
    enrolled and listed for review) with its nearest ``candidates`` (trainee id and distance)."""
    return {"flags": [{
        "id": str(flag.id), "flagged_at": _time(flag.created_at), "distance": flag.score,
        "refused": flag.refused, "candidates": flag.candidates or [],
        "trainee": {"id": str(trainee.id), "name": trainee.name, "id_number": trainee.id_number},
        "matched_trainee": {"id": str(other.id), "name": other.name, "id_number": other.id_number},
    } for flag, trainee, other in queries.list_open_duplicate_flags(db.session)]}


@bp.post("/duplicate-faces/<uuid:flag_id>/resolve")
@api_roles(Role.ADMIN, Role.REVIEWER)
def resolve_duplicate_flag(flag_id):
    """Body ``{"note"}`` (optional). 200; 404 unknown flag; 409 already resolved."""
    body = request.get_json(silent=True)
    note = str(body.get("note", "")) if isinstance(body, dict) else ""
    flag = enrolment.resolve_duplicate_flag(current_user, flag_id, note)
    return {"id": str(flag.id), "resolved_at": _time(flag.resolved_at)}
