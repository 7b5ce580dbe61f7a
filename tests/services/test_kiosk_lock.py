"""Failed kiosk identifications that NAME the same trainee (a photo of them held up at a kiosk:
the 1:N search finds them, the liveness check refuses) lock that trainee's kiosk check-ins after
``KIOSK_LOCK_FAILURES`` until an instructor unlocks (the same unlock as self check-in lock-outs)."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, CheckInLock, FaceVerification, PresenceInterval, Role
from app.services import attendance, kiosks
from tests.attendance_helpers import running_class, still_photo, trainee_with_face
from tests.factories import make_user
from tests.services.test_attendance import paced


@pytest.fixture
def site(app, faces_dir):
    app.config.update(PACED_MIN_PAUSE_SECONDS=0, PACED_MAX_PAUSE_SECONDS=0, KIOSK_LOCK_FAILURES=3)
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    user, trainee = trainee_with_face(admin, "trainee1")
    klass = running_class(admin, instructor, [trainee])
    kiosk, _code = kiosks.create_kiosk(admin, "一号机", klass.institution_id, "实训楼 201")
    return {"instructor": instructor, "trainee": trainee, "kiosk": kiosk}


def photo_at_kiosk(kiosk):
    """The attack: a photo of the trainee held up to the kiosk's camera."""
    nonce, _answer = paced(None, kiosk=kiosk, frames=still_photo() * 4)
    return attendance.check_at_kiosk(kiosk, "check_in", nonce, [], "kiosk")


def live_at_kiosk(kiosk):
    nonce, _answer = paced(None, kiosk=kiosk)
    return attendance.check_at_kiosk(kiosk, "check_in", nonce, [], "kiosk")


def count(model, *where):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_photos_naming_one_trainee_lock_their_kiosk_check_ins_until_an_instructor_unlocks(site):
    trainee, kiosk = site["trainee"], site["kiosk"]
    for _i in range(3):
        refused = photo_at_kiosk(kiosk)
        assert not refused.accepted and refused.trainee_id is None, refused
    assert count(FaceVerification, FaceVerification.candidate_id == trainee.id) == 3
    assert count(CheckInLock, CheckInLock.trainee_id == trainee.id, CheckInLock.scope == "kiosk") == 1
    assert count(AuditEntry, AuditEntry.action == "attendance.kiosk_locked") == 1
    # now even the real person is refused at the kiosk, and nothing is opened
    locked = live_at_kiosk(kiosk)
    assert not locked.accepted and locked.reason == "kiosk_locked", locked
    assert "锁定" in locked.message
    assert count(PresenceInterval) == 0
    attendance.unlock_trainee(site["instructor"], trainee.id, "本人在场，已核对身份证")
    assert live_at_kiosk(kiosk).accepted


def test_fewer_failures_than_the_limit_lock_nobody(site):
    photo_at_kiosk(site["kiosk"])
    photo_at_kiosk(site["kiosk"])
    assert count(CheckInLock) == 0
    assert live_at_kiosk(site["kiosk"]).accepted
