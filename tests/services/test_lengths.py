"""Text longer than its column is a ValidationError (400) naming the field, before the database
sees it: on PostgreSQL it used to be a 500, on SQLite it was stored. Nothing is written."""
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ValidationError
from app.extensions import db
from app.models import Role, Trainee, TrainingClass
from app.models.limits import text_limits
from app.services.catalogue import create_listed_entry
from app.services.classes import draft_class
from app.services.registry import TraineeInput, register_trainee
from tests.factories import application, make_catalogue, make_user, resident_id, session_at


@pytest.fixture
def world(app):
    admin = make_user(Role.ADMIN)
    institution, _, programme = make_catalogue(admin)
    return admin, institution, programme


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_limits_come_from_the_models():
    assert text_limits(TrainingClass)["code"] == 32
    assert text_limits(Trainee)["employer"] == 200


@pytest.mark.parametrize("field, value", [("code", "C" * 33), ("name", "班" * 201)])
def test_overlong_class_fields_are_refused(world, field, value):
    admin, institution, programme = world
    app_ = replace(application(institution, programme), **{field: value})
    before = _count(TrainingClass)
    with pytest.raises(ValidationError) as caught:
        draft_class(admin, app_)
    assert field in caught.value.errors
    assert _count(TrainingClass) == before


def test_overlong_session_place_is_refused(world):
    admin, institution, programme = world
    day = date.today() + timedelta(days=7)
    app_ = application(institution, programme, sessions=[session_at(day, 9, 12, place="楼" * 300)])
    before = _count(TrainingClass)
    with pytest.raises(ValidationError) as caught:
        draft_class(admin, app_)
    assert "place" in caught.value.errors
    assert _count(TrainingClass) == before


def test_overlong_employer_is_refused(app):
    with pytest.raises(ValidationError) as caught:
        register_trainee(None, TraineeInput("王芳", resident_id(), "13912345678", "企业职工",
                                            "公" * 201))
    assert "employer" in caught.value.errors
    assert _count(Trainee) == 0


def test_overlong_catalogue_code_is_refused(app):
    admin = make_user(Role.ADMIN)
    with pytest.raises(ValidationError) as caught:
        create_listed_entry(admin, "occupation", "6" * 200, "电工")
    assert "code" in caught.value.errors
