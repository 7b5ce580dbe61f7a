"""`/api/catalogue/<kind>` and `/api/programmes`: read the catalogues; administrators list,
revoke and re-list entries."""
import uuid

from flask_babel import gettext as _
from flask_login import current_user

from app.api import bp
from app.api.helpers import a_date, an_id, api_roles, check, json_body, text, whole
from app.api.serializers import listed_json
from app.errors.exceptions import NotFoundError
from app.extensions import db
from app.models import Role
from app.queries import catalogue as catalogue_queries
from app.services import catalogue as catalogue_service
from app.web.access import STAFF


def _known_kind(kind: str) -> str:
    if kind not in catalogue_queries.LISTED_MODELS:
        raise NotFoundError(_("Unknown catalogue."))
    return kind


@bp.get("/catalogue/<kind>")
@api_roles(*STAFF)
def list_catalogue(kind: str):
    """200 `{"entries": [...]}` for occupation, programme, evaluation_organisation, institution."""
    return {"entries": [listed_json(e) for e in catalogue_queries.list_entries(db.session, _known_kind(kind))]}


@bp.post("/catalogue/<kind>")
@api_roles(Role.ADMIN)
def create_catalogue_entry(kind: str):
    """201 with the new entry (`{"code", "name"}`); 409 when the code is taken."""
    body, errors = json_body(), {}
    code, name = text(body, "code", errors), text(body, "name", errors)
    check(errors)
    entry = catalogue_service.create_listed_entry(current_user, _known_kind(kind), code, name)
    return listed_json(entry), 201


@bp.post("/catalogue/<kind>/<uuid:entry_id>/status")
@api_roles(Role.ADMIN)
def set_catalogue_status(kind: str, entry_id: uuid.UUID):
    """`{"listed": false, "reason": "..."}` revokes; `true` lists again. 200 with the entry."""
    body, errors = json_body(), {}
    if not isinstance(body.get("listed"), bool):
        errors["listed"] = _("Must be true or false.")
    reason = text(body, "reason", errors)
    check(errors)
    entry = catalogue_service.set_listing_status(current_user, _known_kind(kind), entry_id,
                                                 body["listed"], reason)
    return listed_json(entry)


@bp.post("/programmes")
@api_roles(Role.ADMIN)
def create_programme():
    """201 with the programme and its first subsidy standard."""
    body, errors = json_body(), {}
    values = dict(
        code=text(body, "code", errors), name=text(body, "name", errors),
        occupation_id=an_id(body.get("occupation_id"), "occupation_id", errors),
        level=text(body, "level", errors), category=text(body, "category", errors),
        delivery_mode=text(body, "delivery_mode", errors),
        theory_hours=whole(body, "theory_hours", errors),
        practice_hours=whole(body, "practice_hours", errors),
        subsidy_amount=text(body, "subsidy_amount", errors),
        subsidy_from=a_date(body, "subsidy_from", errors))
    check(errors)
    return listed_json(catalogue_service.create_programme(current_user, **values)), 201
