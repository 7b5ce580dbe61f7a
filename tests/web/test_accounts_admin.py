"""`/admin/users`: administrators create accounts placed in their institution, change role,
institution and active flag, reset passwords; every change is audited, and an administrator
cannot deactivate themself. Everyone else is refused with nothing changed."""
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Role, User
from app.services.accounts import authenticate
from app.services.catalogue import create_listed_entry
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_user


def _post(client, path: str, data: dict):
    token = csrf_token_from(client.get("/admin/users").text)
    return client.post(path, data={**data, "csrf_token": token})


def _user(username: str) -> User | None:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(User).where(User.username == username))


def _actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_admin_creates_an_instructor_in_an_institution_and_a_reviewer_without_one(client, auth):
    admin = make_user(Role.ADMIN)
    school = create_listed_entry(admin, "institution", "A-SCHOOL", "甲技工学校")
    auth.login("admin", PASSWORD)
    refused = _post(client, "/admin/users", {"username": "wang", "role": "instructor", "password": "long-password"})
    assert refused.status_code == 400 and _user("wang") is None
    created = _post(client, "/admin/users", {"username": "wang", "role": "instructor", "password": "long-password",
                                             "institution_id": str(school.id), "display_name": "王老师"})
    assert created.status_code == 302
    assert _user("wang").institution_id == school.id
    refused = _post(client, "/admin/users", {"username": "li", "role": "reviewer", "password": "long-password",
                                             "institution_id": str(school.id)})
    assert refused.status_code == 400 and _user("li") is None
    assert _actions()[-1] == "account.created"


def test_admin_changes_deactivates_and_resets_but_not_themself(client, auth):
    admin = make_user(Role.ADMIN)
    school = create_listed_entry(admin, "institution", "A-SCHOOL", "甲技工学校")
    other = make_user(Role.REVIEWER)
    auth.login("admin", PASSWORD)
    changed = _post(client, f"/admin/users/{other.id}", {"role": "instructor", "institution_id": str(school.id),
                                                         "display_name": "改任教师"})
    assert changed.status_code == 302
    user = _user("reviewer")
    assert (user.role, user.institution_id, user.active) == (Role.INSTRUCTOR, school.id, False)
    assert _post(client, f"/admin/users/{other.id}/password", {"password": "a-new-password"}).status_code == 302
    assert authenticate("reviewer", "a-new-password") is None  # inactive accounts do not sign in
    before = _actions()
    assert _post(client, f"/admin/users/{admin.id}", {"role": "admin"}).status_code == 403
    assert _user("admin").active and _actions() == before
    assert before[-2:] == ["account.updated", "account.password_reset"]
    assert "a-new-password" not in str(db.session.scalars(select(AuditEntry.payload)).all())


def test_other_roles_cannot_manage_accounts(client, auth):
    make_user(Role.ADMIN)
    victim = make_user(Role.AUDITOR)
    make_user(Role.INSTRUCTOR)
    auth.login("instructor", PASSWORD)
    token = csrf_token_from(client.get("/").text)
    for path, data in ((f"/admin/users/{victim.id}", {"role": "admin"}),
                       (f"/admin/users/{victim.id}/password", {"password": "long-password"}),
                       ("/admin/users", {"username": "x1x", "role": "admin", "password": "long-password"})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403
    assert _user("auditor").role == Role.AUDITOR and _user("x1x") is None
