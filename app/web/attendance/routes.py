"""Attendance pages.

``/me/attendance``: the signed-in trainee checks in and out with the webcam. ``/kiosk``: the
kiosk screen (at first run it takes the one-time enrolment code and binds a device key made in
the browser, kept non-extractable in IndexedDB; every request is then signed with it). ``/classes/<uuid>/attendance``: for staff, the roster × sessions grid, a chart of each
trainee's cumulative hours against the requirement, exceptions and the ledger, with the
instructor's actions (unlock, reversal with reason, ID-card check); ``…/sessions/<uuid>/log``:
one session's verifications; ``/classes/<uuid>/held``: the review queue of held hours, with bulk
accept or reject. ``/me/appeals`` and ``/classes/<uuid>/appeals``: appeals (补签, 申诉), filed by the
trainee and decided by the class's instructors.
"""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors.exceptions import NotFoundError, SkillTraceError, ValidationError
from app.extensions import db
from app.models import AlternativeVerification, ClassSession, PresenceInterval, Role
from app.queries import attendance as queries
from app.clock import LOCAL_TZ, local_now
from app.models.base import utcnow
from app.queries.biometrics import get_trainee_of_user
from app.queries.trace import liveness_words
from app.services import appeals, attendance, held_hours, hours, policy
from app.services.check_out_corrections import correct_missed_check_out
from app.services.check_outlook import check_outlook
from app.services.classes import get_class_or_404
from app.services.refusals import refusal_message
from app.web.access import STAFF, role_required
from app.web.attendance import bp
from app.web.forms import act_then_redirect

STAFF_ACTORS = (Role.INSTRUCTOR, Role.ADMIN)
PURPOSE_WORDS = {"check_in": _l("Check in"), "check_out": _l("Check out"), "roll_call": _l("Face roll-call")}


@bp.app_context_processor
def _reason_words():
    return {"reason_message": refusal_message, "close_reason_words": hours.close_reason_words,
            "liveness_words": liveness_words, "checkout_reminder": _checkout_reminder}


def _checkout_reminder() -> list:
    """For a signed-in trainee: the sessions ending soon (or ended) that they have not checked
    out of, for the reminder on every page."""
    if not current_user.is_authenticated or current_user.role != Role.TRAINEE:
        return []
    trainee = get_trainee_of_user(db.session, current_user.id)
    if trainee is None:
        return []
    return [cs for _t, cs in queries.list_not_checked_out(db.session, utcnow(), trainee_id=trainee.id)]


@bp.route("/me/attendance")
@role_required(Role.TRAINEE)
def check_in_page():
    """The trainee's check-in and check-out page, with today's sessions, the trainee's state and
    why a check-in cannot happen now, shown before the face action."""
    trainee = get_trainee_of_user(db.session, current_user.id)
    outlook = check_outlook(trainee.id) if trainee is not None else None
    return render_template("attendance/check_in.html", mode="personal", outlook=outlook,
                           challenge_url=url_for("attendance_api.start_my_check"),
                           frame_url=url_for("attendance_api.my_frame", nonce="NONCE"),
                           check_in_url=url_for("attendance_api.check_me_in"),
                           check_out_url=url_for("attendance_api.check_me_out"))


@bp.route("/me/study")
@role_required(Role.TRAINEE)
def study_page():
    """Online study: start and end with a face check, heartbeats while visible and active, and
    the face roll-calls the server asks for."""
    return render_template("attendance/study.html", held=held_hours.mine(current_user))


@bp.route("/kiosk")
def kiosk_page():
    """The kiosk screen; it signs its API calls with the kiosk's device key (the server's clock is
    given so that a kiosk whose clock is off still signs a fresh time)."""
    return render_template("attendance/check_in.html", mode="kiosk",
                           enrol_url=url_for("attendance_api.enrol_kiosk"), server_time=int(utcnow().timestamp()),
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
    """Grid, chart, exceptions and ledger of one class.

    :raise 403: the class belongs to another institution. :raise 404: no such class."""
    klass = get_class_or_404(db.session, class_id, current_user)
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
        not_checked_out=queries.list_not_checked_out(db.session, utcnow(), class_id=klass.id),
        missed=queries.list_missed_check_outs(db.session, klass.id),
        purpose_words=PURPOSE_WORDS)


