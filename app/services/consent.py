"""Biometric consent (PIPL arts. 28–30 and the face-recognition rules in force since 2025-06-01):
separate, versioned and withdrawable; withdrawal deletes the face template while the audit trail
stays verifiable; people who refuse get an instructor-witnessed ID-card check instead, arranged by
the trainee's own institution and counted for subsidy only once a reviewer confirms it."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.models import (AlternativeVerification, Consent, ConsentMethod, ConsentText, FaceTemplate,
                        Trainee, User)
from app.models.base import utcnow
from app.services import face_images, policy, replay
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.policy import can_act_for_trainee, can_confirm_as_second_person

DEFAULT_CONSENT_VERSION = "2025-06"
DEFAULT_RETENTION_DAYS = 365 * 3
DEFAULT_CONSENT_BODY = (
    "为落实职业技能培训实名制管理，本系统在您签到、签退和在线学习点名时采集您的人脸图像，"
    "与您登记的人脸特征比对，以核验本人参训。人脸信息属于敏感个人信息：\n"
    "1. 仅用于本培训的身份核验，不用于其他目的，不向第三方提供；\n"
    "2. 在本系统内加密存储人脸特征，不保存原始照片（另行告知的除外）；\n"
    "3. 保存期限为培训结束后三年，期满删除；\n"
    "4. 您可以随时撤回同意，撤回后人脸特征立即删除；\n"
    "5. 您可以拒绝人脸识别，改由授课教师现场核验身份证件，不影响参加培训。"
)


def current_consent_text(session: Session) -> ConsentText:
    """The newest consent text, creating the default version on first use."""
    text = session.scalar(select(ConsentText).order_by(ConsentText.created_at.desc()).limit(1))
    if text is None:
        text = ConsentText(version=DEFAULT_CONSENT_VERSION, body=DEFAULT_CONSENT_BODY,
                           retention_days=DEFAULT_RETENTION_DAYS)
        session.add(text)
        session.flush()
    return text


def active_consent(session: Session, trainee_id) -> Consent | None:
    """The trainee's consent in force, if any."""
    return session.scalar(select(Consent).where(Consent.trainee_id == trainee_id,
                                                Consent.withdrawn_at.is_(None)))


def _trainee(session: Session, trainee_id, actor: User | None = None) -> Trainee:
    trainee = session.get(Trainee, trainee_id)
    if trainee is None:
        raise NotFoundError(_("No such trainee."))
    if actor is not None:
        policy.require(policy.can_manage_biometrics(session, actor, trainee),
                       _("Only the trainee or their own institution's staff may do this."))
    return trainee


def _require_self_or_paper(session: Session, actor: User, trainee: Trainee, on_screen: bool,
                           reference: str) -> None:
    """Consent is the trainee's: given on screen by the trainee themself, or recorded from the
    signed paper form (its reference required) by staff of the trainee's own institution."""
    if trainee.user_id is not None and trainee.user_id == actor.id:
        return
    if on_screen:
        raise PermissionDeniedError(_("Only the trainee gives consent on screen; staff record the signed paper form."))
    if not can_act_for_trainee(session, actor, trainee.id):
        raise PermissionDeniedError(_("Only the trainee or staff of the trainee's own institution may do this."))
    if not reference:
        raise ValidationError(_("Give the reference of the signed paper form."),
                              errors={"paper_reference": _("Required.")})


def give_consent(actor: User, trainee_id, version: str, method: str, paper_reference: str = "") -> Consent:
    """Record consent to face processing under the text ``version`` the trainee was shown: on
    screen by the trainee, or on paper by the trainee's own institution with the form's reference.

    Raises:
        PermissionDeniedError: on-screen consent by anyone but the trainee, or paper consent by
            anyone but the trainee's own institution (or an admin).
        ValidationError: the version is not the current text, an unknown method, or paper
            consent without the form's reference.
        ConflictError: consent is already in force.
    """
    try:
        method = ConsentMethod(method)
    except ValueError:
        raise ValidationError(_("Unknown consent method."), errors={"method": "unknown"}) from None
    reference = (paper_reference or "").strip()[:100]
    with transaction() as session:
        trainee = _trainee(session, trainee_id, actor)
        _require_self_or_paper(session, actor, trainee, method == ConsentMethod.ON_SCREEN, reference)
        text = current_consent_text(session)
        if version != text.version:
            raise ValidationError(_("The consent text has changed; read the current version."),
                                  errors={"version": "outdated"})
        if active_consent(session, trainee.id):
            raise ConflictError(_("Consent is already recorded."), code="consent_exists")
        consent = Consent(trainee_id=trainee.id, consent_text_id=text.id, method=method,
                          recorded_by_id=actor.id, paper_reference=reference)
        session.add(consent)
        session.flush()
        append_audit(session, actor, "consent.given", consent, {
            "trainee_id": str(trainee.id), "version": text.version, "method": method.value,
            "paper_reference": reference})
    return consent


