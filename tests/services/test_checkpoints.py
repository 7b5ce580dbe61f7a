"""Signed checkpoints outside the database: `flask audit verify` names the first checkpoint the
database no longer matches after a cut tail, a full rewrite with recomputed (even keyed) hashes,
entries added behind a checkpoint, or deleted records; an edited checkpoint file is named too."""
import json
import uuid

import pytest
from sqlalchemy import func, select

from app.clock import local_now
from app.extensions import db
from app.models import AuditEntry, FaceVerification, Role
from app.services import attendance
from app.services.audit import canonical_json, entry_hash, sha256_hex
from app.services.checkpoints import create_checkpoint, read_checkpoints, verify_checkpoints
from app.services.forwarding import is_enabled
from tests.attendance_helpers import running_class
from tests.factories import make_trainee, make_user
from tests.tamper import behind_the_back, forge_audit_entry


@pytest.fixture
def anchored(app):
    """Registrations, a checkpoint, then one more registration."""
    admin = make_user(Role.ADMIN)
    for name in ("张一", "张二", "张三"):
        make_trainee(name, actor=admin)
    first = create_checkpoint()
    make_trainee("张四", actor=admin)
    return first


def verify(runner, clean: bool, *extra):
    result = runner.invoke(args=["audit", "verify", *extra])
    assert result.exit_code == (0 if clean else 1), result.output
    return result.output


def test_checkpoints_match_an_untouched_database(app, anchored, runner):
    second = create_checkpoint()
    checkpoints, bad = read_checkpoints()
    assert bad == [] and [c.seq for c in checkpoints] == [anchored.seq, second.seq] and second.seq > anchored.seq
    assert second.body["counts"]["lrs_statements"] >= 0 and second.body["hash"] != anchored.body["hash"]
    assert "2 signed checkpoint(s)" in verify(runner, clean=True)
    shown = runner.invoke(args=["audit", "checkpoint", "show"])
    assert shown.exit_code == 0 and second.digest in shown.output and "public key local1" in shown.output


def test_cut_tail_is_named_by_its_checkpoint(app, anchored, runner):
    last = create_checkpoint()
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq > :seq", seq=anchored.seq)
    output = verify(runner, clean=False)
    assert f"{last.label()}: audit entry {last.seq} is gone (the log now ends at {anchored.seq}): its tail was cut" \
        in output
    assert f"{anchored.label()}:" not in output  # the first checkpoint still matches


def test_full_rewrite_with_recomputed_keyed_hashes_is_named(app, anchored, runner):
    """Someone holding the chain key (an insider who copied it) edits the first registration and
    recomputes every digest and hash: the chain verifies, the checkpoint does not."""
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    prev = "0" * 64
    for entry in entries:
        if entry.seq == 1:
            entry.payload = {**entry.payload, "name": "别人"}
            entry.payload_digest = sha256_hex(canonical_json(entry.payload))
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(entry)
    db.session.commit()
    output = verify(runner, clean=False)
    assert "audit entry" not in output.split(anchored.label())[0]  # the chain itself verifies
    assert f"{anchored.label()}: audit entry {anchored.seq} has another hash than was signed: " \
           "the chain was rewritten" in output


def test_entries_added_behind_a_checkpoint_are_named(app, anchored, runner):
    last = create_checkpoint()
    seq = forge_audit_entry(app, "hours.credited", "hours_ledger", str(uuid.uuid4()), {"minutes": 480})
    behind_the_back(app, "UPDATE audit_entries SET at = :at WHERE seq = :seq", at=anchored.at, seq=seq)
    output = verify(runner, clean=False)
    assert f"{last.label()}: 1 audit entries after entry {last.seq} are dated before the checkpoint" in output


def test_a_deleted_refusal_is_counted_missing(app, runner):
    """A refused check-in (no ID-card arrangement), a checkpoint, then the refusal and its
    statement deleted behind the application's back."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    trainee = make_trainee("张甲", actor=admin)
    running_class(admin, instructor, [trainee])
    refused = attendance.check_alternative(instructor, trainee.id, "check_in")
    assert not refused.accepted
    last = create_checkpoint()
    statements = last.body["counts"]["lrs_statements"]
    verification = db.session.get(FaceVerification, refused.verification_id)
    pk = "(SELECT pk FROM lrs_statements WHERE id = :id)"
    for table in ("lrs_statement_agents", "lrs_statement_activities"):
        behind_the_back(app, f"DELETE FROM {table} WHERE statement_pk = {pk}", id=verification.statement_id)
    behind_the_back(app, "DELETE FROM lrs_statements WHERE id = :id", id=verification.statement_id)
    behind_the_back(app, "DELETE FROM face_verifications WHERE id = :id", id=verification.id)
    output = verify(runner, clean=False)
    assert f"{last.label()}: face_verifications: 1 of the 1 records dated up to it are gone" in output
    assert f"lrs_statements: 1 of the {statements} records dated up to it are gone" in output
    words = [problem.translated() for problem in verify_checkpoints(db.session)[1]]  # as the audit page says them
    assert any("：人脸核验记录：检查点时已有的 1 条记录中有 1 条已不存在" in w for w in words), words
    assert not any("face_verifications" in w for w in words)


def test_an_edited_checkpoint_file_is_named(app, anchored, runner, tmp_path):
    path = tmp_path / "copy.jsonl"
    record = json.loads(anchored.line())
    record["body"]["seq"] = 1
    path.write_text(json.dumps(record) + "\n")
    output = verify(runner, False, "--checkpoints", str(path))
    assert "line 1: not a checkpoint with a valid signature (the file was edited)" in output
    assert verify_checkpoints(db.session)[1] == []  # the configured file is untouched


def test_the_scheduler_signs_checkpoints_and_forwards_them_when_configured(app, runner):
    make_trainee("张一")
    app.config["XAPI_FORWARD_URL"] = "https://lrs.example.org/xapi"
    assert is_enabled()
    result = runner.invoke(args=["audit", "checkpoint", "create"])
    assert result.exit_code == 0 and "digest" in result.output, result.output
    from app.models.forwarding import ForwardedStatement
    from lrs.storage.tables import Statement
    queued = db.session.scalar(select(Statement).join(ForwardedStatement,
                                                      ForwardedStatement.statement_id == Statement.id))
    checkpoint = read_checkpoints()[0][-1]
    ext = queued.payload["context"]["extensions"]
    assert any(isinstance(v, dict) and v.get("digest") == checkpoint.digest for v in ext.values())
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == checkpoint.seq


def test_the_audit_page_names_a_contradicted_checkpoint(app, anchored, client, auth):
    from tests.factories import PASSWORD
    last = create_checkpoint()
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq > :seq", seq=anchored.seq)
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    page = client.get("/audit/")
    assert page.status_code == 200 and 'id="checkpoints-state"' in page.text
    beijing = f"{local_now(last.at):%Y-%m-%d %H:%M:%S}"
    assert (f"{beijing} 的检查点（审计条目第 {last.seq} 条）：审计条目第 {last.seq} 条已不存在"
            f"（日志现止于第 {anchored.seq} 条）：日志尾部被截掉") in page.text
    assert "is gone" not in page.text and last.body["at"] not in page.text  # the CLI's English and ISO
