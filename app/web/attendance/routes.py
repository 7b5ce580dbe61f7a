"""Attendance pages.

``/me/attendance``: the signed-in trainee checks in and out with the webcam. ``/kiosk``: the
kiosk screen (the kiosk's key and secret are typed in once and kept in the tab's session
storage). ``/classes/<uuid>/attendance``: for staff, the roster × sessions grid, a chart of each
trainee's cumulative hours against the requirement, exceptions and the ledger, with the
instructor's actions (unlock, reversal with reason, ID-card check); ``…/sessions/<uuid>/log``:
one session's verifications.
"""
from __future__ import annotations

import uuid

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import AlternativeVerification, ClassSession, Role
from app.queries import attendance as queries
from app.services import attendance, hours
from app.services.classes import get_class_or_404
from app.web.access import STAFF, role_required
from app.web.attendance import bp
from app.web.forms import act_then_redirect

STAFF_ACTORS = (Role.INSTRUCTOR, Role.ADMIN)
PURPOSE_WORDS = {"check_in": _l("Check in"), "check_out": _l("Check out"), "roll_call": _l("Face roll-call")}


@bp.app_context_processor
def _reason_words():
    return {"reason_message": attendance.reason_message}


@bp.route("/me/attendance")
@role_required(Role.TRAINEE)
def check_in_page():
    """The trainee's check-in and check-out page."""
    return render_template("attendance/check_in.html", mode="personal",
                           challenge_url=url_for("attendance_api.start_my_check"),
                           frame_url=url_for("attendance_api.my_frame", nonce="NONCE"),
                           check_in_url=url_for("attendance_api.check_me_in"),
                           check_out_url=url_for("attendance_api.check_me_out"))


@bp.route("/me/study")
@role_required(Role.TRAINEE)
def study_page():
    """Online study: start and end with a face check, heartbeats while visible and active, and
    the face roll-calls the server asks for."""
    return render_template("attendance/study.html")


@bp.route("/kiosk")
def kiosk_page():
    """The kiosk screen; it authenticates its API calls with the kiosk's own credentials."""
    return render_template("attendance/check_in.html", mode="kiosk",
                           challenge_url=url_for("attendance_api.start_kiosk_check"),
                           frame_url=url_for("attendance_api.kiosk_frame", nonce="NONCE"),
                           check_in_url=url_for("attendance_api.kiosk_check_in"),
                           check_out_url=url_for("attendance_api.kiosk_check_out"))


def _chart(rows) -> dict:
    """Bar geometry for the cumulative-hours chart (SVG user units)."""
    scale_max = max([r["progress"].needed for r in rows] + [r["progress"].net for r in rows] + [1])
    width, bar_h, gap, left = 520, 18, 8, 110
    bars = []
    for i, r in enumerate(rows):
        p = r["progress"]
        bars.append({"y": i * (bar_h + gap) + 4, "name": r["trainee"].name,
                     "w": round(width * max(p.net, 0) / scale_max, 1),
                     "req_x": left + round(width * p.needed / scale_max, 1),
                     "label": f"{p.net / p.hour_length:.1f} / {p.needed / p.hour_length:.0f}"})
    return {"bars": bars, "left": left, "width": width, "bar_h": bar_h,
            "height": len(rows) * (bar_h + gap) + 8}


@bp.route("/classes/<uuid:class_id>/attendance")
@role_required(*STAFF)
def class_attendance(class_id: uuid.UUID):
    """Grid, chart, exceptions and ledger of one class."""
    klass = get_class_or_404(db.session, class_id)
    roster = queries.list_class_enrolments(db.session, klass.id)
    trainee_ids = [t.id for _e, t in roster]
    rows = [{"enrolment": e, "trainee": t, "progress": hours.progress(db.session, e)} for e, t in roster]
    alternatives = set(db.session.scalars(
        AlternativeVerification.__table__.select().with_only_columns(AlternativeVerification.trainee_id)
        .where(AlternativeVerification.ended_at.is_(None), AlternativeVerification.trainee_id.in_(trainee_ids))))
    return render_template(
        "attendance/class.html", klass=klass, rows=rows, grid=queries.get_minutes_grid(db.session, klass.id),
        chart=_chart(rows), exceptions=queries.list_class_exceptions(db.session, klass.id, trainee_ids),
        ledger=queries.list_class_ledger(db.session, klass.id),
        reversed_ids={e.reverses_id for e, _t in queries.list_class_ledger(db.session, klass.id) if e.reverses_id},
        locks=queries.list_active_locks(db.session, trainee_ids), alternatives=alternatives,
        can_act=current_user.role in STAFF_ACTORS, purpose_words=PURPOSE_WORDS)


@bp.route("/classes/<uuid:class_id>/sessions/<uuid:session_id>/log")
@role_required(*STAFF)
def session_log(class_id: uuid.UUID, session_id: uuid.UUID):
    """Every verification of one session: time, decision, distance, liveness, device."""
    klass = get_class_or_404(db.session, class_id)
    class_session = db.session.get(ClassSession, session_id)
    if class_session is None or class_session.class_id != klass.id:
        return render_template("errors/404.html"), 404
    return render_template("attendance/session_log.html", klass=klass, class_session=class_session,
                           log=queries.list_session_log(db.session, session_id), purpose_words=PURPOSE_WORDS)


def _back(class_id, action, success: str):
    return act_then_redirect(action, success, url_for("attendance.class_attendance", class_id=class_id))


@bp.route("/classes/<uuid:class_id>/attendance/unlock/<uuid:trainee_id>", methods=["POST"])
@role_required(*STAFF_ACTORS)
def unlock_view(class_id, trainee_id):
    """Lift a trainee's lock-out (form field ``reason``)."""
    return _back(class_id, lambda: attendance.unlock_trainee(current_user, trainee_id, request.form.get("reason", "")),
                 _("Self check-in unlocked."))


@bp.route("/classes/<uuid:class_id>/attendance/reverse/<uuid:entry_id>", methods=["POST"])
@role_required(*STAFF_ACTORS)
def reverse_view(class_id, entry_id):
    """Reverse a ledger entry (form field ``reason``)."""
    return _back(class_id, lambda: hours.reverse_entry(current_user, entry_id, request.form.get("reason", "")),
                 _("The entry was reversed."))


@bp.route("/classes/<uuid:class_id>/attendance/alternative/<uuid:trainee_id>", methods=["POST"])
@role_required(*STAFF_ACTORS)
def alternative_view(class_id, trainee_id):
    """ID-card check-in or check-out (form fields ``purpose``, ``note``)."""
    def act():
        attempt = attendance.check_alternative(current_user, trainee_id, request.form.get("purpose", "check_in"),
                                               request.form.get("note", ""))
        if not attempt.accepted:
            raise SkillTraceError(attempt.message)
    return _back(class_id, act, _("The ID-card check was recorded."))
