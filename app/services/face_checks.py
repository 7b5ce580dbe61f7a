"""Challenges and face work for attendance (R2): one-time server-paced challenges, and their
frames → a face decision (the actions done in time, then 1:1 against the trainee's template or
1:N over a kiosk's roster), done before the write transaction so CPU work never holds the lock.

Every face check (check-ins and check-outs on site and at kiosks, starting and ending online
study, and its roll-calls) is a server-paced challenge (``start_paced``, ``take_frame``,
``paced_evidence``; ``recognition.paced``): the page streams frames, the server stamps their
arrival and hands out prompts one at a time at moments it draws, including the screen-colour step
(``LIVENESS_COLOUR``, skipped at kiosks whose screen does not face the trainee). A paced check that
passes every layer is scored for risk (`app.services.risk`: camera label, replay near miss, colour
strength, timings, 1:N margin, distance, re-rolls). A template is compared only with the probe as
its own detector aligns it, at that detector's threshold (`_probe_for`): the probe's frame is
aligned again when a template was made by another detector than the one in use, and the check
is refused as ``template_needs_reenrolment`` when that detector cannot run here.

The outcome is a `FaceEvidence`; `app.services.attendance` turns it into a recorded check.
"""
from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from recognition import Encoding, Gallery, ImageRefused, ModelNotAvailableError, RosterRule, TemplateError, verify
from recognition import compare_encodings
from recognition import new_challenge as new_liveness_challenge
from recognition.occlusion import check_occlusion
from recognition.paced import REPLAY_DISTANCE, PacedPolicy, advance, fingerprint, measure_frame, new_script
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors.exceptions import ConflictError, NotFoundError, UnavailableError, ValidationError
from app.extensions import db
from app.face import get_face
from app.models import CheckInChallenge, Decision, FaceTemplate, FaceVerification, Kiosk, Purpose
from app.models.base import utcnow
from app.services import replay, risk
from app.services._tx import transaction
from app.services.face_images import seal, unseal
from app.services.refusals import refusal_message


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
    #: At a kiosk: the trainee the 1:N search named (best candidate under the threshold), even
    #: when the check is refused (liveness, margin, replay); repeated refusals naming one trainee
    #: lock their kiosk check-ins (``app.services.kiosk_lock``).
    candidate_id: uuid.UUID | None = None
    prints: list[bytes] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)  # a paced challenge's frames to keep
    margin: float | None = None  # 1:N: best to second-best distance
    risk_score: int | None = None  # an accepted paced check's risk (app.services.risk)
    risk_reasons: list[str] | None = None


def clock_skewed(captured_at: datetime | None) -> bool:
    """Whether a client's capture time is further from the server's clock than
    ``CHECK_IN_MAX_CLOCK_SKEW_SECONDS``. Only checked: every recorded time is the server's."""
    if captured_at is None:
        return False
    limit = current_app.config["CHECK_IN_MAX_CLOCK_SKEW_SECONDS"]
    return abs((captured_at - utcnow()).total_seconds()) > limit


# -- challenges ----------------------------------------------------------------------------------

def consume_challenge(session: Session, nonce: str, purpose: Purpose, now: datetime, trainee_id=None,
             kiosk: Kiosk | None = None) -> tuple[CheckInChallenge | None, str]:
    challenge = session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == (nonce or "")[:64])
                               .with_for_update())
    if challenge is None or challenge.trainee_id != trainee_id or challenge.kiosk_id != (kiosk.id if kiosk else None):
        return None, "unknown_nonce"
    if challenge.used_at is not None:
        return challenge, "nonce_used"
    challenge.used_at = now
    if challenge.paced:  # the sealed probe and the fingerprints are not kept with a used challenge
        challenge.probe = challenge.kept_frames = None
        challenge.state = {k: v for k, v in challenge.state.items() if k not in ("prints", "last_digest")}
    if challenge.expires_at < now:
        return challenge, "nonce_expired"
    if challenge.purpose != purpose:
        return challenge, "wrong_purpose"
    return challenge, ""


