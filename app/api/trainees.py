"""`/api/trainees`: register, list, read and correct real-name trainee records."""
import uuid

from flask_login import current_user

from app.api import bp
from app.api.helpers import api_roles, check, json_body, text
from app.api.serializers import trainee_json
from app.extensions import db
from app.models import Role
from app.queries import training as training_queries
from app.services.policy import visible_institution
from app.services.registry import (TraineeInput, can_manage_trainee, get_trainee_or_404,
                                   register_trainee, update_trainee, validate_trainee)

READERS = (Role.ADMIN, Role.INSTRUCTOR, Role.AUDITOR)
WRITERS = (Role.ADMIN, Role.INSTRUCTOR)


@bp.get("/trainees")
@api_roles(*READERS)
def list_trainees():
    """200 `{"trainees": [...]}` (an instructor: those their institution sees)."""
    return {"trainees": [trainee_json(t) for t in training_queries.list_trainees(
        db.session, visible_institution(current_user))]}


@bp.post("/trainees")
@api_roles(*WRITERS)
def create_trainee():
    """201 with the trainee; 400 naming each wrong field; 409 `duplicate_id_number`."""
    body, errors = json_body(), {}
    data = TraineeInput(*(text(body, f, errors) for f in ("name", "id_number", "phone", "category")),
                        employer=text(body, "employer", errors, required=False),
                        payee_bank=text(body, "payee_bank", errors, required=False),
                        payee_account=text(body, "payee_account", errors, required=False))
    check({**validate_trainee(data.cleaned()), **errors})
    return trainee_json(register_trainee(current_user, data)), 201


@bp.get("/trainees/<uuid:trainee_id>")
@api_roles(*READERS)
def get_trainee(trainee_id: uuid.UUID):
    """200 with the trainee; 404 when unknown; 403 when the actor's institution does not see it."""
    return trainee_json(get_trainee_or_404(db.session, trainee_id, current_user))


@bp.patch("/trainees/<uuid:trainee_id>")
@api_roles(*WRITERS)
def patch_trainee(trainee_id: uuid.UUID):
    """Correct phone, category, employer and payee (``payee_bank``, ``payee_account``; name and
    ID number are fixed); 200 with the record."""
    body, errors = json_body(), {}
    current = get_trainee_or_404(db.session, trainee_id, current_user, can_manage_trainee)
    phone = text(body, "phone", errors, required=False) or current.phone
    category = text(body, "category", errors, required=False) or current.category
    employer = text(body, "employer", errors, required=False) if "employer" in body else current.employer
    payee = None
    if "payee_bank" in body or "payee_account" in body:
        payee = tuple(text(body, f, errors, required=False) if f in body else getattr(current, f)
                      for f in ("payee_bank", "payee_account"))
    check(errors)
    return trainee_json(update_trainee(current_user, trainee_id, phone, category, employer, payee))
