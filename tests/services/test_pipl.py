"""PIPL duties for face data: the filing threshold's warning levels, the automatic deletion of
templates a configured number of days after the trainee's last class ends (with an injected
`now`, audited with the count; a template still within retention is kept; a trainee on no class
keeps it for the retention after enrolling the face), and the processing record's figures."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditEntry, ClassStatus, FaceTemplate, Role
from app.services import pipl
from app.services._tx import transaction
from tests.attendance_helpers import running_class
from tests.factories import make_trainee, make_user

CLASS_START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)   # 09:00 Beijing
CLASS_END = CLASS_START + timedelta(minutes=180)


def with_template(trainee):
    with transaction() as session:
        session.add(FaceTemplate(trainee_id=trainee.id, encoder="test", sealed=b"sealed", captures=3))
    return trainee


def templates_of(*trainees) -> set:
    db.session.rollback()
    return set(db.session.scalars(select(FaceTemplate.trainee_id).where(
        FaceTemplate.trainee_id.in_([t.id for t in trainees]))))


@pytest.fixture
def people(app):
    """``done`` finished a class on 2026-03-02; ``later`` is also on a class ending 2026-06-01;
    ``idle`` is on no class; each has a template."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    done, later, idle = (with_template(make_trainee(n, actor=admin)) for n in ("张甲", "李乙", "王丙"))
    running_class(admin, instructor, [done, later], start=CLASS_START, status=ClassStatus.COMPLETED)
    running_class(admin, instructor, [later], start=datetime(2026, 6, 1, 1, tzinfo=timezone.utc))
    return done, later, idle


def test_templates_are_kept_until_the_retention_after_the_last_class_is_over(people):
    done, later, idle = people
    assert pipl.purge_expired_templates(CLASS_END + timedelta(days=180) - timedelta(minutes=1)) == 0
    assert templates_of(*people) == {done.id, later.id, idle.id}
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "face.templates_purged")) == 0


def test_templates_are_purged_after_the_retention_and_the_purge_is_audited(people):
    done, later, idle = people
    assert pipl.purge_expired_templates(CLASS_END + timedelta(days=180, minutes=1)) == 1
    assert templates_of(*people) == {later.id, idle.id}  # later's last class ended in June
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "face.templates_purged"))
    assert entry.payload["templates"] == 1 and entry.payload["retention_days"] == 180
    assert entry.payload["trainee_ids"] == [str(done.id)]
    assert pipl.purge_expired_templates(CLASS_END + timedelta(days=181)) == 0  # nothing twice


def test_a_trainee_on_no_class_loses_the_template_the_retention_after_enrolling(people):
    done, later, idle = people
    with transaction() as session:  # both faces enrolled long ago; only ``later`` has a class since
        session.execute(update(FaceTemplate).where(FaceTemplate.trainee_id.in_([idle.id, later.id]))
                        .values(created_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert pipl.purge_expired_templates(datetime(2026, 6, 29, 23, tzinfo=timezone.utc)) == 0
    assert pipl.purge_expired_templates(datetime(2026, 6, 30, 1, tzinfo=timezone.utc)) == 1
    assert templates_of(*people) == {done.id, later.id}


def test_the_retention_is_configurable(people, app):
    app.config["FACE_TEMPLATE_RETENTION_DAYS"] = 30
    done, later, idle = people
    assert pipl.purge_expired_templates(CLASS_END + timedelta(days=31)) == 1
    assert templates_of(*people) == {later.id, idle.id}


def test_the_filing_threshold_warns_at_eighty_percent(app):
    app.config["FACE_FILING_THRESHOLD"] = 5
    admin = make_user(Role.ADMIN)
    assert pipl.filing_state(db.session).level == "ok"
    trainees = [with_template(make_trainee(actor=admin)) for _ in range(4)]
    state = pipl.filing_state(db.session)
    assert (state.holders, state.warn_at, state.level) == (4, 4, "warn")
    with_template(make_trainee(actor=admin))
    assert pipl.filing_state(db.session).level == "over" and len(trainees) == 4


def test_the_processing_record_counts_what_is_held(people):
    rows = {row[0]: row for row in pipl.processing_record(db.session)}
    assert rows["人脸特征模板"][3] == 3 and rows["实名登记"][3] == 3
    assert "180 天" in rows["人脸特征模板"][4]