def withdraw_consent(actor: User, trainee_id, paper_reference: str = "") -> int:
    """Withdraw consent and delete the trainee's face templates; returns how many were deleted.
    The trainee withdraws; staff of the trainee's own institution only record a signed paper
    withdrawal (its reference required).

    Raises:
        PermissionDeniedError: anyone else. ValidationError: staff without the form's reference.
        ConflictError: no consent in force.
    """
    reference = (paper_reference or "").strip()[:100]
    with transaction() as session:
        trainee = _trainee(session, trainee_id, actor)
        _require_self_or_paper(session, actor, trainee, False, reference)
        consent = active_consent(session, trainee.id)
        if consent is None:
            raise ConflictError(_("There is no consent to withdraw."), code="no_consent")
        consent.withdrawn_at, consent.withdrawn_by_id = utcnow(), actor.id
        consent.withdrawal_reference = reference
        deleted = session.execute(delete(FaceTemplate).where(FaceTemplate.trainee_id == trainee.id)).rowcount
        replay.forget(session, trainee.id)
        append_audit(session, actor, "consent.withdrawn", consent, {
            "trainee_id": str(trainee.id), "templates_deleted": deleted,
            "paper_reference": reference})
    face_images.delete_trainee_images(trainee_id)  # retained and held evidence alike (audited)
    face_images.clear_stale_buffers(trainee_id=trainee_id)  # frames of checks under way
    return deleted


def arrange_alternative_verification(actor: User, trainee_id, reason: str) -> AlternativeVerification:
    """Record that a trainee is verified by an instructor checking the ID card instead of a face;
    pending until a reviewer confirms it (`confirm_alternative_verification`).

    Raises:
        PermissionDeniedError: not an admin or an instructor of the trainee's own institution.
        ValidationError: no reason. ConflictError: the arrangement exists already.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason."), errors={"reason": _("Required.")})
    with transaction() as session:
        trainee = _trainee(session, trainee_id, actor)
        if not can_act_for_trainee(session, actor, trainee.id):
            raise PermissionDeniedError(_("Only the trainee's own institution arranges the ID-card check."))
        if session.scalar(select(AlternativeVerification.id).where(
                AlternativeVerification.trainee_id == trainee.id,
                AlternativeVerification.ended_at.is_(None))):
            raise ConflictError(_("The alternative verification is already arranged."))
        arrangement = AlternativeVerification(trainee_id=trainee.id, reason=reason,
                                              recorded_by_id=actor.id)
        session.add(arrangement)
        session.flush()
        append_audit(session, actor, "verification.alternative_arranged", arrangement,
                     {"trainee_id": str(trainee.id), "reason": reason})
    return arrangement


def confirm_alternative_verification(actor: User, arrangement_id) -> AlternativeVerification:
    """A reviewer other than the arranger confirms an ID-card arrangement; only then do the
    trainee's ID-card checks make them real-name verified for subsidy.

    Raises:
        NotFoundError: no such arrangement. PermissionDeniedError: not a reviewer, or the arranger.
        ConflictError: already confirmed, or ended.
    """
    with transaction() as session:
        arrangement = session.get(AlternativeVerification, arrangement_id, with_for_update=True)
        if arrangement is None:
            raise NotFoundError(_("No such arrangement."))
        if not can_confirm_as_second_person(actor, arrangement.recorded_by_id):
            raise PermissionDeniedError(_("Only a reviewer other than the person who arranged it confirms "
                                          "an ID-card arrangement."))
        if arrangement.confirmed_at is not None or arrangement.ended_at is not None:
            raise ConflictError(_("The arrangement is confirmed or ended already."), code="already_confirmed")
        arrangement.confirmed_at, arrangement.confirmed_by_id = utcnow(), actor.id
        append_audit(session, actor, "verification.alternative_confirmed", arrangement, {
            "trainee_id": str(arrangement.trainee_id)})
    return arrangement
