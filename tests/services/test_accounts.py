"""Account creation and password checks."""
import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, ValidationError
from app.extensions import db
from app.models import Role, User
from app.services.accounts import authenticate, create_user
from tests.factories import PASSWORD, make_user


def test_create_user_hashes_with_argon2id(app):
    user = create_user("Wang.Li", "instructor", "long-enough-pw")
    assert user.username == "wang.li"
    assert user.role is Role.INSTRUCTOR
    assert user.password_hash.startswith("$argon2id$")
    assert "long-enough-pw" not in user.password_hash


@pytest.mark.parametrize("username, role, password, field", [
    ("ab", "trainee", "long-enough", "username"),
    ("has space", "trainee", "long-enough", "username"),
    ("valid_name", "superuser", "long-enough", "role"),
    ("valid_name", "trainee", "short", "password"),
])
def test_create_user_rejects_bad_input(app, username, role, password, field):
    with pytest.raises(ValidationError) as info:
        create_user(username, role, password)
    assert field in info.value.errors
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_refuses_duplicate_username(app):
    make_user(Role.ADMIN, "boss")
    with pytest.raises(ConflictError):
        create_user("BOSS", "auditor", "another-password")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_authenticate(app):
    make_user(Role.AUDITOR, "checker")
    assert authenticate("checker", PASSWORD).username == "checker"
    assert authenticate("Checker ", PASSWORD) is not None
    assert authenticate("checker", PASSWORD + "x") is None
    assert authenticate("nobody", PASSWORD) is None


def test_authenticate_refuses_inactive_account(app):
    user = make_user(Role.AUDITOR, "gone")
    user.active = False
    db.session.commit()
    assert authenticate("gone", PASSWORD) is None


def test_production_strength_hashing_outside_tests(tmp_path):
    from app import create_app
    from app.services.accounts import hash_password
    app = create_app({"SKILLTRACE_ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        assert hash_password("long-enough-pw").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
