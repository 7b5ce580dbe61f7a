"""`/api/attendance/…` (the signed-in trainee) and `/api/kiosk/…` (a kiosk, every request signed
with its device key, ``kiosk_auth``; ``POST /api/kiosk/enrol`` binds the key): server-paced
checks, check-in and check-out; instructor actions.

On-site checks are server-paced: ``POST /api/attendance/conversation`` ``{"purpose",
"camera_label"?}`` (the page's ``MediaStreamTrack.label``, a risk signal only) → 201
``{"nonce"}``; then each frame as captured, ``POST /api/attendance/conversation/<nonce>/frame``
(multipart ``frame``) → ``{"phase", "prompt"?, …}``, until ``phase`` is ``done`` (or ``failed``);
then ``POST /api/attendance/check-in`` (or ``check-out``) with the ``nonce`` alone (multipart or
form), optional ``captured_at`` (RFC 3339; refused as ``clock_skew`` when far from the server's
clock) → 200 with the outcome, or 409 ``{"error": reason, "message": plain words,
"verification_id"}`` for a refusal (stored as a failed verification). Kiosks the same under
``/api/kiosk/``. Online study starts, ends and answers roll-calls with the same conversation
(purpose ``check_in``, ``check_out`` or ``roll_call``), then ``/api/study/start``, ``end`` or
``roll-call``. Check endpoints are rate-limited (``CHECK_IN_RATE_LIMIT`` per client).
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from limits import RateLimitItemPerSecond
from limits import parse as parse_limit

from app.api.biometrics import frame_upload
from app.api.helpers import a_time, acting_on_entry, api_roles, check, json_body, text
from app.errors.exceptions import ValidationError
from app.extensions import csrf, limiter
from app.models import Role
from app.services import attendance, hours, kiosks, study
from app.web.access import acting_for_trainee

bp = Blueprint("attendance_api", __name__, url_prefix="/api")

def _max_frames() -> int:
    return current_app.config["CHECK_IN_MAX_FRAMES"]


def _rate() -> str:
    return current_app.config["CHECK_IN_RATE_LIMIT"]


def attempt_json(attempt) -> tuple[dict, int]:
    body = {"accepted": attempt.accepted, "purpose": attempt.purpose, "message": attempt.message,
            "verification_id": str(attempt.verification_id) if attempt.verification_id else None,
            "interval_id": str(attempt.interval_id) if attempt.interval_id else None,
            "minutes_credited": attempt.minutes_credited, "distance": attempt.distance}
    if attempt.accepted:
        return body, 200
    return {**body, "error": attempt.reason}, 423 if attempt.reason in ("locked_out", "kiosk_locked") else 409


def _nonce() -> str:
    """The nonce of a paced challenge (its frames were streamed before, so none are sent here)."""
    nonce = request.form.get("nonce", "")
    if not nonce:
        raise ValidationError(_("Send the nonce of the face check."), code="missing_nonce")
    return nonce


def _one_frame() -> bytes:
    frame = request.files.get("frame")
    if frame is None:
        raise ValidationError(_("Send one picture as the field frame."), code="missing_frames")
    return frame.read()


def _frame_rate() -> str:
    return current_app.config["CHECK_IN_FRAME_RATE_LIMIT"]


def conversation_json(challenge) -> dict:
    return {"nonce": challenge.nonce, "purpose": challenge.purpose.value, "expires_at": challenge.expires_at.isoformat()}


def _captured_at():
    """The client's capture time (optional ``captured_at``, RFC 3339), checked against the
    server's clock by the service."""
    value = request.form.get("captured_at")
    if not value:
        return None
    errors: dict = {}
    moment = a_time(value, "captured_at", errors)
    check(errors)
    return moment


def _camera_label(body: dict) -> str | None:
    """The camera's device label the page reported (None: not reported; never trusted)."""
    label = body.get("camera_label")
    return label if isinstance(label, str) else None


def _device() -> str:
    return request.form.get("device") or request.headers.get("User-Agent", "")


@bp.post("/attendance/conversation")
@limiter.limit(_rate)
@api_roles(Role.TRAINEE)
def start_my_check():
    """Start a server-paced check: ``{"purpose", "camera_label"?}`` → 201 ``{"nonce", "purpose",
    "expires_at"}``."""
    body = json_body()
    return conversation_json(attendance.start_check(current_user, body.get("purpose", ""),
                                                    camera_label=_camera_label(body))), 201


@bp.post("/attendance/conversation/<nonce>/frame")
@limiter.limit(_frame_rate)
@api_roles(Role.TRAINEE)
@frame_upload(lambda: 1)
def my_frame(nonce):
    """One frame as captured (multipart ``frame``) → the phase and, when one is out, the prompt."""
    return attendance.stream_frame(current_user, nonce, _one_frame())


@bp.post("/attendance/check-in")
@limiter.limit(_rate)
@api_roles(Role.TRAINEE)
def check_me_in():
    """Check the signed-in trainee in (1:1)."""
    nonce = _nonce()
    return attempt_json(attendance.check_personal(current_user, "check_in", nonce, [], _device(),
                                                  captured_at=_captured_at()))