@bp.route("/classes/<uuid:class_id>/sessions/<uuid:session_id>/log")
@role_required(*STAFF)
def session_log(class_id: uuid.UUID, session_id: uuid.UUID):
    """Every verification of one session: time, decision, distance, liveness, device.

    :raise 403: the class belongs to another institution. :raise 404: no such class or session."""
    klass = get_class_or_404(db.session, class_id, current_user)
    class_session = db.session.get(ClassSession, session_id)
    if class_session is None or class_session.class_id != klass.id:
        return render_template("errors/404.html"), 404
    return render_template("attendance/session_log.html", klass=klass, class_session=class_session,
                           log=queries.list_session_log(db.session, session_id), purpose_words=PURPOSE_WORDS)


def _back(class_id, action, success: str):
    """Act within a class the actor manages, then back to its attendance page.

    :raise 403: the class belongs to another institution. :raise 404: no such class."""
    get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)
    return act_then_redirect(action, success, url_for("attendance.class_attendance", class_id=class_id))


@bp.route("/classes/<uuid:class_id>/attendance/unlock/<uuid:trainee_id>", methods=["POST"])
@role_required(*STAFF_ACTORS)
def unlock_view(class_id, trainee_id):
    """Lift a trainee's lock-out (form field ``reason``)."""
    return _back(class_id, lambda: attendance.unlock_trainee(current_user, trainee_id, request.form.get("reason", "")),
                 _("Check-in unlocked (self check-in and kiosks)."))


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


def _during(cs: ClassSession, clock: time) -> datetime:
    """The Beijing ``clock`` time on the session's day, or on the next day when the session runs
    past midnight and only that instant lies inside it (a time outside the session stays on its
    first day, for the correction's own refusal)."""
    first = local_now(cs.starts_at).date()
    days = [datetime.combine(first + timedelta(days=n), clock, LOCAL_TZ) for n in (0, 1)]
    return next((at for at in days if cs.starts_at <= at <= cs.ends_at), days[0])


@bp.route("/classes/<uuid:class_id>/attendance/correct/<uuid:interval_id>", methods=["POST"])
@role_required(*STAFF_ACTORS)
def correct_check_out_view(class_id, interval_id):
    """Correct a missed check-out (form fields ``left_at`` HH:MM Beijing time during the session,
    ``reason``, ``evidence``)."""
    def act():
        missed = db.session.get(PresenceInterval, interval_id)
        if missed is None or missed.class_session.class_id != class_id:
            raise NotFoundError(_("No such presence record."))
        try:
            left = _during(missed.class_session, time.fromisoformat(request.form.get("left_at", "").strip()))
        except ValueError:
            raise ValidationError(_("Enter the time as HH:MM."), errors={"left_at": "format"}) from None
        correct_missed_check_out(current_user, interval_id, left, request.form.get("reason", ""),
                                 request.form.get("evidence", ""))
    return _back(class_id, act, _("Missed check-out corrected."))


@bp.route("/classes/<uuid:class_id>/held")
@role_required(*STAFF_ACTORS)
def held_queue(class_id: uuid.UUID):
    """The class's review queue of held hours, with their evidence; ``?reason=`` filters."""
    klass = get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)
    reason = request.args.get("reason") or None
    items = held_hours.queue(current_user, class_id, reason=reason)
    return render_template("attendance/held.html", klass=klass, items=items, reason=reason,
                           reasons=held_hours.REASONS, purpose_words=PURPOSE_WORDS)


