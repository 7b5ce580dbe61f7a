"""The sealed face frames of a held item in the review queue: the class's instructor sees them
(served unsealed, never cached); an instructor of another institution, an administrator, a
verification of another interval and a frame that is not kept are refused; the frames outlive the
retention period while the item waits and go with the purge once it is decided."""
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import FaceVerification, Role
from app.services import face_images, held_hours
from app.services.catalogue import create_listed_entry
from tests.factories import PASSWORD, make_user
from tests.services.test_held_hours import held  # noqa: F401 (the fixture)


@pytest.fixture
def retention(app):
    """Frames are kept 30 days (set before the held item's checks run)."""
    app.config["FACE_IMAGE_RETENTION_DAYS"] = 30


def evidence_urls(held):  # noqa: F811
    """(verification id, frame URL) of every kept frame of the held item."""
    item, klass = held["item"], held["class"]
    urls = []
    for verification_id in db.session.scalars(select(FaceVerification.id).where(
            FaceVerification.trainee_id == held["trainee"].id)):
        for n in range(len(face_images.kept(held["trainee"].id, verification_id))):
            urls.append((verification_id,
                         f"/classes/{klass.id}/held/{item.id}/frames/{verification_id}/{n}"))
    return urls


def test_the_class_instructor_sees_the_frames_unsealed_and_never_cached(client, auth, retention, held):  # noqa: F811
    auth.login("instructor", PASSWORD)
    queue = client.get(f"/classes/{held['class'].id}/held").text
    urls = evidence_urls(held)
    assert urls and all(url in queue for _v, url in urls)
    verification_id, url = urls[0]
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.data == face_images.kept(held["trainee"].id, verification_id)[0]
    assert response.data[:2] == b"\xff\xd8"


def test_others_are_refused_the_frames(app, client, auth, retention, held):  # noqa: F811
    urls = evidence_urls(held)
    _verification_id, url = urls[0]
    institution_b = create_listed_entry(held["admin"], "institution", "B-SCHOOL", "乙技工学校")
    make_user(Role.INSTRUCTOR, username="outsider", institution=institution_b)
    auth.login("outsider", PASSWORD)
    assert client.get(url).status_code == 403
    assert "frames/" not in client.get(f"/classes/{held['class'].id}/held").text
    auth.logout()
    auth.login("admin", PASSWORD)  # province-wide, but not the class's instructor: no biometrics
    assert client.get(url).status_code == 403
    assert "frames/" not in client.get(f"/classes/{held['class'].id}/held").text
    auth.logout()
    auth.login("instructor", PASSWORD)
    base = f"/classes/{held['class'].id}/held/{held['item'].id}/frames"
    foreign = held["trainee"].id  # an id that is no verification of this held item
    assert client.get(f"{base}/{foreign}/0").status_code == 404
    assert client.get(url.rsplit("/", 1)[0] + "/99").status_code == 404


def test_pending_evidence_outlives_retention_and_goes_after_the_decision(app, retention, held):  # noqa: F811
    kept_before = len(evidence_urls(held))
    later = time.time() + 31 * 86400  # past the 30-day retention
    with app.test_request_context():
        assert face_images.purge_expired(now=later, keep=held_hours.pending_evidence()) == 0
    assert len(evidence_urls(held)) == kept_before
    held_hours.decide(held["instructor"], [held["item"].id], True, "已视频核实")
    with app.test_request_context():
        assert face_images.purge_expired(now=later, keep=held_hours.pending_evidence()) == kept_before
    assert evidence_urls(held) == []
