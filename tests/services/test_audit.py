"""The hash-chained audit log: appends link up, and tampering is located."""
import threading

from sqlalchemy import select, text, update

from app.extensions import db
from app.models import AuditEntry
from app.services.audit import verify_chain, verify_entries
from tests.factories import make_trainee


def test_chain_links_and_verifies(app):
    for name in ("张一", "张二", "张三"):
        make_trainee(name)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].hash and entries[2].prev_hash == entries[1].hash
    assert verify_chain(db.session) == []


def test_tampering_is_located(app):
    for name in ("张一", "张二", "张三", "张四"):
        make_trainee(name)
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone-else"))
    db.session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    db.session.commit()
    problems = {(b.seq, b.problem) for b in verify_chain(db.session)}
    assert (2, "hash mismatch: the entry's content was altered") in problems
    assert (4, "missing entry between 2 and 4") in problems
    assert not any(seq == 1 for seq, _ in problems)


def test_payload_change_is_detected(app):
    trainee = make_trainee()
    entry = db.session.scalar(select(AuditEntry))
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == entry.seq)
                       .values(payload={**entry.payload, "name": "别人"}))
    db.session.commit()
    assert [b.problem for b in verify_chain(db.session)] == ["payload edited: it does not match its digest"]
    assert trainee is not None


def test_concurrent_writers_do_not_fork_the_chain(app):
    errors = []

    def register(n):
        with app.app_context():
            try:
                for i in range(5):
                    make_trainee("并发" + "甲乙丙丁戊己"[n] + "一二三四五"[i])
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert seqs == list(range(1, 31))
    assert verify_chain(db.session) == []


def test_cli_verify_names_each_break(app, runner):
    make_trainee("张一")
    make_trainee("张二")
    assert runner.invoke(args=["audit", "verify"]).output.startswith("audit chain intact")
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(action="trainee.deleted"))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "audit entry 1: hash mismatch" in result.output
    assert "entry 2" not in result.output  # the link from 2 to 1 still matches the stored hash


def test_verify_entries_checks_chosen_entries_where_they_sit(app):
    for name in ("张一", "张二", "张三", "张四", "张五"):
        make_trainee(name)
    assert verify_entries(db.session, [2, 4]) == []
    db.session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(prev_hash="0" * 64))
    db.session.commit()
    problems = {(b.seq, b.problem) for b in verify_entries(db.session, [1, 4])}
    assert problems == {(4, "missing entry 3 before it"), (5, "previous-hash link does not match entry 4")}