@bp.route("/classes/<uuid:class_id>/held/<uuid:held_id>/frames/<uuid:verification_id>/<int:n>")
@role_required(Role.INSTRUCTOR)
def held_frame(class_id: uuid.UUID, held_id: uuid.UUID, verification_id: uuid.UUID, n: int):
    """One sealed evidence frame (JPEG) of a held item, for the class's instructors only; never
    cached (``no-store``)."""
    frame = held_hours.evidence_frame(current_user, class_id, held_id, verification_id, n)
    return Response(frame, mimetype="image/jpeg", headers={"Cache-Control": "no-store, private",
                                                           "X-Content-Type-Options": "nosniff"})


@bp.route("/classes/<uuid:class_id>/held/decide", methods=["POST"])
@role_required(*STAFF_ACTORS)
def decide_held(class_id: uuid.UUID):
    """Accept or reject the chosen held items (form fields ``held_id`` repeated, ``decision``
    ``accept``/``reject``, ``reason``)."""
    get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)
    accept = request.form.get("decision") == "accept"
    return act_then_redirect(
        lambda: held_hours.decide(current_user, [_uuid(v) for v in request.form.getlist("held_id")], accept,
                                  request.form.get("reason", "")),
        _("The held hours were accepted.") if accept else _("The held hours were rejected and reversed."),
        url_for("attendance.held_queue", class_id=class_id))


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(_("No such held item.")) from None


@bp.route("/me/appeals", methods=["GET", "POST"])
@role_required(Role.TRAINEE)
def my_appeals():
    """The trainee's appeals (补签, 申诉) with their outcome in words, and the form to file one
    (fields ``slot`` = enrolment:session, ``missed``, ``category``, ``from``/``to`` Beijing
    times, ``statement``)."""
    if request.method == "POST":
        def act():
            enrolment_id, _sep, session_id = request.form.get("slot", "").partition(":")
            appeals.file_appeal(current_user, _uuid(enrolment_id), _uuid(session_id), request.form.get("missed", ""),
                                request.form.get("category", ""), request.form.get("statement", ""),
                                _local_time(request.form.get("from")), _local_time(request.form.get("to")))
        return act_then_redirect(act, _("Your appeal was filed: your instructor will decide it."),
                                 url_for("attendance.my_appeals"))
    return render_template("attendance/my_appeals.html", appeals=appeals.mine(current_user),
                           slots=queries.list_my_past_sessions(db.session, current_user.id),
                           missed=appeals.MISSED, categories=appeals.CATEGORIES, methods=appeals.METHODS)


@bp.route("/classes/<uuid:class_id>/appeals")
@role_required(*STAFF_ACTORS)
def class_appeals(class_id: uuid.UUID):
    """A class's appeals, pending first, with approve and reject forms."""
    klass = get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)
    return render_template("attendance/class_appeals.html", klass=klass,
                           appeals=appeals.for_class(current_user, klass), missed=appeals.MISSED,
                           categories=appeals.CATEGORIES, methods=appeals.METHODS)


@bp.route("/classes/<uuid:class_id>/appeals/<uuid:appeal_id>/decide", methods=["POST"])
@role_required(*STAFF_ACTORS)
def decide_appeal(class_id: uuid.UUID, appeal_id: uuid.UUID):
    """Approve (field ``method``: id_card / witnessed_face) or reject an appeal, with ``note``."""
    get_class_or_404(db.session, class_id, current_user, policy.can_manage_class)
    approve = request.form.get("decision") == "approve"
    return act_then_redirect(
        lambda: appeals.decide_appeal(current_user, appeal_id, approve, request.form.get("method", ""),
                                      request.form.get("note", "")),
        _("The appeal was approved and its minutes credited.") if approve else _("The appeal was rejected."),
        url_for("attendance.class_appeals", class_id=class_id))


def _local_time(value: str | None) -> datetime:
    try:
        return datetime.fromisoformat(value or "").replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc)
    except ValueError:
        raise ValidationError(_("Give the times as a date and a time of day.")) from None
