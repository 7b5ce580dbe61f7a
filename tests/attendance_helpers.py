"""Builders for attendance tests: a running class with a session around now, a trainee with an
account, consent and a face template enrolled from talking_head.mp4, and live frame bursts."""
from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from app.extensions import db
from app.models import ClassStatus, Role, TrainingClass
from app.services._tx import transaction
from app.services.classes import ClassApplication, SessionInput, draft_class
from app.services.consent import current_consent_text, give_consent
from app.services.enrolment import enrol_face
from tests.factories import make_catalogue, make_trainee, make_user

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "faces"
#: frames of talking_head.mp4 that show each liveness action (see the recognition tests)
ACTION_FRAMES = {"blink": (18, 24, 30), "turn_right": (21, 30, 36), "turn_left": (165, 171, 177),
                 "no_blink": (90, 96, 102)}
ENROL_FRAMES = (0, 40, 80)


@lru_cache(maxsize=1)
def talking_head() -> tuple[bytes, ...]:
    capture = cv2.VideoCapture(str(FACES / "talking_head.mp4"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
        frames.append(buf.tobytes())
    capture.release()
    return tuple(frames)


def live_frames(action: str) -> list[bytes]:
    """A burst of a real face doing ``action``."""
    frames = talking_head()
    return [frames[i] for i in ACTION_FRAMES[action]]


def still_photo() -> list[bytes]:
    """One frame repeated: a photo held up to the camera."""
    return [talking_head()[24]] * 3


def running_class(admin, instructor, trainees, start=None, minutes=180, place="实训楼 201",
                  status=ClassStatus.RUNNING, institution=None, programme=None, online=False):
    """A class of ``trainees`` with one session from ``start`` (default: 30 min ago)."""
    if institution is None:
        institution, _occ, programme = make_catalogue(admin)
    start = start or datetime.now(timezone.utc) - timedelta(minutes=30)
    instructor.institution_id = institution.id
    db.session.commit()
    code = f"ATT-{next(_codes)}"
    klass = draft_class(admin, ClassApplication(
        code=code, name="考勤测试班", institution_id=institution.id, programme_id=programme.id,
        sessions=[SessionInput(start, start + timedelta(minutes=minutes), "theory",
                              "" if online else place, online)],
        instructor_ids=[instructor.id], trainee_ids=[t.id for t in trainees],
        teaching_plan="计划", resources="教室", assessment_plan="考核"), now=start - timedelta(days=1))
    with transaction() as session:
        session.get(TrainingClass, klass.id).status = status
    return db.session.get(TrainingClass, klass.id)


_codes = itertools.count(1)


def trainee_with_face(admin, username: str, name: str = "赵敏", frames=None):
    """A trainee with a linked account, consent and a template (talking_head by default)."""
    user = make_user(Role.TRAINEE, username=username)
    trainee = make_trainee(name, actor=admin)
    with transaction() as session:
        version = current_consent_text(session).version
        session.merge(trainee).user_id = user.id
    give_consent(admin, trainee.id, version, "paper", "纸质同意书 2026-001")
    if frames is None:
        all_frames = talking_head()
        frames = [all_frames[i] for i in ENROL_FRAMES]
    enrol_face(admin, trainee.id, frames)
    return user, trainee


def backdate_check_in(minutes: int, trainee_id=None, session=None) -> None:
    """Move the open intervals' check-ins (of ``trainee_id``, or everyone's) ``minutes`` earlier,
    as if the trainees had checked in then: the interval's opening and last verified face, its
    check-in verification and that verification's statement move together, so the records still
    agree (the reconciliation compares an opening with its check-in verification)."""
    from sqlalchemy import select

    from app.models import FaceVerification, IntervalStatus, PresenceInterval
    from lrs.storage.tables import Statement

    own = session is None
    session = session or db.session
    shift = timedelta(minutes=minutes)
    query = select(PresenceInterval).where(PresenceInterval.status == IntervalStatus.OPEN)
    if trainee_id is not None:
        query = query.where(PresenceInterval.trainee_id == trainee_id)
    for interval in session.scalars(query).all():
        interval.opened_at -= shift
        interval.last_verified_at -= shift
        verification = session.get(FaceVerification, interval.check_in_verification_id)
        verification.at -= shift
        statement = session.scalar(select(Statement).where(Statement.id == verification.statement_id))
        statement.timestamp -= shift
    session.flush()
    if own:
        session.commit()


# -- the synthetic live responder for server-paced challenges ------------------------------------

#: Real frames of talking_head.mp4 for each paced action (measured: recognition/README.md), none
#: within 8 frames of ENROL_FRAMES (their fingerprints would be near-duplicates of the enrolment's).
PACED_FRAMES = {"neutral": (96, 99, 102, 105), "blink": (108, 111, 114, 117, 120),
                "turn_right": (27, 33, 51, 60, 66, 90), "turn_left": (165, 171, 174, 180, 195, 198),
                "look_up": (123, 129, 132, 141, 147, 156), "open_mouth": (162, 165, 168, 171),
                "colour": (96, 99, 102, 105, 96, 99)}  # the colour step: a still face (unlit here)
_MIRRORED = {"turn_left": "turn_right", "turn_right": "turn_left"}


@lru_cache(maxsize=2)
def clip_frames(mirrored: bool) -> tuple[bytes, ...]:
    """talking_head.mp4 as JPEGs, or mirrored left–right (a second, different set of live frames)."""
    if not mirrored:
        return talking_head()
    out = []
    for data in talking_head():
        image = cv2.flip(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), 1)
        out.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes())
    return tuple(out)


