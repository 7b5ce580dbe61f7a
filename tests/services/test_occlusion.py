"""Occlusion at enrolment and check-in: the second-identity attack of the issue (the same face
enrolled again under another ID number with sunglasses and a mask drawn on) is refused with a
message, and nothing is stored; a covered face in a paced check is not a usable face."""
import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ValidationError
from app.extensions import db
from app.models import FaceFingerprint, FaceTemplate, Role
from app.services import attendance
from app.services.enrolment import enrol_face
from recognition import QualityPolicy, analyse_image
from tests.attendance_helpers import ENROL_FRAMES, running_class, talking_head, trainee_with_face
from tests.factories import make_trainee, make_user


def covered(data: bytes, what: str) -> bytes:
    """The frame with flat sunglasses or a flat mask drawn from its landmarks."""
    image, capture = analyse_image(data, policy=QualityPolicy(max_yaw=1.5, max_pitch=1.5))
    points = capture.face.landmarks.points
    image = image.copy()
    if what == "sunglasses":
        for eye in (points[36:42], points[42:48]):
            centre, width = eye.mean(0), (eye[:, 0].max() - eye[:, 0].min()) * 1.1
            cv2.ellipse(image, (int(centre[0]), int(centre[1])), (int(width), int(width * 0.7)), 0, 0, 360,
                        (20, 20, 20), -1)
    else:
        cv2.fillPoly(image, [np.concatenate([points[1:16], points[[29]]]).astype(np.int32)], (200, 220, 235))
    return cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()


@pytest.mark.parametrize("what", ["sunglasses", "mask"])
def test_a_second_enrolment_with_a_covered_face_is_refused(app, faces_dir, what):
    from app.services._tx import transaction
    from app.services.consent import current_consent_text, give_consent
    admin = make_user(Role.ADMIN)
    trainee_with_face(admin, "first")
    second = make_trainee("李四", actor=admin)
    with transaction() as session:
        version = current_consent_text(session).version
    give_consent(admin, second.id, version, "paper", "纸质同意书 2026-002")
    frames = [covered(talking_head()[i], what) for i in ENROL_FRAMES]
    with pytest.raises(ValidationError) as refused:
        enrol_face(admin, second.id, frames)
    assert refused.value.code in ("eyes_covered", "mouth_covered", "no_face"), refused.value.code
    if refused.value.code != "no_face":
        assert ("墨镜" if what == "sunglasses" else "口罩") in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FaceTemplate)) == 1
    assert db.session.scalar(select(func.count()).select_from(FaceFingerprint)
                             .where(FaceFingerprint.trainee_id == second.id)) == 0


def test_sunglasses_in_a_paced_check_are_no_usable_face(app, faces_dir):
    admin = make_user(Role.ADMIN)
    user, trainee = trainee_with_face(admin, "trainee1")
    running_class(admin, make_user(Role.INSTRUCTOR), [trainee])
    challenge = attendance.start_check(user, "check_in")
    answer = attendance.stream_frame(user, challenge.nonce, covered(talking_head()[99], "sunglasses"))
    assert answer["face"] is False and answer["phase"] == "waiting" and "墨镜" in answer["hint"]