# -- face work (outside the transaction) --------------------------------------------------------

def _probe_for(detector: str, probe: Encoding, frame: bytes | None) -> Encoding | None:
    """The probe as a template made with ``detector`` must see it: ``probe`` itself when that is
    the detector in use, else the probe's frame aligned and encoded again by ``detector``; None
    when it cannot run here (RetinaFace without its weights) or finds no usable face in it."""
    face = get_face()
    if detector == face.detector_in_use:
        return probe
    if frame is None or not face.available(detector):
        return None
    pipeline = face.pipeline_for(detector)
    try:
        image, capture = pipeline.capture(frame, replace(pipeline.policy, max_yaw=1.5, max_pitch=1.5))
        return pipeline.get_encoder().encode(image, capture)
    except (ImageRefused, ModelNotAvailableError):
        return None


def _match_personal(trainee_id, probe: Encoding, result: FaceEvidence, frame: bytes | None = None):
    """1:1 against the trainee's template, with the probe aligned by the template's detector and
    that detector's threshold (`_probe_for`; never across pipelines); the trainee's id, or None
    with ``result.refusal`` set (``template_needs_reenrolment`` when it cannot be aligned so)."""
    face = get_face()
    stored = db.session.scalar(select(FaceTemplate).where(FaceTemplate.trainee_id == trainee_id))
    if stored is None:
        result.refusal = "no_template"
        return None
    aligned = _probe_for(stored.detector, probe, frame)
    if aligned is None:
        result.refusal = "template_needs_reenrolment"
        return None
    try:
        template = face.cipher.decrypt(stored.sealed, expected_encoder=stored.encoder)
    except TemplateError:
        raise UnavailableError(_("Stored face templates cannot be read. Tell the administrator."),
                               code="templates_unreadable") from None
    match = verify(template, aligned, threshold=face.threshold_for(stored.detector))
    result.distance, result.threshold = round(float(match.distance), 4), match.threshold
    if match.decision != "match":
        result.refusal = "face_mismatch"
        return None
    return trainee_id


def roster_rule() -> RosterRule:
    """The kiosk's 1:N rule: ``KIOSK_ROSTER_SLOPE`` tighter per tenfold of candidates (more chances
    of a look-alike) and ``KIOSK_ROSTER_MARGIN`` between the best and the second best."""
    cfg = current_app.config
    return RosterRule(slope=cfg["KIOSK_ROSTER_SLOPE"], margin=cfg["KIOSK_ROSTER_MARGIN"])


def _search_by_detector(templates: list[FaceTemplate], probe: Encoding, frame: bytes | None) -> tuple[list, int]:
    """1:N within each detector's templates, the probe aligned by that detector, at its roster
    threshold: ``[(Match, margin needed)]`` closest first, and how many templates could not be
    searched (their detector cannot run here)."""
    face, rule, found, skipped = get_face(), roster_rule(), [], 0
    for detector in sorted({t.detector for t in templates}):
        group = [t for t in templates if t.detector == detector]
        aligned = _probe_for(detector, probe, frame)
        if aligned is None:
            skipped += len(group)
            continue
        gallery = Gallery(probe.encoder, threshold=rule.threshold(face.threshold_for(detector), len(templates)),
                          margin=rule.margin)
        gallery.add_many([str(t.trainee_id) for t in group],
                         [face.cipher.decrypt(t.sealed, expected_encoder=t.encoder).vector for t in group])
        found.append((gallery.identify(aligned), gallery.margin))
    return sorted(found, key=lambda pair: pair[0].distance), skipped


