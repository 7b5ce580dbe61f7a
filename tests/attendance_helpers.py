"""Builders for attendance tests: a running class with a session around now, a trainee with an
account, consent and a face template enrolled from talking_head.mp4, and live frame bursts."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import cv2

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
        teaching_plan="计划", resources="教室", assessment_plan="考核"))
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