@bp.post("/attendance/check-out")
@limiter.limit(_rate)
@api_roles(Role.TRAINEE)
def check_me_out():
    """Check the signed-in trainee out (1:1) and credit the hours."""
    nonce = _nonce()
    return attempt_json(attendance.check_personal(current_user, "check_out", nonce, [], _device(),
                                                  captured_at=_captured_at()))


def _failure_throttle():
    """The throttle of wrong kiosk codes and signatures, and its keys: the client address and,
    when named, the kiosk key."""
    throttle = parse_limit(current_app.config["KIOSK_AUTH_FAILURE_LIMIT"])
    key = request.headers.get("X-Kiosk-Key", "")[:64]
    keys = [f"kiosk-auth-failures:{request.remote_addr}"] + ([f"kiosk-auth-failures:{key}"] if key else [])
    return throttle, keys


def _kiosk_refusal(reason: str, throttle, keys, status: int = 401):
    for key in keys:
        limiter.limiter.hit(throttle, key)
    status = 403 if reason == "address_not_allowed" else status
    return {"error": reason, "message": kiosks.refusal_message(reason)}, status


def _first_use(kiosk, nonce: str) -> bool:
    """Whether this kiosk's request nonce is new (kept for twice the signature's lifetime)."""
    seconds = 2 * current_app.config["KIOSK_SIGNATURE_MAX_AGE_SECONDS"]
    return limiter.limiter.hit(RateLimitItemPerSecond(1, seconds), f"kiosk-nonce:{kiosk.key}:{nonce}")


def kiosk_auth(view):
    """A request signed by an enrolled kiosk's device key (`app.services.kiosks`), from its allowed
    address ranges, with a nonce not seen before; no cookie, so no CSRF token. Wrong signatures are
    throttled per client address and per kiosk key (``KIOSK_AUTH_FAILURE_LIMIT``).

    :raise 401: missing, wrong, stale or replayed signature. :raise 403: outside the kiosk's
        address ranges. :raise 429: too many wrong ones lately.
    """
    @csrf.exempt
    @wraps(view)
    def wrapped(*args, **kwargs):
        throttle, keys = _failure_throttle()
        if not all(limiter.limiter.test(throttle, key) for key in keys):
            return ({"error": "too_many_failures",
                     "message": _("Too many wrong kiosk credentials. Wait a few minutes and try again.")}, 429)
        request.max_content_length = _max_frames() * current_app.config["FACE_MAX_FRAME_BYTES"] + 65536
        kiosk, reason = kiosks.verify_request(request.headers.get("X-Kiosk-Key", ""), request.method, request.path,
                                              request.headers, request.get_data(cache=True), request.remote_addr)
        if not reason and not _first_use(kiosk, request.headers["X-Kiosk-Nonce"]):
            reason = "replayed_signature"
        if reason:
            return _kiosk_refusal(reason, throttle, keys)
        return view(kiosk, *args, **kwargs)
    return wrapped


@bp.post("/kiosk/enrol")
@csrf.exempt
def enrol_kiosk():
    """Bind this kiosk's device key: ``{"code", "public_key"}`` (the one-time enrolment code and
    the base64 DER SubjectPublicKeyInfo of a P-256 key) → 201 ``{"key", "name", "site"}``.

    :raise 400: wrong, used or expired code (``bad_code``, throttled as wrong signatures), or not
        a P-256 key. :raise 403: sent with a signed-in session (the kiosk page sends none: a
        kiosk is no one's account). :raise 429: too many wrong codes lately.
    """
    if current_user.is_authenticated:
        return {"error": "signed_in", "message": _("A kiosk enrols without anyone's sign-in.")}, 403
    throttle, keys = _failure_throttle()
    if not all(limiter.limiter.test(throttle, key) for key in keys):
        return ({"error": "too_many_failures",
                 "message": _("Too many wrong kiosk credentials. Wait a few minutes and try again.")}, 429)
    body = json_body()
    kiosk = kiosks.bind_device(str(body.get("code", "")), str(body.get("public_key", "")), request.remote_addr)
    if kiosk is None:
        return _kiosk_refusal("bad_code", throttle, keys, status=400)
    return {"key": kiosk.key, "name": kiosk.name, "site": kiosk.site}, 201


@bp.post("/kiosk/conversation")
@limiter.limit(_rate)
@kiosk_auth
def start_kiosk_check(kiosk):
    """Start a server-paced check at the kiosk, as ``/attendance/conversation``."""
    body = json_body()
    return conversation_json(attendance.start_check(None, body.get("purpose", ""), kiosk=kiosk,
                                                    camera_label=_camera_label(body))), 201


@bp.post("/kiosk/conversation/<nonce>/frame")
@limiter.limit(_frame_rate)
@kiosk_auth
def kiosk_frame(kiosk, nonce):
    """One frame of a kiosk's paced check."""
    return attendance.stream_frame(None, nonce, _one_frame(), kiosk=kiosk)