def _match_roster(roster: list[uuid.UUID], probe: Encoding, result: FaceEvidence, frame: bytes | None = None):
    """1:N over the roster (`roster_rule`: roster-size threshold and a margin to the second best,
    across detectors too); the trainee's id, or None with ``result.refusal`` set."""
    face = get_face()
    templates = [t for t in db.session.scalars(select(FaceTemplate).where(FaceTemplate.trainee_id.in_(roster)))
                 if t.encoder == probe.encoder] if roster else []
    found, skipped = _search_by_detector(templates, probe, frame)
    if not found:  # nobody to search
        found = [(Gallery(probe.encoder, threshold=roster_rule().threshold(face.match_threshold, 0)).identify(probe), 0.0)]
    (match, needed), rest = found[0], found[1:]
    margin = match.margin
    if rest:  # the second best may be another detector's
        margin = min(math.inf if margin is None else margin, rest[0][0].distance - match.distance)
    result.distance = None if match.distance == float("inf") else round(float(match.distance), 4)
    result.threshold = match.threshold
    result.margin = None if margin is None or math.isinf(margin) else float(margin)
    result.candidate_id = uuid.UUID(match.identity) if match.identity else None
    if match.decision != "match" or (margin is not None and margin < needed):
        result.refusal = ("template_needs_reenrolment" if skipped else "face_unknown") if roster else "outside_window"
        return None
    result.trainee_id = uuid.UUID(match.identity)
    return result.trainee_id


# -- server-paced challenges ---------------------------------------------------------------------

#: The prompt shown for each action, large and in words.
PROMPTS = {
    "blink": _l("Close your eyes for a moment, then open them."),
    "turn_left": _l("Turn your head to your left, then look at the screen again."),
    "turn_right": _l("Turn your head to your right, then look at the screen again."),
    "look_up": _l("Look up at the ceiling, then look at the screen again."),
    "open_mouth": _l("Open your mouth wide, then close it."),
    "colour": _l("Keep your face close to the screen and look at it while it changes colour."),
}


def paced_policy(kiosk: Kiosk | None = None) -> PacedPolicy:
    """The configured policy; the colour step when ``LIVENESS_COLOUR`` is on and the check is not
    at a kiosk whose screen does not face the trainee (``Kiosk.screen_facing``)."""
    cfg = current_app.config
    relax = cfg.get("LIVENESS_RELAX", ())
    return PacedPolicy(min_pause=cfg["PACED_MIN_PAUSE_SECONDS"], max_pause=cfg["PACED_MAX_PAUSE_SECONDS"],
                       action_seconds=cfg["PACED_ACTION_SECONDS"],
                       colour=bool(cfg["LIVENESS_COLOUR"]) and (kiosk is None or kiosk.screen_facing),
                       colour_seconds=(cfg["PACED_COLOUR_MIN_SECONDS"], cfg["PACED_COLOUR_MAX_SECONDS"]),
                       relax_actions="actions" in relax, relax_colour="colour" in relax)


def _challenge_quota(session: Session, now: datetime, trainee_id=None, kiosk: Kiosk | None = None) -> None:
    """Refuse a new paced challenge beyond the per-trainee or per-kiosk quota of the window."""
    cfg = current_app.config
    since = now - timedelta(minutes=cfg["CHALLENGE_LIMIT_WINDOW_MINUTES"])
    query = select(func.count()).select_from(CheckInChallenge).where(CheckInChallenge.paced.is_(True),
                                                                     CheckInChallenge.issued_at > since)
    if kiosk is not None:
        used, limit = session.scalar(query.where(CheckInChallenge.kiosk_id == kiosk.id)), cfg["CHALLENGE_LIMIT_PER_KIOSK"]
    else:
        used, limit = session.scalar(query.where(CheckInChallenge.trainee_id == trainee_id)), cfg["CHALLENGE_LIMIT_PER_TRAINEE"]
    if used >= limit:
        raise ConflictError(_("Too many checks were started in the last %(m)s minutes. Wait a few minutes and try again.",
                              m=cfg["CHALLENGE_LIMIT_WINDOW_MINUTES"]), code="challenge_rate")


