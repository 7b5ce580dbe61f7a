"""Face enrolment (R1, R2): quality feedback on single frames, and the encrypted template built
from several frames after consent, refused when the same face is enrolled under another ID.

Only the sealed template is stored: frames are analysed in memory and dropped, and neither a
vector in the clear nor an image reaches the database or the audit log. Frames are analysed
before the write transaction opens, so the CPU work does not hold the database's write lock.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from recognition.occlusion import check_occlusion
from recognition.paced import fingerprint
from recognition import (EnrolmentRejected, Gallery, ImageRefused, ModelNotAvailableError,
                         TemplateError, enrol_template)
from recognition.compare import compare_encodings
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.errors.exceptions import (ConflictError, NotFoundError, PermissionDeniedError,
                                   UnavailableError, ValidationError)
from app.extensions import db
from app.face import get_face
from app.models import (AlternativeVerification, Consent, ConsentText, DuplicateFaceFlag, FaceTemplate, Trainee,
                        User)
from app.models.base import utcnow
from app.queries import biometrics as queries
from app.services import policy, replay
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.consent import active_consent, current_consent_text

_ENROL_LOCK_KEY = 0x5354_4641_4345  # "STFACE": enrolments queue so two cannot miss each other
#: How many of the nearest other templates an enrolment lists for review.
REVIEW_LIST = 5

#: What the page tells the person in front of the camera, by refusal reason.
REASON_MESSAGES = {
    "empty": _l("No picture was received."),
    "too_large": _l("The picture file is too large."),
    "too_many_pixels": _l("The picture has too many pixels."),
    "unsupported_format": _l("This is not a JPEG, PNG or WebP picture."),
    "corrupt": _l("The picture is damaged and cannot be read."),
    "no_face": _l("No face found. Look into the camera."),
    "several_faces": _l("More than one face in the picture. Only the trainee may be in view."),
    "face_too_small": _l("The face is too small. Come closer to the camera."),
    "too_blurry": _l("The picture is blurred. Hold still."),
    "too_dark": _l("Too dark. Turn on a light or face the window."),
    "too_bright": _l("Too bright. Move away from the strong light."),
    "pose": _l("Face the camera directly."),
    "eyes_covered": _l("Your eyes are covered. Take off sunglasses or anything in front of your eyes."),
    "mouth_covered": _l("Your mouth is covered. Take off the mask or anything in front of your face."),
    "too_few_captures": _l("Too few usable pictures."),
    "captures_disagree": _l("The pictures do not show the same face. Only the trainee may be in view."),
    "mixed_encoders": _l("The pictures were encoded differently. Please try again."),
}
MESSAGE_OK = _l("Good. Hold still.")

#: The face detectors that align templates, in words (``FaceTemplate.detector``).
DETECTOR_WORDS = {
    "retinaface": _l("RetinaFace (five landmarks)"),
    "hog": _l("dlib HOG (the older detector)"),
}


def reason_message(reason: str) -> str:
    """The person-facing sentence for a refusal code (the code itself when unknown)."""
    message = REASON_MESSAGES.get(reason)
    return str(message) if message is not None else reason


@dataclass(frozen=True)
class FrameVerdict:
    """One frame's quality verdict for live feedback.

    ``reason`` is ``None`` when the frame is usable, else a code of
    ``recognition.REFUSAL_REASONS``; ``message`` says it in the interface language; ``face_px``,
    ``brightness``, ``sharpness`` and ``yaw`` are the measures of a found face (else ``None``).
    """

    ok: bool
    reason: str | None
    message: str
    face_px: int | None = None
    brightness: float | None = None
    sharpness: float | None = None
    yaw: float | None = None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "reason": self.reason, "message": self.message,
                "quality": None if self.face_px is None else {
                    "face_px": self.face_px, "brightness": round(self.brightness, 1),
                    "sharpness": round(self.sharpness, 1), "yaw": round(self.yaw, 3)}}


@dataclass(frozen=True)
class EnrolmentResult:
    """A stored template: its id, how many frames made it, and whether it replaced another."""

    template_id: uuid.UUID
    trainee_id: uuid.UUID
    encoder: str
    captures: int
    replaced: bool


@dataclass(frozen=True)
class BiometricState:
    """What the consent and enrolment pages show about one trainee."""

    trainee: Trainee
    consent_text: ConsentText
    consent: Consent | None
    template: FaceTemplate | None
    alternative: AlternativeVerification | None


def frames_to_capture() -> int:
    """How many good frames the enrolment page gathers: two more than the minimum (the template
    is their mean, steadier with more), within the maximum."""
    low, high = current_app.config["ENROL_MIN_FRAMES"], current_app.config["ENROL_MAX_FRAMES"]
    return min(low + 2, high)


def check_frame(data: bytes) -> FrameVerdict:
    """Run one frame through the quality gates, for live feedback while enrolling.

    Args:
        data: the encoded frame (JPEG, PNG or WebP bytes).

    Returns:
        A `FrameVerdict`; a refused frame is a verdict, not an error.

    Raises:
        UnavailableError: the face models cannot be loaded.
    """
    face = get_face()
    try:
        _image, capture = face.pipeline.capture(data)
    except ImageRefused as exc:
        return FrameVerdict(False, exc.reason, reason_message(exc.reason))
    except ModelNotAvailableError as exc:
        raise _models_unavailable(exc) from None
    quality = capture.quality
    return FrameVerdict(True, None, str(MESSAGE_OK), quality.face_px, quality.brightness,
                        quality.sharpness, quality.yaw)


def check_enrolment_frame(actor: User, trainee_id, data: bytes) -> FrameVerdict:
    """`check_frame` for a trainee the actor may enrol who has consented; faces of people who
    have not consented are not processed at all.

    Raises:
        NotFoundError, PermissionDeniedError: no such trainee, or not the actor's own record.
        ConflictError: no consent in force (code ``no_consent``).
        UnavailableError: the face models cannot be loaded.
    """
    _require_consent(db.session, actor, trainee_id)
    return check_frame(data)


def enrol_face(actor: User, trainee_id, frames: Sequence[bytes]) -> EnrolmentResult:
    """Build the trainee's face template from several frames and store it sealed.

    Each frame must show exactly one usable face; the frames must agree with one another
    (``recognition.enrol_template``); and the face must not be enrolled under another trainee. A
    duplicate is refused, flagged for an administrator and audited in one transaction. A second
    enrolment replaces the first template only when the new face matches the enrolled one
    (refused and audited otherwise).

    Args:
        actor: who enrols (staff, or the trainee for themself).
        trainee_id: the trainee's id.
        frames: the encoded frames, ``ENROL_MIN_FRAMES`` to ``ENROL_MAX_FRAMES`` of them.

    Returns:
        An `EnrolmentResult`.

    Raises:
        NotFoundError, PermissionDeniedError: no such trainee, or not the actor's own record.
        ValidationError: too few or too many frames (code ``frame_count``), a frame refused (code
            = the refusal reason, ``errors["frame"]`` its index), or frames that do not make a
            template (``captures_disagree`` …).
        ConflictError: no consent in force (``no_consent``), the face is enrolled under
            another trainee (``duplicate_face``), or it does not match the trainee's enrolled
            face (``replacement_mismatch``).
        UnavailableError: the face models or a template key cannot be used, or stored templates
            were made by a detector that cannot run here (``template_detector_unavailable``: the
            duplicate check could not be complete).
    """
    trainee_id = _require_consent(db.session, actor, trainee_id).id
    _check_frame_count(len(frames))
    face = get_face()
    encodings, prints = [], []
    for index, data in enumerate(frames):
        try:
            capture, encoding = face.pipeline.encode_bytes(data)
            check_occlusion(capture)
            encodings.append(encoding)
            prints.append(fingerprint(capture))
        except ImageRefused as exc:
            raise ValidationError(_("Picture %(n)s: %(message)s", n=index + 1,
                                    message=reason_message(exc.reason)),
                                  code=exc.reason, errors={"frame": index}) from None
        except ModelNotAvailableError as exc:
            raise _models_unavailable(exc) from None
    try:
        template = enrol_template(encodings, min_captures=current_app.config["ENROL_MIN_FRAMES"],
                                  agreement=face.match_threshold)
    except EnrolmentRejected as exc:
        raise ValidationError(reason_message(exc.reason), code=exc.reason) from None
    sealed = face.cipher.encrypt(template)
    del encodings
    detector = face.detector_in_use
    # the same frames aligned as the stored templates of other detectors were, for the duplicate
    # and replacement checks (never across pipelines)
    templates = {detector: template, **_aligned_as_stored(frames, detector)}

    duplicate = stranger = None
    with transaction() as session:
        _lock_enrolment(session)
        trainee = _require_consent(session, actor, trainee_id, lock=True)
        nearest, duplicate = _nearest_templates(session, trainee.id, templates)
        stranger = None if duplicate else _replacement_refusal(session, actor, trainee, templates)
        if duplicate:
            _flag_duplicate(session, actor, trainee, nearest, refused=True)
        elif stranger is None:
            result = _store_template(session, actor, trainee, template, sealed, detector)
            replay.store(session, trainee.id, prints, "enrolment")
            if nearest:  # kept, but the nearest faces go to the review list
                _flag_duplicate(session, actor, trainee, nearest, refused=False)
    if duplicate:
        raise ConflictError(_("This face is already enrolled under another trainee. An administrator "
                              "has been asked to check it."), code="duplicate_face")
    if stranger is not None:
        raise ConflictError(_("The new face does not match the enrolled one, so it cannot replace it."),
                            code="replacement_mismatch")
    return result


def resolve_duplicate_flag(actor: User, flag_id, note: str = "") -> DuplicateFaceFlag:
    """Mark a duplicate-face flag as dealt with (reviewers, administrators), keeping the note in
    the audit log.

    Raises:
        PermissionDeniedError: the actor is not a reviewer or an administrator.
        NotFoundError: no such flag. ConflictError: already resolved.
    """
    if not policy.can_resolve_duplicate_faces(actor):
        raise PermissionDeniedError(_("Only reviewers and administrators resolve duplicate-face flags."))
    with transaction() as session:
        flag = session.get(DuplicateFaceFlag, flag_id)
        if flag is None:
            raise NotFoundError(_("No such flag."))
        if flag.resolved_at is not None:
            raise ConflictError(_("The flag is already resolved."), code="already_resolved")
        flag.resolved_at, flag.resolved_by_id = utcnow(), actor.id
        append_audit(session, actor, "face.duplicate_resolved", flag, {
            "trainee_id": str(flag.trainee_id), "matched_trainee_id": str(flag.matched_trainee_id),
            "note": note.strip()[:500]})
    return flag


def detector_words(name: str) -> str:
    """The detector that made a template, in words (the code itself when unknown)."""
    words = DETECTOR_WORDS.get(name)
    return str(words) if words is not None else name


def needs_reenrolment(template: FaceTemplate | None) -> bool:
    """Whether a template was made by another detector than the one in use: its trainee is
    checked with that detector's pipeline while it can run, refused when it cannot; enrolling
    again makes a template of the current pipeline (with its lower false-reject rate)."""
    return template is not None and template.detector != get_face().detector_in_use


def templates_by_detector(session: Session) -> dict:
    """``{"in_use": words, "by_detector": [(words, count)], "to_reenrol": count}``: the stored
    templates per detector and how many need re-enrolment (`needs_reenrolment`)."""
    counts, in_use = queries.count_templates_by_detector(session), get_face().detector_in_use
    return {"in_use": detector_words(in_use),
            "by_detector": [(detector_words(d), n) for d, n in sorted(counts.items())],
            "to_reenrol": sum(n for d, n in counts.items() if d != in_use)}


def biometric_state(actor: User, trainee_id) -> BiometricState:
    """Consent, enrolment and alternative-verification state of a trainee, with the current
    consent text (created in its default version on first use).

    Raises:
        NotFoundError, PermissionDeniedError: no such trainee, or not the actor's own record.
    """
    session = db.session
    trainee = _trainee_for(session, actor, trainee_id)
    text_ = session.scalar(select(ConsentText).order_by(ConsentText.created_at.desc()).limit(1))
    if text_ is None:
        with transaction() as tx:
            text_ = current_consent_text(tx)
    return BiometricState(trainee, text_, active_consent(session, trainee.id),
                          queries.get_face_template(session, trainee.id),
                          queries.get_active_alternative(session, trainee.id))


def own_trainee_id(actor: User) -> uuid.UUID:
    """The id of the trainee record linked to the actor's account.

    Raises:
        NotFoundError: the account has no trainee record.
    """
    trainee = queries.get_trainee_of_user(db.session, actor.id)
    if trainee is None:
        raise NotFoundError(_("Your account is not linked to a trainee record. Ask the training office."),
                            code="no_trainee_record")
    return trainee.id


# -- helpers ---------------------------------------------------------------------------------

def _trainee_for(session: Session, actor: User, trainee_id) -> Trainee:
    trainee = session.get(Trainee, trainee_id)
    if trainee is None:
        raise NotFoundError(_("No such trainee."))
    if policy.is_trainee(actor):
        if not policy.is_own_record(actor, trainee):
            raise PermissionDeniedError(_("Trainees may only manage their own face data."))
    elif not policy.can_act_for_trainee(session, actor, trainee.id):
        raise PermissionDeniedError(_("Only the trainee's own institution's staff may manage their face data."))
    return trainee


def _require_consent(session: Session, actor: User, trainee_id, lock: bool = False) -> Trainee:
    trainee = _trainee_for(session, actor, trainee_id)
    query = select(Consent.id).where(Consent.trainee_id == trainee.id, Consent.withdrawn_at.is_(None))
    if lock:  # a withdrawal racing this enrolment waits, then deletes what it stored
        query = query.with_for_update()
    if session.scalar(query) is None:
        raise ConflictError(_("Record the trainee's consent to face recognition before enrolment."),
                            code="no_consent")
    return trainee


def _check_frame_count(count: int) -> None:
    low, high = current_app.config["ENROL_MIN_FRAMES"], current_app.config["ENROL_MAX_FRAMES"]
    if not low <= count <= high:
        raise ValidationError(_("Send between %(low)s and %(high)s pictures, not %(count)s.",
                                low=low, high=high, count=count),
                              code="frame_count", errors={"frames": count})


def _lock_enrolment(session: Session) -> None:
    # SQLite serialises write transactions already (BEGIN IMMEDIATE); PostgreSQL needs a lock so
    # that two people with the same face enrolled at once cannot each miss the other's template.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ENROL_LOCK_KEY})


def _aligned_as_stored(frames: Sequence[bytes], detector: str) -> dict:
    """The enrolment's template made again with each other detector that made stored templates
    (``FaceTemplate.detector``), for comparisons within one pipeline; frames that detector
    refuses are left out.

    Raises:
        UnavailableError (``template_detector_unavailable``): such a detector cannot run here, so
            the duplicate check cannot be complete.
        ValidationError: that detector finds no usable face in any frame.
    """
    face, made = get_face(), {}
    for other in sorted(queries.list_template_detectors(db.session) - {detector}):
        if not face.available(other):
            current_app.logger.error("duplicate-face check: templates made with %s, which cannot run here", other)
            raise UnavailableError(_("Some stored face templates were made with a face detector this server cannot "
                                     "run, so the duplicate check cannot run. Tell the administrator."),
                                   code="template_detector_unavailable")
        pipeline, encodings = face.pipeline_for(other), []
        for data in frames:
            try:
                encodings.append(pipeline.encode_bytes(data)[1])
            except ImageRefused:
                continue
        try:
            made[other] = enrol_template(encodings, min_captures=1, agreement=face.threshold_for(other))
        except EnrolmentRejected as exc:
            raise ValidationError(reason_message(exc.reason), code=exc.reason) from None
    db.session.rollback()
    return made


def _nearest_templates(session: Session, trainee_id, templates: dict) -> tuple[list[tuple[uuid.UUID, float]], bool]:
    """Up to `REVIEW_LIST` other trainees whose template is within the review threshold (looser
    than the duplicate threshold), closest first, with their distances; and whether one is within
    the duplicate threshold. Each stored template is compared with ``templates`` of its own
    detector, at that detector's thresholds.

    Raises:
        UnavailableError: a stored template cannot be read, or was made by a detector not in
            ``templates`` (it appeared since the frames were aligned).
    """
    face = get_face()
    encoder = next(iter(templates.values())).encoder
    others = [t for t in queries.list_templates_except(session, trainee_id) if t.encoder == encoder]
    hits, duplicate = [], False
    for detector in sorted({t.detector for t in others}):
        if detector not in templates:
            raise UnavailableError(_("Some stored face templates were made with a face detector this server cannot "
                                     "run, so the duplicate check cannot run. Tell the administrator."),
                                   code="template_detector_unavailable")
        group = [t for t in others if t.detector == detector]
        duplicate_at, review_at = face.duplicate_thresholds_for(detector)
        gallery = Gallery(encoder, threshold=review_at)
        try:
            vectors = [face.cipher.decrypt(t.sealed, expected_encoder=encoder).vector for t in group]
        except TemplateError as exc:
            current_app.logger.error("duplicate-face check: a stored template cannot be read: %s", exc)
            raise UnavailableError(_("Stored face templates cannot be read; the duplicate check cannot "
                                     "run. Tell the administrator."), code="templates_unreadable") from None
        gallery.add_many([str(t.trainee_id) for t in group], vectors)
        found = gallery.find_duplicates(templates[detector], threshold=review_at)
        duplicate = duplicate or any(distance < duplicate_at for _identity, distance in found)
        hits += found
        del vectors, gallery
    hits = sorted(hits, key=lambda hit: hit[1])[:REVIEW_LIST]
    return [(uuid.UUID(identity), round(float(distance), 4)) for identity, distance in hits], duplicate


def _flag_duplicate(session: Session, actor: User, trainee: Trainee, nearest: list[tuple[uuid.UUID, float]],
                    refused: bool) -> DuplicateFaceFlag:
    """Flag the enrolment with its nearest templates (one open flag per pair), audited."""
    matched_id, distance = nearest[0]
    candidates = [{"trainee_id": str(other), "distance": d} for other, d in nearest]
    flag = queries.get_open_duplicate_flag(session, trainee.id, matched_id)
    if flag is None:
        flag = DuplicateFaceFlag(trainee_id=trainee.id, matched_trainee_id=matched_id, score=distance,
                                 refused=refused, candidates=candidates)
        session.add(flag)
        session.flush()
    else:
        flag.score, flag.candidates, flag.refused = distance, candidates, refused
    face = get_face()
    append_audit(session, actor, "face.duplicate_refused" if refused else "face.duplicate_listed", flag, {
        "trainee_id": str(trainee.id), "matched_trainee_id": str(matched_id), "distance": distance,
        "candidates": candidates, "threshold": face.duplicate_threshold,
        "review_threshold": face.review_threshold})
    return flag


def _replacement_refusal(session: Session, actor: User, trainee: Trainee, templates: dict) -> float | None:
    """A template is the trainee's: a replacement must match the enrolled face (distance within
    the 1:1 threshold of the enrolled template's detector, the new frames aligned by it). Returns
    the distance of a refused replacement (audited), else None."""
    previous = queries.get_face_template(session, trainee.id)
    if previous is None:
        return None
    face = get_face()
    threshold = face.threshold_for(previous.detector)
    try:
        template = templates[previous.detector]
        old = face.cipher.decrypt(previous.sealed, expected_encoder=template.encoder)
        distance = compare_encodings(old, template)
    except (KeyError, TemplateError, ValueError):  # unreadable, or another encoder: not comparable
        distance = float("inf")
    if distance <= threshold:
        return None
    append_audit(session, actor, "face.replacement_refused", previous, {
        "trainee_id": str(trainee.id), "distance": round(distance, 4) if distance != float("inf") else None,
        "threshold": threshold, "detector": previous.detector})
    return distance


def _store_template(session: Session, actor: User, trainee: Trainee, template, sealed: bytes,
                    detector: str) -> EnrolmentResult:
    previous = queries.get_face_template(session, trainee.id)
    if previous is not None:
        session.delete(previous)
        session.flush()
    stored = FaceTemplate(trainee_id=trainee.id, encoder=template.encoder, detector=detector, sealed=sealed,
                          captures=template.captures)
    session.add(stored)
    session.flush()
    append_audit(session, actor, "face.enrolled", stored, {
        "trainee_id": str(trainee.id), "encoder": template.encoder, "detector": detector, "captures": template.captures,
        "key_id": get_face().cipher.current_key_id,
        "replaced_template_id": str(previous.id) if previous is not None else None})
    return EnrolmentResult(stored.id, trainee.id, stored.encoder, stored.captures, previous is not None)


def _models_unavailable(exc: Exception) -> UnavailableError:
    current_app.logger.error("face models unavailable: %s", exc)
    return UnavailableError(_("Face recognition is not available on this server. Tell the administrator."),
                            code="face_unavailable")
