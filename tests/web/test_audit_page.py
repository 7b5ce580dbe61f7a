"""The auditor's audit-log page shows entries and where the chain breaks."""
from sqlalchemy import update

from app.extensions import db
from app.models import AuditEntry, Role
from tests.factories import PASSWORD, make_trainee, make_user
from tests.tamper import behind_the_back


def test_auditor_sees_entries_and_a_break(client, auth, app):
    make_user(Role.AUDITOR)
    make_trainee("钱七")
    auth.login("auditor", PASSWORD)
    page = client.get("/audit/").text
    assert "审计链完整" in page and "trainee.registered" in page
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(actor="mallory"))
    db.session.commit()
    page = client.get("/audit/").text
    assert "审计链有 1 处断裂" in page and "第 1 条" in page and "hash mismatch" in page


def test_auditor_sees_a_deleted_entry_named(client, auth, app):
    make_user(Role.AUDITOR)
    for name in ("钱七", "孙八", "李九", "周十"):
        make_trainee(name)
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq = 3")
    auth.login("auditor", PASSWORD)
    page = client.get("/audit/").text
    assert "audit entry 4: missing entry between 2 and 4" in page
    assert 'id="records-state"' in page and "一致" in page