def start_paced(session: Session, purpose: Purpose, now: datetime, trainee_id=None,
                kiosk: Kiosk | None = None, camera_label: str | None = None) -> CheckInChallenge:
    """A paced challenge with a hidden script, within the quota (the caller's transaction).
    ``camera_label`` is the page's report of its camera (``MediaStreamTrack.label``; None: not
    reported), kept in the state as a risk signal only (`app.services.risk`)."""
    _challenge_quota(session, now, trainee_id, kiosk)
    state = {**new_script(paced_policy(kiosk)), "camera": None if camera_label is None else camera_label[:120]}
    challenge = CheckInChallenge(
        nonce=new_liveness_challenge().nonce, action="paced", purpose=purpose, trainee_id=trainee_id,
        kiosk_id=kiosk.id if kiosk else None, issued_at=now, paced=True, state=state,
        expires_at=now + timedelta(seconds=current_app.config["PACED_START_SECONDS"]))
    session.add(challenge)
    session.flush()
    return challenge


def abandoned_since(session: Session, trainee_id, since: datetime, now: datetime) -> int:
    """Paced challenges of the trainee, with a face seen, left unanswered until they expired."""
    return session.scalar(select(func.count()).select_from(CheckInChallenge).where(
        CheckInChallenge.trainee_id == trainee_id, CheckInChallenge.paced.is_(True),
        CheckInChallenge.face_seen.is_(True), CheckInChallenge.used_at.is_(None),
        CheckInChallenge.issued_at > since, CheckInChallenge.expires_at < now))


def _analyse_frame(data: bytes):
    """(measures, encoding, fingerprint, hint) of one streamed frame; measures None without a usable face."""
    pipeline = get_face().pipeline
    loose = replace(pipeline.policy, max_yaw=1.5, max_pitch=1.5)
    try:
        image, capture = pipeline.capture(data, loose)
        check_occlusion(capture)
        encoding = pipeline.get_encoder().encode(image, capture)
    except ImageRefused as exc:
        from app.services.enrolment import reason_message as frame_reason
        return None, None, None, str(frame_reason(exc.reason))
    except ModelNotAvailableError:
        raise UnavailableError(_("Face recognition is not available on this server. Tell the administrator."),
                               code="face_unavailable") from None
    return measure_frame(capture, image), encoding, fingerprint(capture), ""


def _seal_probe(nonce: str, encoding: Encoding) -> bytes:
    return seal(np.asarray(encoding.vector, dtype="<f4").tobytes(), f"probe:{nonce}")


def _unseal_probe(challenge: CheckInChallenge) -> Encoding:
    vector = np.frombuffer(unseal(challenge.probe, f"probe:{challenge.nonce}"), dtype="<f4")
    return Encoding(vector.copy(), challenge.state["encoder"])


def _keep_frame(challenge: CheckInChallenge, data: bytes, probe: bool = False) -> None:
    """Add a frame to those held with the challenge (sealed, length-prefixed), whatever the image
    retention: only once the check is recorded is it known whether it is evidence of held hours
    (kept then, `held_hours.keep_frames`). The first is always the probe's frame (``probe``:
    it replaces the previous one), aligned again at the decision when a template was made by
    another detector (`_probe_for`). The buffer is cleared when the challenge is used
    (`consume_challenge`) or expires (`face_images.clear_stale_buffers`)."""
    frames = kept_frames(challenge)
    if probe:
        frames[:1] = [data]
    elif len(frames) < 4:
        frames.append(data)
    else:
        return
    challenge.kept_frames = seal(b"".join(len(f).to_bytes(4, "big") + f for f in frames), f"frames:{challenge.nonce}")


def kept_frames(challenge: CheckInChallenge) -> list[bytes]:
    """The frames `_keep_frame` held for this challenge."""
    if not challenge.kept_frames:
        return []
    held, frames = unseal(challenge.kept_frames, f"frames:{challenge.nonce}"), []
    while held:
        size = int.from_bytes(held[:4], "big")
        frames.append(held[4:4 + size])
        held = held[4 + size:]
    return frames


