"""The replay memory's retention: the scheduler job deletes face fingerprints older than
``FACE_FINGERPRINT_RETENTION_DAYS`` (tested with an injected now) and audits the counts; younger
ones stay and still refuse a replay."""
from datetime import timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.jobs.registry import RECURRING_JOBS
from app.models import AuditEntry, FaceFingerprint, Role
from app.models.base import utcnow
from app.services import replay
from app.services._tx import transaction
from tests.factories import make_trainee, make_user


def _prints(trainee_id, source, n, age_days):
    with transaction() as session:
        replay.store(session, trainee_id, [bytes([i]) * 8 for i in range(n)], source)
    db.session.execute(update(FaceFingerprint).where(FaceFingerprint.created_at > utcnow() - timedelta(minutes=1))
                       .values(created_at=utcnow() - timedelta(days=age_days)))
    db.session.commit()


def test_fingerprints_older_than_the_retention_are_purged_and_audited(app):
    app.config["FACE_FINGERPRINT_RETENTION_DAYS"] = 180
    trainee = make_trainee(actor=make_user(Role.ADMIN))
    _prints(trainee.id, "enrolment", 2, age_days=200)
    _prints(trainee.id, "check", 3, age_days=181)
    _prints(trainee.id, "check", 1, age_days=10)
    # as of 15 days ago the cutoff was 195 days back: only the 200-day-old ones had expired
    assert replay.purge_expired(now=utcnow() - timedelta(days=15)) == 2
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FaceFingerprint)) == 4
    assert RECURRING_JOBS["purge_face_fingerprints"].func() == "3 face fingerprints purged"
    db.session.rollback()
    left = db.session.scalars(select(FaceFingerprint)).all()
    assert len(left) == 1 and left[0].source == "check"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "face_fingerprints.purged")
                                 .order_by(AuditEntry.seq)).all()
    assert [e.payload["fingerprints"] for e in entries] == [2, 3]
    assert entries[0].payload["by_source"] == {"enrolment": 2} and entries[1].payload["by_source"] == {"check": 3}
    assert replay.nearest(db.session, trainee.id, [bytes([0]) * 8]) == 0  # the young one still answers


def test_nothing_to_purge_writes_nothing(app):
    assert replay.purge_expired() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "face_fingerprints.purged")) == 0