#: How strongly the synthetic reflection lights the face (see recognition/README.md).
REFLECTION = 0.3


@lru_cache(maxsize=64)
def lit_frame(mirrored: bool, index: int, colour: str) -> bytes:
    """A neutral frame of the clip with the screen's ``colour`` added to its face region: the tests'
    synthetic stand-in for the light of the screen on a real face."""
    from recognition import QualityPolicy, analyse_image
    from recognition.colour_response import reflect
    image, capture = analyse_image(clip_frames(mirrored)[index], policy=QualityPolicy(max_yaw=1.5, max_pitch=1.5))
    lit = cv2.cvtColor(reflect(image, capture.face.box, colour, REFLECTION), cv2.COLOR_RGB2BGR)
    return cv2.imencode(".jpg", lit, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def respond(send, mirrored: bool = False, max_frames: int = 80, reflection: bool = True) -> dict:
    """A live person answering a paced challenge: a neutral face until a prompt shows, then real
    frames of the asked action; under a colour prompt neutral frames lit by that colour (unlit
    when ``reflection`` is False: a face that does not reflect the screen). ``send(frame_bytes)``
    posts one frame and returns the answer."""
    frames = clip_frames(mirrored)
    neutral = itertools.cycle(PACED_FRAMES["neutral"])
    answer = send(frames[next(neutral)])
    for _ in range(max_frames):
        if answer["phase"] in ("done", "failed", "expired"):
            break
        if answer["phase"] == "acting" and answer["prompt"]["action"] == "colour":
            index = next(neutral)
            answer = send(lit_frame(mirrored, index, answer["prompt"]["colour"]) if reflection else frames[index])
        elif answer["phase"] == "acting":
            action = answer["prompt"]["action"]
            for index in PACED_FRAMES[_MIRRORED.get(action, action) if mirrored else action]:
                answer = send(frames[index])
                if answer["phase"] != "acting":
                    break
        else:
            answer = send(frames[next(neutral)])
    return answer


def answer_paced(user, purpose: str = "check_in", mirrored: bool = False, kiosk=None, camera_label=None,
                 reflection: bool = True) -> str:
    """Start a paced challenge as ``user`` (or ``kiosk``) and answer it as a live person; the nonce."""
    from app.services import attendance
    challenge = attendance.start_check(user, purpose, kiosk=kiosk, camera_label=camera_label)
    respond(lambda data: attendance.stream_frame(user, challenge.nonce, data, kiosk=kiosk), mirrored,
            reflection=reflection)
    return challenge.nonce


def paced_check(user, purpose: str = "check_in", mirrored: bool = False, device: str = "pytest", **kwargs):
    """A whole on-site check of ``user`` answered by the live responder (``check_personal``)."""
    from app.services import attendance
    return attendance.check_personal(user, purpose, answer_paced(user, purpose, mirrored), [], device, **kwargs)


def answer_paced_http(client, headers: dict, purpose: str = "check_in", mirrored: bool = False,
                      prefix: str = "/api/attendance") -> str:
    """The same through the JSON API (``prefix`` ``/api/kiosk`` for a kiosk); the nonce."""
    started = client.post(f"{prefix}/conversation", json={"purpose": purpose}, headers=headers)
    assert started.status_code == 201, started.json
    nonce = started.json["nonce"]

    def send(data):
        response = client.post(f"{prefix}/conversation/{nonce}/frame", headers=headers,
                               content_type="multipart/form-data", data={"frame": (io.BytesIO(data), "f.jpg")})
        assert response.status_code == 200, response.json
        return response.json

    respond(send, mirrored)
    return nonce


def answer_blind(user, frames, purpose: str = "check_in") -> str:
    """Start a paced challenge and send ``frames`` regardless of the prompts (a photo, a
    recording); the nonce."""
    from app.services import attendance
    challenge = attendance.start_check(user, purpose)
    for data in frames:
        if attendance.stream_frame(user, challenge.nonce, data)["phase"] in ("done", "failed", "expired"):
            break
    return challenge.nonce


def blind_check(user, frames, purpose: str = "check_in", device: str = "pytest"):
    """A paced check answered with ``frames`` sent regardless of the prompts (a photo, a recording)."""
    from app.services import attendance
    return attendance.check_personal(user, purpose, answer_blind(user, frames, purpose), [], device)


def burst_challenge(purpose: str = "check_in", trainee_id=None, kiosk_id=None) -> str:
    """A one-burst challenge (nonce and one liveness action, answered by posting frames at once),
    as issued before every check became server-paced: such a row may still exist, or be forged
    into the table. Its nonce."""
    import secrets

    from app.models import CheckInChallenge, Purpose
    from app.models.base import utcnow
    now = utcnow()
    with transaction() as session:
        challenge = CheckInChallenge(nonce=secrets.token_urlsafe(24), action="blink", purpose=Purpose(purpose),
                                     trainee_id=trainee_id, kiosk_id=kiosk_id, issued_at=now,
                                     expires_at=now + timedelta(minutes=2))
        session.add(challenge)
    return challenge.nonce
