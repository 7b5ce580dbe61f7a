"""The scheduler: one process, jobs in the database, idempotent recurring jobs."""
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from app.extensions import db
from app.jobs.registry import RECURRING_JOBS
from app.jobs.runner import build_scheduler, single_instance
from app.models import ClassStatus, Role
from app.models.base import utcnow
from app.models.jobs import scheduler_jobs
from app.services.classes import review_class, submit_class
from tests.factories import application, make_catalogue, make_trainee, make_user


@pytest.fixture
def approved_class_started_an_hour_ago(app):
    admin = make_user(Role.ADMIN)
    institution, _, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    reviewer = make_user(Role.REVIEWER)
    now = utcnow()
    from app.services.classes import SessionInput, draft_class
    sessions = [SessionInput(now - timedelta(hours=1), now + timedelta(hours=2), "theory", "教室")]
    klass = draft_class(admin, application(institution, programme, [instructor], [make_trainee()], sessions),
                        now=now - timedelta(days=1))  # drafted the day before its first session
    submit_class(admin, klass.id)
    review_class(reviewer, klass.id, True, "")
    return klass


def test_run_once_starts_due_classes_and_is_idempotent(runner, approved_class_started_an_hour_ago):
    klass = approved_class_started_an_hour_ago
    result = runner.invoke(args=["scheduler", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "start_due_classes" in result.output
    db.session.rollback()
    db.session.refresh(klass)
    assert klass.status is ClassStatus.RUNNING
    again = runner.invoke(args=["scheduler", "run", "--once"])
    assert again.exit_code == 0
    db.session.refresh(klass)
    assert klass.status is ClassStatus.RUNNING


def test_a_second_scheduler_refuses_to_start(app, runner):
    with single_instance(app):
        result = runner.invoke(args=["scheduler", "run", "--once"])
    assert result.exit_code != 0
    assert "another scheduler" in result.output
    assert runner.invoke(args=["scheduler", "run", "--once"]).exit_code == 0


def test_jobs_are_kept_in_the_database(app):
    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        ids = set(db.session.scalars(select(scheduler_jobs.c.id)))
    finally:
        scheduler.shutdown(wait=True)
    assert ids == set(RECURRING_JOBS)
