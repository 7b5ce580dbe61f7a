"""Home, `/healthz`, `/language/<code>` and `/camera`."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session
from flask_login import current_user, login_required
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import csrf, db, limiter
from app.models import ClaimStatus, ClassStatus, Enrolment, Role
from app.models.base import utcnow
from app.queries import attendance as attendance_queries
from app.queries import home
from app.queries.biometrics import get_trainee_of_user
from app.services import hours
from app.services.checkpoints import latest_checkpoint
from app.web.access import role_required
from app.web.auth.routes import _safe_next
from app.web.main import bp


@bp.route("/")
@login_required
def index():
    """The signed-in home page: what the account's role has to do now, counts linking to lists."""
    return render_template("main/index.html", user=current_user, **_home(current_user, utcnow()))


def _home(user, now) -> dict:
    """The home page's content for ``user``'s role."""
    if user.role == Role.TRAINEE:
        return _trainee_home(user, now)
    institution_id = user.institution_id if user.role == Role.INSTRUCTOR else None
    context = {"classes": home.classes_by_status(db.session, institution_id),
               "today": home.sessions_today(db.session, now, institution_id)}
    if user.role in (Role.INSTRUCTOR, Role.ADMIN):
        context["waiting"] = home.waiting_decisions(db.session, institution_id)
    if user.role == Role.INSTRUCTOR:
        class_ids = {row["class"].id for row in context["today"]}
        context.update(failed_today=home.failed_checks_today(db.session, now, institution_id),
                       not_checked_out=[row for cid in class_ids
                                        for row in attendance_queries.list_not_checked_out(db.session, now, class_id=cid)],
                       missed=[row for cid in class_ids
                               for row in attendance_queries.list_missed_check_outs(db.session, cid)])
        return context
    context["claims"] = home.claims_by_status(db.session)
    if user.role == Role.REVIEWER:
        context["queue"] = {"applications": context["classes"].get(ClassStatus.SUBMITTED, 0),
                            "claims": context["claims"].get(ClaimStatus.SUBMITTED, 0),
                            **home.confirmations_waiting(db.session)}
    if user.role in (Role.AUDITOR, Role.ADMIN):
        context.update(reconciliation=home.last_reconciliation(db.session), checkpoint=latest_checkpoint())
    return context


def _trainee_home(user, now) -> dict:
    """A trainee's progress, next sessions, and own minutes or appeals waiting for a decision."""
    trainee = get_trainee_of_user(db.session, user.id)
    if trainee is None:
        return {}
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.trainee_id == trainee.id)).all()
    return {"progress": [(e.training_class, hours.progress(db.session, e)) for e in enrolments],
            "next_sessions": home.next_sessions(db.session, trainee.id, now),
            "waiting": home.waiting_decisions(db.session, trainee_id=trainee.id)}


@bp.route("/healthz")
@csrf.exempt
@limiter.exempt
def healthz():
    """200 `{"status": "ok"}` when the database answers, 503 `{"status": "unavailable"}` otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("health check: database unavailable", exc_info=True)
        return {"status": "unavailable", "error": "database_unavailable"}, 503
    return {"status": "ok"}


@bp.route("/language/<code>")
def set_language(code: str):
    """Remember the chosen interface language (zh_CN or en) and go back."""
    if code in current_app.config["LANGUAGES"]:
        session["language"] = code
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/camera")
@role_required(Role.TRAINEE, Role.INSTRUCTOR, Role.ADMIN)
def camera_check():
    """A page that opens the webcam with getUserMedia and shows that frames arrive."""
    return render_template("main/camera.html")