@bp.post("/kiosk/check-in")
@limiter.limit(_rate)
@kiosk_auth
def kiosk_check_in(kiosk):
    """Identify (1:N) and check in; optional form field ``class_id``."""
    nonce = _nonce()
    return attempt_json(attendance.check_at_kiosk(kiosk, "check_in", nonce, [], _device(),
                                                  request.form.get("class_id") or None,
                                                  captured_at=_captured_at()))


@bp.post("/kiosk/check-out")
@limiter.limit(_rate)
@kiosk_auth
def kiosk_check_out(kiosk):
    """Identify (1:N) and check out."""
    nonce = _nonce()
    return attempt_json(attendance.check_at_kiosk(kiosk, "check_out", nonce, [], _device(),
                                                  captured_at=_captured_at()))


@bp.post("/trainees/<uuid:trainee_id>/attendance/alternative")
@api_roles(Role.INSTRUCTOR, Role.ADMIN)
def check_alternative(trainee_id):
    """Instructor-witnessed ID-card check: ``{"purpose", "note"}``."""
    acting_for_trainee(trainee_id)
    body = json_body()
    return attempt_json(attendance.check_alternative(current_user, trainee_id, body.get("purpose", ""),
                                                     str(body.get("note", ""))))


def _reason() -> str:
    """The required ``reason`` of a JSON body. :raise 400: missing or not text."""
    errors: dict = {}
    reason = text(json_body(), "reason", errors)
    check(errors)
    return reason


@bp.post("/trainees/<uuid:trainee_id>/attendance/unlock")
@api_roles(Role.INSTRUCTOR, Role.ADMIN)
def unlock(trainee_id):
    """Lift a lock-out: ``{"reason"}``."""
    acting_for_trainee(trainee_id)
    lock = attendance.unlock_trainee(current_user, trainee_id, _reason())
    return {"unlocked_at": lock.unlocked_at.isoformat()}


@bp.post("/hours/<uuid:entry_id>/reversal")
@api_roles(Role.INSTRUCTOR, Role.ADMIN)
def reverse(entry_id):
    """Reverse a credited ledger entry: ``{"reason"}`` → 201 with the reversing entry."""
    acting_on_entry(entry_id)
    entry = hours.reverse_entry(current_user, entry_id, _reason())
    return {"id": str(entry.id), "minutes": entry.minutes, "reverses_id": str(entry.reverses_id),
            "statement_id": str(entry.statement_id)}, 201


# -- online study ----------------------------------------------------------------------------------
# ``POST /api/study/start`` and ``/api/study/end`` (the nonce of a ``check_in`` or ``check_out``
# conversation): a verified face starts or ends online study. ``POST
# /api/study/heartbeat`` ``{"visible", "active"}`` → the study status, with ``roll_call`` when the
# page must answer one (``interactions``: input events since the last beat, a risk signal only);
# ``GET /api/study/token`` → a fresh CSRF token for a page open all day; ``POST /api/study/roll-call`` (the nonce of a
# ``roll_call`` conversation) answers it, or resumes paused accrual.

@bp.post("/study/start")
@limiter.limit(_rate)
@api_roles(Role.TRAINEE)
def start_study():
    """Start online study with a verified face (an online session of the trainee's classes now)."""
    nonce = _nonce()
    return attempt_json(attendance.check_personal(current_user, "check_in", nonce, [], _device(), online=True,
                                                  captured_at=_captured_at()))


@bp.post("/study/end")
@limiter.limit(_rate)
@api_roles(Role.TRAINEE)
def end_study():
    """End study with a verified face and credit the counted minutes."""
    nonce = _nonce()
    return attempt_json(attendance.check_personal(current_user, "check_out", nonce, [], _device(),
                                                  captured_at=_captured_at()))


@bp.post("/study/heartbeat")
@api_roles(Role.TRAINEE)
def study_heartbeat():
    """One heartbeat of the study page."""
    body = json_body()
    interactions = body.get("interactions", 0)
    return study.heartbeat(current_user, visible=bool(body.get("visible", True)),
                           active=bool(body.get("active", True)),
                           interactions=interactions if isinstance(interactions, int) else 0)


@bp.get("/study/token")
@api_roles(Role.TRAINEE)
def study_token():
    """A fresh CSRF token for a study page open longer than a token lives (same-origin only:
    a JSON answer another site cannot read)."""
    return {"csrf_token": generate_csrf(), "lifetime_seconds": current_app.config["WTF_CSRF_TIME_LIMIT"]}


@bp.post("/study/roll-call")
@limiter.limit(_rate)
@api_roles(Role.TRAINEE)
def answer_roll_call():
    """Answer a face roll-call (or verify the face to resume paused study)."""
    nonce = _nonce()
    return attempt_json(study.answer_roll_call(current_user, nonce, _device(), captured_at=_captured_at()))


@bp.get("/study")
@api_roles(Role.TRAINEE)
def study_status():
    """The signed-in trainee's open study, or ``{"studying": false}``."""
    current = study.status(current_user)
    return {"studying": False} if current is None else {"studying": True, **current}
