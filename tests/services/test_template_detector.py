"""Face templates record their detector (issue 15): a template says which detector aligned it; a
probe is compared with a template only as that detector aligns it, at that detector's threshold
(1:1, 1:N at a kiosk, and the duplicate check at enrolment); when that detector cannot run here
the check is refused asking for re-enrolment, and an enrolment whose duplicate check cannot be
complete is refused — never a comparison across pipelines. The PIPL page counts the templates to
enrol again."""
import pytest
from recognition import default_threshold, enrol_template
from recognition.compare import compare_encodings
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, UnavailableError
from app.extensions import db
from app.face import FaceRecognition, get_face
from app.models import (AuditEntry, FaceTemplate, FaceVerification, HoursEntry, PresenceInterval, Role)
from app.services import attendance, enrolment, kiosks
from app.services.face_checks import roster_rule
from app.services.refusals import is_locking
from tests.attendance_helpers import (ENROL_FRAMES, answer_paced, running_class, talking_head,
                                      trainee_with_face)
from tests.factories import PASSWORD, make_user

HOG, RETINA = default_threshold("mobilefacenet", "hog"), default_threshold("mobilefacenet", "retinaface")
OBAMA = ("obama.jpg", "obama2.jpg", "obama3.jpg")


def use_detector(app, name: str) -> None:
    """The server's configured detector from now on (as after a restart with SKILLTRACE_FACE_DETECTOR)."""
    app.config["FACE_DETECTOR"] = name
    app.extensions["face"] = FaceRecognition(app.config)


def without_retinaface(app, monkeypatch) -> None:
    """A server where RetinaFace cannot run (no weights or onnxruntime): HOG in use."""
    use_detector(app, "hog")
    monkeypatch.setattr(FaceRecognition, "available", lambda self, detector: detector == "hog")


@pytest.fixture
def world(app, faces_dir):
    app.config.update(PACED_MIN_PAUSE_SECONDS=0, PACED_MAX_PAUSE_SECONDS=0)
    admin = make_user(Role.ADMIN)
    instructor = make_user(Role.INSTRUCTOR)
    return {"admin": admin, "instructor": instructor}


def template_of(trainee) -> FaceTemplate:
    db.session.rollback()
    return db.session.scalar(select(FaceTemplate).where(FaceTemplate.trainee_id == trainee.id))


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_template_records_the_detector_that_made_it(app, world):
    _user, trainee = trainee_with_face(world["admin"], "trainee1")
    assert template_of(trainee).detector == "retinaface"
    use_detector(app, "hog")  # enrolled again with HOG: the replacement is compared as RetinaFace aligns it
    again = enrolment.enrol_face(world["admin"], trainee.id, [talking_head()[i] for i in ENROL_FRAMES])
    assert again.replaced and template_of(trainee).detector == "hog"
    db.session.rollback()
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "face.enrolled").order_by(AuditEntry.seq.desc()))
    assert audit.payload["detector"] == "hog"


def test_a_hog_template_is_compared_with_a_hog_aligned_probe(app, world, client, auth):
    """Enrolled before RetinaFace: the check aligns the probe as the template was, at HOG's
    threshold, and the PIPL page counts the template among those to enrol again."""
    use_detector(app, "hog")
    user, trainee = trainee_with_face(world["admin"], "trainee1")
    running_class(world["admin"], world["instructor"], [trainee])
    use_detector(app, "retinaface")
    attempt = attendance.check_personal(user, "check_in", answer_paced(user), [], "pytest")
    assert attempt.accepted, attempt
    db.session.rollback()
    verification = db.session.get(FaceVerification, attempt.verification_id)
    assert verification.threshold == HOG != RETINA
    assert enrolment.templates_by_detector(db.session)["to_reenrol"] == 1
    auth.login(world["admin"].username, PASSWORD)
    page = client.get("/admin/pipl").text
    assert 'id="templates-to-reenrol">1<' in page and "HOG" in page
    page = client.get(f"/trainees/{trainee.id}/biometrics").text
    assert "人脸检测器：dlib HOG（旧检测器）" in page and 'id="reenrol-needed"' in page


