"""Why a face check was refused: the closed vocabulary of refusal codes and its one message table.

A refused check-in, check-out or roll-call is stored as a `FaceVerification` whose ``reason`` is a
`Refusal` value (a plain string in the database). A frame the recogniser refused is stored as
``frame_refused:<recognition reason>`` and worded by the enrolment module's frame messages. The
study pause reasons are the same codes (``roll_call_missed``, ``roll_call_failed``).

This module imports no other service module, so every service that records or shows a face check
can use it without an import cycle.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from app.services.enrolment import reason_message as frame_reason_message


class Refusal(enum.StrEnum):
    """A refusal code of a face check (or a pause reason of online study)."""

    UNKNOWN_NONCE = "unknown_nonce"
    NONCE_USED = "nonce_used"
    NONCE_EXPIRED = "nonce_expired"
    WRONG_PURPOSE = "wrong_purpose"
    LOCKED_OUT = "locked_out"
    KIOSK_LOCKED = "kiosk_locked"
    LIVENESS_FAILED = "liveness_failed"
    FRAMES_IDENTICAL = "frames_identical"
    DIFFERENT_FACES = "different_faces"
    FRAME_REFUSED = "frame_refused"
    NO_TEMPLATE = "no_template"
    NO_CONSENT = "no_consent"
    FACE_MISMATCH = "face_mismatch"
    FACE_UNKNOWN = "face_unknown"
    CLASS_NOT_RUNNING = "class_not_running"
    OUTSIDE_WINDOW = "outside_window"
    WRONG_SITE = "wrong_site"
    PRESENT_ELSEWHERE = "present_elsewhere"
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_CHECKED_IN = "not_checked_in"
    NO_ARRANGEMENT = "no_arrangement"
    NOT_STUDYING = "not_studying"
    CLOCK_SKEW = "clock_skew"
    CHALLENGE_NOT_DONE = "challenge_not_done"
    NO_FACE_SEEN = "no_face_seen"
    TOO_LATE = "too_late"
    WRONG_ACTION = "wrong_action"
    NO_COLOUR_RESPONSE = "no_colour_response"
    REPLAYED = "replayed"
    CHALLENGE_NOT_PACED = "challenge_not_paced"
    ROLL_CALL_MISSED = "roll_call_missed"
    ROLL_CALL_FAILED = "roll_call_failed"
    TEMPLATE_NEEDS_REENROLMENT = "template_needs_reenrolment"


#: Plain words for each refusal, shown to trainees and reviewers.
MESSAGES = {
    Refusal.UNKNOWN_NONCE: _l("This check-in request is not valid. Start again."),
    Refusal.NONCE_USED: _l("This check-in request was already used. Start again."),
    Refusal.NONCE_EXPIRED: _l("The check-in request expired. Start again."),
    Refusal.WRONG_PURPOSE: _l("This request was for another action. Start again."),
    Refusal.LOCKED_OUT: _l("Too many failed attempts: self check-in is locked. Ask your instructor to unlock it."),
    Refusal.KIOSK_LOCKED: _l("Too many failed kiosk checks named this trainee: kiosk check-in is locked until an "
                             "instructor unlocks it."),
    Refusal.LIVENESS_FAILED: _l("We could not see the action asked for. Follow the instruction and try again."),
    Refusal.FRAMES_IDENTICAL: _l("The pictures did not change: a photo cannot be used. Look into the camera yourself."),
    Refusal.DIFFERENT_FACES: _l("The pictures show different people. Only you may be in view."),
    Refusal.FRAME_REFUSED: _l("The picture could not be used. Look straight into the camera in good light."),
    Refusal.NO_TEMPLATE: _l("Your face is not enrolled yet. Enrol it first."),
    Refusal.NO_CONSENT: _l("You have not consented to face recognition, so your face is not enrolled. Give consent on "
                           "the face page (or ask your institution for the paper form), then enrol."),
    Refusal.FACE_MISMATCH: _l("The face does not match the enrolled trainee."),
    Refusal.FACE_UNKNOWN: _l("The face was not recognised among the trainees of the classes here now."),
    Refusal.CLASS_NOT_RUNNING: _l("The class is not running: it does not accept check-ins."),
    Refusal.OUTSIDE_WINDOW: _l("There is no session of your classes now (outside the session time and its tolerance)."),
    Refusal.WRONG_SITE: _l("This kiosk is at another site than the session."),
    Refusal.PRESENT_ELSEWHERE: _l("You are checked in to another session. Check out there first."),
    Refusal.ALREADY_CHECKED_IN: _l("You are already checked in to this session."),
    Refusal.NOT_CHECKED_IN: _l("You are not checked in, so you cannot check out."),
    Refusal.NO_ARRANGEMENT: _l("This trainee has no ID-card verification arrangement confirmed by a reviewer."),
    Refusal.NOT_STUDYING: _l("You have not started online study."),
    Refusal.CLOCK_SKEW: _l("The clock of this device is wrong. Set its date and time correctly and try again."),
    Refusal.CHALLENGE_NOT_DONE: _l("The check was not finished: not every instruction was followed. Start again."),
    Refusal.NO_FACE_SEEN: _l("No face was seen. Look straight into the camera in good light and start again."),
    Refusal.TOO_LATE: _l("The action was not seen in time. Start again and follow each instruction when it appears."),
    Refusal.WRONG_ACTION: _l("You did another movement than the one asked. Start again and follow the instruction."),
    Refusal.NO_COLOUR_RESPONSE: _l("The screen's colours were not seen on your face. Hold the screen close to your "
                                   "face, away from bright light, and start again."),
    Refusal.REPLAYED: _l("These pictures were already used for an earlier check. Look into the camera yourself."),
    Refusal.CHALLENGE_NOT_PACED: _l("This kind of check-in request cannot be used here. Start again on the check-in page."),
    Refusal.ROLL_CALL_MISSED: _l("The face roll-call was not answered in time: study time is paused until your face "
                                 "is verified again."),
    Refusal.ROLL_CALL_FAILED: _l("A face roll-call was not passed: study time is paused. Press “Verify my face now” "
                                 "to continue, or ask your instructor if your face keeps failing."),
    Refusal.TEMPLATE_NEEDS_REENROLMENT: _l("The face was enrolled with a face detector this server cannot use now, so "
                                           "it was not compared. Enrol the face again (the training office can help)."),
}

#: Refusals that count towards a lock-out (an honest "too early" or "no face seen" does not).
LOCKING = frozenset({
    Refusal.UNKNOWN_NONCE, Refusal.NONCE_USED, Refusal.NONCE_EXPIRED, Refusal.LIVENESS_FAILED,
    Refusal.FRAMES_IDENTICAL, Refusal.DIFFERENT_FACES, Refusal.FACE_MISMATCH, Refusal.FRAME_REFUSED,
    Refusal.CHALLENGE_NOT_DONE, Refusal.TOO_LATE, Refusal.WRONG_ACTION, Refusal.NO_COLOUR_RESPONSE, Refusal.REPLAYED,
    Refusal.CHALLENGE_NOT_PACED,
})


def frame_refused(frame_reason: str) -> str:
    """The stored code of a frame the recogniser refused (``frame_refused:<reason>``)."""
    return f"{Refusal.FRAME_REFUSED}:{frame_reason}"


def refusal_message(code: str) -> str:
    """The person-facing sentence for a stored refusal code (the code itself when unknown)."""
    head, _sep, detail = (code or "").partition(":")
    if head == Refusal.FRAME_REFUSED and detail:
        return str(frame_reason_message(detail))
    message = MESSAGES.get(code)
    return str(message) if message is not None else code


def is_locking(code: str) -> bool:
    """Whether a stored refusal counts toward the self check-in lock-out."""
    return code.partition(":")[0] in LOCKING


__all__ = ["LOCKING", "MESSAGES", "Refusal", "frame_refused", "is_locking", "refusal_message"]