def _same_face(challenge: CheckInChallenge, state: dict, encoding: Encoding, measures: dict) -> bool:
    """Keep the most frontal frame's encoding as the probe; False when this frame shows another face."""
    if challenge.probe is not None:
        if compare_encodings(_unseal_probe(challenge), encoding) >= get_face().match_threshold:
            return False
        if abs(measures["yaw"]) >= state["probe_yaw"]:
            return True
    challenge.probe = _seal_probe(challenge.nonce, encoding)
    state.update(probe_yaw=abs(measures["yaw"]), encoder=encoding.encoder)
    return True


def take_frame(nonce: str, data: bytes, trainee_id=None, kiosk: Kiosk | None = None) -> dict:
    """One streamed frame of a paced challenge, stamped on arrival; returns what the page shows next.

    Returns:
        ``{"phase": waiting|acting|done|failed|expired, "face": bool, "hint", "prompt"?, "reason"?,
        "message"?}``; ``prompt`` is ``{"step", "action", "text"}`` while an action is asked.

    Raises:
        NotFoundError: no such paced challenge for this trainee or kiosk.
    """
    measures, encoding, print_, hint = _analyse_frame(data)
    digest = hashlib.sha256(data).hexdigest()
    policy = paced_policy(kiosk)
    with transaction() as session:
        now = utcnow()
        challenge = session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == (nonce or "")[:64])
                                   .with_for_update())
        if (challenge is None or not challenge.paced or challenge.trainee_id != trainee_id
                or challenge.kiosk_id != (kiosk.id if kiosk else None)):
            raise NotFoundError(_("This check-in request is not valid. Start again."), code="unknown_nonce")
        if challenge.used_at is not None or challenge.expires_at < now:
            return {"phase": "expired", "face": measures is not None, "hint": hint,
                    "message": _("The check-in request expired. Start again.")}
        state = dict(challenge.state)
        probe_before, phase_before = challenge.probe, state["phase"]
        if measures is not None:
            challenge.face_seen = True
            if state.get("last_digest") == digest:
                state.update(phase="failed", failed="frames_identical")
            elif not _same_face(challenge, state, encoding, measures):
                state.update(phase="failed", failed="different_faces")
            elif len(state.setdefault("prints", [])) < 24:
                state["prints"] = state["prints"] + [print_.hex()]
        state["last_digest"] = digest
        state = advance(state, measures, now.timestamp(), policy)
        action_ended = phase_before == "acting" and state["phase"] in ("waiting", "done")
        if measures is not None and (challenge.probe is not probe_before or action_ended):
            _keep_frame(challenge, data, probe=challenge.probe is not probe_before)  # and each action's last frame
        grace = timedelta(seconds=current_app.config["PACED_GRACE_SECONDS"])
        if state["phase"] == "acting":
            challenge.expires_at = datetime.fromtimestamp(state["prompt_at"], now.tzinfo) + timedelta(
                seconds=policy.action_seconds) + grace
        elif state["phase"] in ("done", "failed"):
            challenge.expires_at = now + grace
        challenge.state = state
    return _frame_answer(state, measures is not None, hint)


def _frame_answer(state: dict, face: bool, hint: str) -> dict:
    answer = {"phase": state["phase"], "face": face, "hint": hint}
    if state["phase"] == "acting":
        action = state["actions"][state["step"]]
        answer["prompt"] = {"step": state["step"] + 1, "action": action, "text": str(PROMPTS[action])}
        if action == "colour":
            answer["prompt"]["colour"] = state["colours"][state["colour_at"]]["colour"]
    elif state["phase"] == "failed":
        answer.update(reason=state["failed"], message=refusal_message(state["failed"]))
    return answer


def _candidate(roster: list[uuid.UUID], challenge: CheckInChallenge, frame: bytes | None) -> uuid.UUID | None:
    """The roster's best candidate for a refused challenge's most frontal face, if any is close."""
    scratch = FaceEvidence()
    _match_roster(roster, _unseal_probe(challenge), scratch, frame)
    return scratch.candidate_id


