"""`/classes` and `/trainees`: read-only lists for staff; ID numbers masked except for admins."""
from flask import render_template, request
from flask_login import current_user

from app.extensions import db
from app.models import ClassStatus, Role
from app.queries import training as training_queries
from app.services.policy import visible_institution
from app.web.access import STAFF, role_required
from app.web.training import bp


@bp.route("/classes")
@role_required(*STAFF)
def list_classes():
    """Every class (an instructor: their institution's) with its institution, programme, dates, status and roster size;
    ``?status=submitted`` is the reviewers' queue."""
    try:
        status = ClassStatus(request.args["status"]) if request.args.get("status") else None
    except ValueError:
        status = None
    return render_template("training/classes.html", status=status, statuses=list(ClassStatus),
                           classes=training_queries.list_classes(db.session, status, visible_institution(current_user)))


@bp.route("/trainees")
@role_required(Role.ADMIN, Role.INSTRUCTOR, Role.AUDITOR)
def list_trainees():
    """Trainees under real-name management (an instructor: those their institution sees); full ID numbers are shown to admins only."""
    return render_template("training/trainees.html", trainees=training_queries.list_trainees(
        db.session, visible_institution(current_user)))