def test_when_the_template_detector_cannot_run_the_check_is_refused(app, world, monkeypatch):
    """A RetinaFace template on a server fallen back to HOG: refused asking for re-enrolment
    (not counted toward a lock-out), nothing credited — not compared across pipelines."""
    user, trainee = trainee_with_face(world["admin"], "trainee1")
    running_class(world["admin"], world["instructor"], [trainee])
    without_retinaface(app, monkeypatch)
    attempt = attendance.check_personal(user, "check_in", answer_paced(user), [], "pytest")
    assert not attempt.accepted and attempt.reason == "template_needs_reenrolment", attempt
    assert "重新" in attempt.message and not is_locking(attempt.reason)
    assert count(PresenceInterval) == 0 and count(HoursEntry) == 0


def test_a_kiosk_searches_each_detector_with_its_own_probe(app, world, faces_dir):
    """A roster with a HOG template and a RetinaFace one: the HOG trainee is identified at HOG's
    roster threshold; with RetinaFace unable to run, a face not found among the rest is told to
    enrol again."""
    use_detector(app, "hog")
    _user, old = trainee_with_face(world["admin"], "trainee1")
    use_detector(app, "retinaface")
    _user, new = trainee_with_face(world["admin"], "trainee2", name="钱多",
                                   frames=[(faces_dir / name).read_bytes() for name in OBAMA])
    klass = running_class(world["admin"], world["instructor"], [old, new])
    kiosk, _code = kiosks.create_kiosk(world["admin"], "一号机", klass.institution_id, "实训楼 201")
    attempt = attendance.check_at_kiosk(kiosk, "check_in", answer_paced(None, kiosk=kiosk), [], "kiosk")
    assert attempt.accepted and attempt.trainee_id == old.id, attempt
    db.session.rollback()
    assert db.session.get(FaceVerification, attempt.verification_id).threshold == pytest.approx(roster_rule().threshold(HOG, 2))


def test_a_kiosk_refuses_when_a_roster_detector_cannot_run(app, world, monkeypatch, faces_dir):
    _user, trainee = trainee_with_face(world["admin"], "trainee1")
    klass = running_class(world["admin"], world["instructor"], [trainee])
    kiosk, _code = kiosks.create_kiosk(world["admin"], "一号机", klass.institution_id, "实训楼 201")
    without_retinaface(app, monkeypatch)
    attempt = attendance.check_at_kiosk(kiosk, "check_in", answer_paced(None, kiosk=kiosk), [], "kiosk")
    assert not attempt.accepted and attempt.reason == "template_needs_reenrolment", attempt
    assert count(PresenceInterval) == 0


def test_the_duplicate_check_aligns_the_new_face_as_each_stored_template(app, world):
    """The same face enrolled under a second ID after the switch to RetinaFace: compared with the
    HOG template as HOG aligns it, refused as a duplicate at that distance."""
    use_detector(app, "hog")
    _user, first = trainee_with_face(world["admin"], "trainee1")
    use_detector(app, "retinaface")
    frames = [talking_head()[i] for i in ENROL_FRAMES]
    hog = get_face().pipeline_for("hog")
    expected = compare_encodings(
        get_face().cipher.decrypt(template_of(first).sealed),
        enrol_template([hog.encode_bytes(f)[1] for f in frames], min_captures=1, agreement=HOG))
    with pytest.raises(ConflictError) as refused:
        trainee_with_face(world["admin"], "trainee2", name="钱多", frames=frames)
    assert refused.value.code == "duplicate_face"
    db.session.rollback()
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "face.duplicate_refused"))
    assert audit.payload["distance"] == pytest.approx(round(expected, 4), abs=1e-4)
    assert count(FaceTemplate) == 1


def test_an_enrolment_whose_duplicate_check_cannot_run_is_refused(app, world, monkeypatch):
    """RetinaFace templates stored, RetinaFace unavailable: the new face cannot be aligned as they
    were, so the enrolment is refused with nothing stored (a second identity would slip past)."""
    _user, _first = trainee_with_face(world["admin"], "trainee1")
    without_retinaface(app, monkeypatch)
    with pytest.raises(UnavailableError) as refused:
        trainee_with_face(world["admin"], "trainee2", name="钱多", frames=[talking_head()[i] for i in ENROL_FRAMES])
    assert refused.value.code == "template_detector_unavailable"
    assert count(FaceTemplate) == 1
