"""The auditor's audit-log page shows entries (actions in words, details in readable JSON),
narrows them by actor, action, date and object, and shows where the chain breaks, in Chinese."""
import html
import re

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
    assert "审计链有 1 处断裂" in page and "审计条目第 1 条：哈希不符：该条目的内容被改动" in page
    assert "hash mismatch" not in page      # English is for the CLI (`flask audit verify`)
    assert re.search(r"<li[^>]*>审计条目第 1 条：哈希不符", page)  # the sentence names its entry, once


def test_auditor_sees_a_deleted_entry_named(client, auth, app):
    make_user(Role.AUDITOR)
    for name in ("钱七", "孙八", "李九", "周十"):
        make_trainee(name)
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq = 3")
    auth.login("auditor", PASSWORD)
    page = client.get("/audit/").text
    assert "审计条目第 4 条：第 2 条与第 4 条之间缺少一条" in page and "missing entry" not in page
    assert 'id="records-state"' in page and "一致" in page


def _seed_two_registrations():
    """Two trainees registered by two administrators: (first, second)."""
    first_admin, second_admin = make_user(Role.ADMIN, "alice"), make_user(Role.ADMIN, "bob")
    return make_trainee("钱七", actor=first_admin), make_trainee("孙八", actor=second_admin)


def test_actions_are_words_and_details_keep_chinese(client, auth, app):
    make_user(Role.AUDITOR)
    _seed_two_registrations()
    auth.login("auditor", PASSWORD)
    page = html.unescape(client.get("/audit/").text)
    assert "登记学员" in page and '"name": "钱七"' in page
    assert "\\u" not in page  # no escaped Chinese in the details


def test_the_log_narrows_by_actor_action_object_and_date(client, auth, app):
    make_user(Role.AUDITOR)
    first, second = _seed_two_registrations()
    auth.login("auditor", PASSWORD)
    by_actor = client.get("/audit/?actor=ALI&action=trainee.registered").text
    assert "钱七" in by_actor and "孙八" not in by_actor
    by_object = client.get(f"/audit/?object={str(second.id)[:8]}").text
    assert "孙八" in by_object and "钱七" not in by_object
    today = client.get("/audit/?since=2000-01-01&until=2999-12-31").text
    assert "钱七" in today and "孙八" in today
    none = client.get("/audit/?until=2000-01-01").text
    assert "钱七" not in none and "没有符合条件的记录" in none
    kept = client.get("/audit/?actor=bob&object=%25").text  # a LIKE wildcard is taken literally
    assert "孙八" not in kept


def test_a_malformed_filter_is_a_400_in_chinese(client, auth, app):
    make_user(Role.AUDITOR)
    _seed_two_registrations()
    auth.login("auditor", PASSWORD)
    bad_date = client.get("/audit/?since=2026-13-40")
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.text and "钱七" not in bad_date.text
    reversed_range = client.get("/audit/?since=2026-12-07&until=2026-12-01")
    assert reversed_range.status_code == 400 and "结束日期早于开始日期" in reversed_range.text


def test_filtering_or_paging_the_log_does_not_rerun_the_whole_database_check(client, auth, app, monkeypatch):
    make_user(Role.AUDITOR)
    make_trainee("钱七")
    auth.login("auditor", PASSWORD)
    assert 'id="chain-state"' in client.get("/audit/").text
    import app.web.audit.routes as audit_routes
    monkeypatch.setattr(audit_routes, "check_integrity", None)   # calling it would be a 500
    for query in ("?actor=admin", "?before=2", "?since=2000-01-01"):
        page = client.get("/audit/" + query)
        assert page.status_code == 200 and 'id="integrity-elsewhere"' in page.text and "chain-state" not in page.text
