"""The witnessed face check of an appeal, from the instructor's appeals page (JSON for
face_check.js ``converse``): ``POST …/appeals/<uuid>/witness`` starts the server-paced check of the
appeal's trainee → 201 ``{"nonce"}``; ``POST …/witness/<nonce>/frame`` (multipart ``frame``) → the
phase and prompt; ``POST …/witnessed-approval`` (``nonce``, ``note``, ``device``) approves only if
the check passed → ``{"accepted", "message"}``, or a 409 naming why in words."""
from __future__ import annotations

import uuid

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import ValidationError
from app.extensions import db
from app.models import Role
from app.services import appeals, policy
from app.services.classes import get_class_or_404
from app.web.access import role_required
from app.web.attendance import bp

ACTORS = (Role.INSTRUCTOR, Role.ADMIN)


def _class(class_id: uuid.UUID) -> None:
    get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)


@bp.post("/classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witness")
@role_required(*ACTORS)
def start_witness(class_id: uuid.UUID, appeal_id: uuid.UUID):
    """Start the witnessed check → 201 ``{"nonce", "expires_at"}``."""
    _class(class_id)
    challenge = appeals.start_witnessed_check(current_user, appeal_id)
    return {"nonce": challenge.nonce, "expires_at": challenge.expires_at.isoformat()}, 201


@bp.post("/classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witness/<nonce>/frame")
@role_required(*ACTORS)
def witness_frame(class_id: uuid.UUID, appeal_id: uuid.UUID, nonce: str):
    """One frame of the witnessed check → ``{"phase", "prompt"?, …}``."""
    _class(class_id)
    frame = request.files.get("frame")
    if frame is None:
        raise ValidationError(_("Send one picture as the field frame."), code="missing_frames")
    return appeals.witness_frame(current_user, appeal_id, nonce, frame.read())


@bp.post("/classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witnessed-approval")
@role_required(*ACTORS)
def witnessed_approval(class_id: uuid.UUID, appeal_id: uuid.UUID):
    """Approve after the witnessed check ``nonce`` passed, with ``note``."""
    _class(class_id)
    appeal = appeals.decide_appeal(current_user, appeal_id, True, "witnessed_face", request.form.get("note", ""),
                                   nonce=request.form.get("nonce", ""), device=request.form.get("device", ""))
    return {"accepted": True, "appeal_id": str(appeal.id),
            "message": _("The witnessed face check passed: the appeal was approved and its minutes credited.")}
