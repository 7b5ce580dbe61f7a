"""Challenges and face work for attendance (R2): one-time challenges with a liveness action, and
frames → a face decision (liveness over the burst, then 1:1 against the trainee's template or
1:N over a kiosk's roster), done before the write transaction so CPU work never holds the lock.

The outcome is a `FaceEvidence`; `app.services.attendance` turns it into a recorded check.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from recognition import Gallery, ModelNotAvailableError, TemplateError, verify
from recognition import new_challenge as new_liveness_challenge
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors.exceptions import NotFoundError, PermissionDeniedError, UnavailableError, ValidationError
from app.extensions import db
from app.face import get_face
from app.models import CheckInChallenge, FaceTemplate, Kiosk, Purpose, User
from app.models.base import utcnow
from app.queries import biometrics as bio_queries
from app.services import policy
from app.services._tx import transaction


def parse_purpose(value: str) -> Purpose:
    try:
        return Purpose(value)
    except ValueError:
        raise ValidationError(_("Purpose must be check_in or check_out."), code="invalid_purpose") from None


@dataclass
class FaceEvidence:
    """What the frames showed, computed before the transaction."""

    liveness_passed: bool | None = None
    liveness_reason: str = ""
    refusal: str = ""
    distance: float | None = None
    threshold: float | None = None
    trainee_id: uuid.UUID | None = None


def clock_skewed(captured_at: datetime | None) -> bool:
    """Whether a client's capture time is further from the server's clock than
    ``CHECK_IN_MAX_CLOCK_SKEW_SECONDS``. Only checked: every recorded time is the server's."""
    if captured_at is None:
        return False
    limit = current_app.config["CHECK_IN_MAX_CLOCK_SKEW_SECONDS"]
    return abs((captured_at - utcnow()).total_seconds()) > limit


# -- challenges ----------------------------------------------------------------------------------

def issue_challenge(actor: User | None, purpose: str, kiosk: Kiosk | None = None) -> CheckInChallenge:
    """A one-time nonce and liveness action for the signed-in trainee or for a kiosk.

    Raises:
        ValidationError: unknown purpose. NotFoundError: the account has no trainee record.
        PermissionDeniedError: neither a trainee nor a kiosk.
    """
    purpose = parse_purpose(purpose)
    trainee_id = None
    if kiosk is None:
        if actor is None or not policy.is_trainee(actor):
            raise PermissionDeniedError(_("Only trainees check themselves in."))
        trainee = bio_queries.get_trainee_of_user(db.session, actor.id)
        if trainee is None:
            raise NotFoundError(_("Your account is not linked to a trainee record. Ask the training office."),
                                code="no_trainee_record")
        trainee_id = trainee.id
    liveness = new_liveness_challenge()
    now = utcnow()
    with transaction() as session:
        challenge = CheckInChallenge(
            nonce=liveness.nonce, action=liveness.action, purpose=purpose, trainee_id=trainee_id,
            kiosk_id=kiosk.id if kiosk else None, issued_at=now,
            expires_at=now + timedelta(seconds=current_app.config["CHECK_IN_CHALLENGE_SECONDS"]))
        session.add(challenge)
    return challenge


def consume_challenge(session: Session, nonce: str, purpose: Purpose, now: datetime, trainee_id=None,
             kiosk: Kiosk | None = None) -> tuple[CheckInChallenge | None, str]:
    challenge = session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == (nonce or "")[:64])
                               .with_for_update())
    if challenge is None or challenge.trainee_id != trainee_id or challenge.kiosk_id != (kiosk.id if kiosk else None):
        return None, "unknown_nonce"
    if challenge.used_at is not None:
        return challenge, "nonce_used"
    challenge.used_at = now
    if challenge.expires_at < now:
        return challenge, "nonce_expired"
    if challenge.purpose != purpose:
        return challenge, "wrong_purpose"
    return challenge, ""


def peek_action(nonce: str) -> str | None:
    """The action of a challenge that still looks usable (else frames are not analysed at all)."""
    challenge = db.session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == (nonce or "")[:64]))
    db.session.rollback()
    if challenge is None or challenge.used_at is not None or challenge.expires_at < utcnow():
        return None
    return challenge.action


# -- face work (outside the transaction) --------------------------------------------------------

def _liveness(action: str, frames: Sequence[bytes], result: FaceEvidence):
    face = get_face()
    low, high = current_app.config["CHECK_IN_MIN_FRAMES"], current_app.config["CHECK_IN_MAX_FRAMES"]
    if not low <= len(frames) <= high:
        raise ValidationError(_("Send between %(low)s and %(high)s pictures, not %(count)s.",
                                low=low, high=high, count=len(frames)), code="frame_count")
    try:
        live, probe = face.pipeline.check_liveness(action, frames)
    except ModelNotAvailableError:
        raise UnavailableError(_("Face recognition is not available on this server. Tell the administrator."),
                               code="face_unavailable") from None
    result.liveness_passed, result.liveness_reason = live.passed, live.reason or ""
    if not live.passed:
        reason = live.reason or ""
        if reason.startswith("frame_"):
            result.refusal = "frame_refused:" + reason.split(":", 1)[-1]
        elif reason in ("frames_identical", "different_faces"):
            result.refusal = reason
        else:
            result.refusal = "liveness_failed"
    return probe


def verify_personal(trainee_id, action: str, frames: Sequence[bytes]) -> FaceEvidence:
    result = FaceEvidence(trainee_id=trainee_id)
    probe = _liveness(action, frames, result)
    if probe is None:
        return result
    face = get_face()
    stored = db.session.scalar(select(FaceTemplate).where(FaceTemplate.trainee_id == trainee_id))
    if stored is None:
        result.refusal = "no_template"
        return result
    try:
        template = face.cipher.decrypt(stored.sealed, expected_encoder=stored.encoder)
    except TemplateError:
        raise UnavailableError(_("Stored face templates cannot be read. Tell the administrator."),
                               code="templates_unreadable") from None
    match = verify(template, probe, threshold=face.match_threshold)
    result.distance, result.threshold = round(float(match.distance), 4), match.threshold
    if match.decision != "match":
        result.refusal = "face_mismatch"
    return result


def identify_at_kiosk(action: str, frames: Sequence[bytes], roster: list[uuid.UUID]) -> FaceEvidence:
    result = FaceEvidence()
    probe = _liveness(action, frames, result)
    if probe is None:
        return result
    face = get_face()
    templates = [t for t in db.session.scalars(select(FaceTemplate).where(FaceTemplate.trainee_id.in_(roster)))
                 if t.encoder == probe.encoder] if roster else []
    gallery = Gallery(probe.encoder, threshold=face.match_threshold)
    if templates:
        gallery.add_many([str(t.trainee_id) for t in templates],
                         [face.cipher.decrypt(t.sealed, expected_encoder=t.encoder).vector for t in templates])
    match = gallery.identify(probe)
    result.distance = None if match.distance == float("inf") else round(float(match.distance), 4)
    result.threshold = match.threshold
    if match.decision == "match":
        result.trainee_id = uuid.UUID(match.identity)
    else:
        result.refusal = "face_unknown" if roster else "outside_window"
    return result


__all__ = ["FaceEvidence", "clock_skewed", "consume_challenge", "identify_at_kiosk", "issue_challenge", "parse_purpose",
           "peek_action", "verify_personal"]
