"""`flask users …` and `flask demo seed`."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Enrolment, Institution, Programme, Trainee, TrainingClass, User


def _counts():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (User, Institution, Programme, TrainingClass, Trainee, Enrolment)}


def test_users_create_and_list(runner):
    result = runner.invoke(args=["users", "create", "--username", "li.review", "--role", "reviewer",
                                 "--password", "long-password"])
    assert result.exit_code == 0, result.output
    assert "created li.review (reviewer)" in result.output
    listing = runner.invoke(args=["users", "list"])
    assert "li.review" in listing.output and "reviewer" in listing.output


def test_users_create_reports_errors_without_writing(runner):
    result = runner.invoke(args=["users", "create", "--username", "x", "--role", "admin",
                                 "--password", "short"])
    assert result.exit_code != 0
    assert "username" in result.output and "password" in result.output
    bad_role = runner.invoke(args=["users", "create", "--username", "abc", "--role", "king",
                                   "--password", "long-password"])
    assert bad_role.exit_code != 0
    assert _counts()["User"] == 0


def test_users_create_refuses_duplicate(runner):
    args = ["users", "create", "--username", "dup", "--role", "admin", "--password", "long-password"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "taken" in again.output


def test_demo_seed_twice_changes_nothing(runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "demo data created" in first.output
    counts = _counts()
    # the demo accounts, plus the not yet activated accounts of the other demo trainees; the
    # finished class of institution A with its three trainees
    assert counts == {"User": 10, "Institution": 2, "Programme": 2, "TrainingClass": 3,
                      "Trainee": 5, "Enrolment": 8}
    assert "instructor_b" in first.output and "石家庄演示技工学校" in first.output
    assert first.output.count("enter the code ") == 2  # each demo kiosk's one-time enrolment code
    second = runner.invoke(args=["demo", "seed"])
    assert "nothing changed" in second.output
    assert _counts() == counts
    assert "enter the code " not in second.output
    password = first.output.split("password: ")[1].split()[0]
    assert password in second.output
    from app.services.checkpoints import read_checkpoints
    assert len(read_checkpoints()[0]) == 1  # the seed took one checkpoint; the second run none


def test_demo_seed_if_empty_leaves_a_used_database_alone(runner):
    runner.invoke(args=["users", "create", "--username", "real", "--role", "admin",
                        "--password", "long-password"])
    result = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert "not added" in result.output
    assert _counts()["User"] == 1


def test_users_create_places_instructors_in_their_institution(runner):
    from app.services.catalogue import create_listed_entry
    from app.models import Role
    from tests.factories import make_user
    school = create_listed_entry(make_user(Role.ADMIN), "institution", "A-SCHOOL", "甲技工学校")
    base = ["users", "create", "--password", "long-password"]
    no_school = runner.invoke(args=[*base, "--username", "wang", "--role", "instructor"])
    assert no_school.exit_code != 0
    reviewer_in_school = runner.invoke(args=[*base, "--username", "li", "--role", "reviewer", "--institution", "A-SCHOOL"])
    assert reviewer_in_school.exit_code != 0
    unknown = runner.invoke(args=[*base, "--username", "wang", "--role", "instructor", "--institution", "NOPE"])
    assert unknown.exit_code != 0
    assert _counts()["User"] == 1
    made = runner.invoke(args=[*base, "--username", "wang", "--role", "instructor", "--institution", "A-SCHOOL",
                               "--name", "王老师"])
    assert made.exit_code == 0 and "created wang (instructor, A-SCHOOL)" in made.output
    db.session.rollback()
    assert db.session.scalar(select(User.institution_id).where(User.username == "wang")) == school.id
