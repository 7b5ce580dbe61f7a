"""`/classes` and `/trainees`: read-only lists for staff; ID numbers masked except for admins."""
from flask import render_template
from flask_login import current_user

from app.extensions import db
from app.models import Role
from app.queries import training as training_queries
from app.services.resident_id import mask_resident_id
from app.web.access import STAFF, role_required
from app.web.training import bp


@bp.route("/classes")
@role_required(*STAFF)
def list_classes():
    """Every class with its institution, programme, dates, status and roster size."""
    return render_template("training/classes.html", classes=training_queries.list_classes(db.session))


@bp.route("/trainees")
@role_required(Role.ADMIN, Role.INSTRUCTOR, Role.AUDITOR)
def list_trainees():
    """Trainees under real-name management; full ID numbers are shown to admins only."""
    show = (lambda n: n) if current_user.role == Role.ADMIN else mask_resident_id
    return render_template("training/trainees.html", trainees=training_queries.list_trainees(db.session),
                           show_id=show)
