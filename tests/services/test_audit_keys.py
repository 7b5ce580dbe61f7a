"""The keyed audit chain: canonical numbers survive every database's JSON type, entries
fabricated without the chain key are named, keys rotate by id, and entries written before the
chain was keyed still verify (but only before the first keyed entry)."""
import uuid
from types import SimpleNamespace

import pytest

from app.config import BaseConfig
from app.extensions import db
from app.models import AuditEntry
from app.services._tx import transaction
from app.services.audit import _legacy_json, append_audit, canonical_value, sha256_hex, verify_chain, verify_entries
from tests.factories import make_trainee
from tests.tamper import behind_the_back, forge_audit_entry

AWKWARD = {"negative_zero": -0.0, "small": 1e-05, "sum": 0.1 + 0.2, "large": 2 ** 70, "huge": 1e300,
           "whole": 3.0, "tiny": 5e-324, "text": "𠀀 U+20000, 😀 emoji, 张", "list": [-0.0, [1.5, -2.0]]}
OTHER_KEY = "b2:" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


def audit(payload: dict, action: str = "test.awkward") -> int:
    with transaction() as session:
        return append_audit(session, None, action, SimpleNamespace(id=uuid.uuid4()), payload,
                            object_type="test").seq


def test_canonical_numbers():
    assert canonical_value(AWKWARD)["negative_zero"] == 0 and canonical_value(-0.0) == 0
    assert canonical_value(1e300) == 10 ** 300 and canonical_value(3.0) == 3
    assert canonical_value(1e-05) == 1e-05 and canonical_value(0.1 + 0.2) == 0.30000000000000004
    with pytest.raises(ValueError):
        canonical_value(float("nan"))


def test_awkward_values_survive_the_database(app):
    seq = audit(AWKWARD)
    db.session.expire_all()
    assert verify_chain(db.session) == []
    assert verify_entries(db.session, [seq]) == []
    stored = db.session.get(AuditEntry, seq).payload
    assert stored["text"] == AWKWARD["text"] and stored["large"] == 2 ** 70 and stored["small"] == 1e-05


def test_fabricated_entries_without_the_chain_key_are_named(app):
    trainee = make_trainee("张甲")
    plain = forge_audit_entry(app, "hours.credited", "hours_ledger", str(uuid.uuid4()), {"minutes": 480})
    posing = forge_audit_entry(app, "hours.credited", "hours_ledger", str(uuid.uuid4()), {"minutes": 480},
                               key_id="local1")
    problems = {(b.seq, b.problem) for b in verify_chain(db.session)}
    assert (plain, "written without the chain key after the chain was keyed "
                   "(a plain hash anyone with the database can compute)") in problems
    assert (posing, "hash mismatch: the entry's content was altered") in problems
    assert all(seq in (plain, posing) for seq, _ in problems), problems
    assert trainee is not None


def test_keys_rotate_by_id(app):
    first = audit({"n": 1})
    spec = app.config["AUDIT_CHAIN_KEYS"]
    app.config.update(AUDIT_CHAIN_KEYS=f"{spec},{OTHER_KEY}", AUDIT_CHAIN_KEY_ID="b2")
    second = audit({"n": 2})
    db.session.expire_all()
    assert db.session.get(AuditEntry, first).key_id == "local1" and db.session.get(AuditEntry, second).key_id == "b2"
    assert verify_chain(db.session) == []
    app.config.update(AUDIT_CHAIN_KEYS=OTHER_KEY, AUDIT_CHAIN_KEY_ID="b2")  # the old key dropped too early
    assert [(b.seq, b.problem) for b in verify_chain(db.session)] == [
        (first, "keyed with chain key 'local1', which is not configured")]


def test_entries_from_before_the_chain_was_keyed_still_verify(app):
    """A chain from before this release: plain SHA-256 hashes, digests of the old JSON (3.0 stays
    3.0), no key id. It verifies, and keyed entries continue it."""
    legacy = forge_audit_entry_at_genesis(app, {"whole": 3.0})
    keyed = audit({"n": 1})
    db.session.expire_all()
    assert db.session.get(AuditEntry, legacy).key_id is None
    assert verify_chain(db.session) == [] and verify_entries(db.session, [legacy, keyed]) == []


def forge_audit_entry_at_genesis(app, payload: dict) -> int:
    """Entry 1 as the release before keyed chains wrote it."""
    from app.models.base import utcnow
    at = utcnow()
    fields = {"seq": 1, "at": at.isoformat(), "actor_id": None, "actor": "system", "action": "test.legacy",
              "object_type": "test", "object_id": "x", "payload_digest": sha256_hex(_legacy_json(payload)),
              "prev_hash": "0" * 64}
    behind_the_back(app, "INSERT INTO audit_entries (seq, at, actor, action, object_type, object_id, payload, "
                         "payload_digest, prev_hash, hash) VALUES (1, :at, 'system', 'test.legacy', 'test', 'x', "
                         ":payload, :digest, :prev, :hash)",
                    at=at, payload=_legacy_json(payload), digest=fields["payload_digest"], prev="0" * 64,
                    hash=sha256_hex(_legacy_json(fields)))
    return 1


def test_production_refuses_to_start_without_the_chain_and_checkpoint_keys(tmp_path):
    env = {"SECRET_KEY": "s" * 40, "SKILLTRACE_TEMPLATE_KEYS": OTHER_KEY, "SKILLTRACE_TEMPLATE_KEY_ID": "b2"}
    from app.config import ProductionConfig
    with pytest.raises(RuntimeError, match="SKILLTRACE_AUDIT_CHAIN_KEYS"):
        ProductionConfig.load(tmp_path, env)
    assert not (tmp_path / "audit_chain_keys").exists()
    settings = ProductionConfig.load(tmp_path, {**env, "SKILLTRACE_AUDIT_CHAIN_KEYS": OTHER_KEY,
                                                "SKILLTRACE_CHECKPOINT_KEYS": OTHER_KEY})
    assert settings["AUDIT_CHAIN_KEYS"] == OTHER_KEY
    assert BaseConfig.load(tmp_path, {})["AUDIT_CHAIN_KEYS"].startswith("local1:")