def paced_evidence(nonce: str, trainee_id=None, roster: list[uuid.UUID] | None = None) -> FaceEvidence | None:
    """The face decision of a paced challenge (1:1 for ``trainee_id``, else 1:N over ``roster``),
    with the replay memory consulted; None when ``nonce`` is not a paced challenge."""
    challenge = db.session.scalar(select(CheckInChallenge).where(CheckInChallenge.nonce == (nonce or "")[:64]))
    db.session.rollback()
    if challenge is None or not challenge.paced:
        return None
    result = FaceEvidence(trainee_id=trainee_id)
    if challenge.used_at is not None or challenge.expires_at < utcnow():
        return result  # consuming it refuses the reuse or the expiry (its buffers may be cleared)
    state, result.frames = challenge.state, kept_frames(challenge)
    frame = result.frames[0] if result.frames else None  # the probe's (`_keep_frame`)
    result.liveness_passed = state["phase"] == "done"
    result.liveness_reason = state["failed"] or ("" if result.liveness_passed else "not_done")
    if not result.liveness_passed:
        result.refusal = state["failed"] or ("challenge_not_done" if challenge.face_seen else "no_face_seen")
        if roster is not None and challenge.probe is not None:  # who the refused face resembles
            result.candidate_id = _candidate(roster, challenge, frame)
        return result
    probe = _unseal_probe(challenge)
    found = (_match_personal(trainee_id, probe, result, frame) if roster is None
             else _match_roster(roster, probe, result, frame))
    if found is None:
        return result
    result.prints = [bytes.fromhex(h) for h in state.get("prints", [])]
    replayed, nearest = replay.is_replayed(db.session, result.trainee_id, result.prints)
    if replayed:
        result.refusal = "replayed"
    else:
        _assess_risk(challenge, result, nearest)
    db.session.rollback()
    return result


def _rerolls(challenge: CheckInChallenge, trainee_id) -> int:
    """The trainee's other paced challenges of the quota window before this one that no accepted
    check used (abandoned, failed or refused)."""
    since = challenge.issued_at - timedelta(minutes=current_app.config["CHALLENGE_LIMIT_WINDOW_MINUTES"])
    accepted = select(FaceVerification.challenge_id).where(FaceVerification.decision == Decision.ACCEPTED,
                                                           FaceVerification.challenge_id.is_not(None))
    return db.session.scalar(select(func.count()).select_from(CheckInChallenge).where(
        CheckInChallenge.trainee_id == trainee_id, CheckInChallenge.paced.is_(True),
        CheckInChallenge.id != challenge.id, CheckInChallenge.issued_at >= since,
        CheckInChallenge.issued_at < challenge.issued_at, CheckInChallenge.id.not_in(accepted)))


def _assess_risk(challenge: CheckInChallenge, result: FaceEvidence, nearest: int | None) -> None:
    """Score the check's risk signals onto ``result`` (it is not refused for them)."""
    cfg, state = current_app.config, challenge.state
    limits = risk.RiskLimits(replay_distance=REPLAY_DISTANCE, colour_min_response=paced_policy().colour_min_response,
                             min_reaction=cfg["RISK_MIN_REACTION_SECONDS"],
                             regular_frames=cfg["RISK_REGULAR_FRAMES_SECONDS"])
    signals = risk.RiskSignals(
        camera_label=state.get("camera"), replay_distance=nearest, colour_strength=state.get("colour_strength"),
        reactions=state.get("reactions") or [], arrivals=state.get("arrivals") or [], margin=result.margin,
        distance=result.distance, threshold=result.threshold, rerolls=_rerolls(challenge, result.trainee_id))
    result.risk_score, result.risk_reasons = risk.assess(signals, limits)


__all__ = ["PROMPTS", "FaceEvidence", "abandoned_since", "clock_skewed", "consume_challenge", "paced_evidence",
           "parse_purpose", "start_paced", "take_frame"]
