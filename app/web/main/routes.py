"""Home, `/healthz`, `/language/<code>` and `/camera`."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import csrf, db, limiter
from app.models import Role
from app.web.access import role_required
from app.web.auth.routes import _safe_next
from app.web.main import bp


@bp.route("/")
@login_required
def index():
    """The signed-in home page; its navigation depends on the role."""
    return render_template("main/index.html", user=current_user)


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
