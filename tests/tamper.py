"""Tampering behind the application's back: raw SQL on its own connection, bypassing the ORM
and lifting the ledger's append-only triggers, as someone with database access could. The one
place tests do it."""
from __future__ import annotations

import uuid
from contextlib import nullcontext
from datetime import datetime, timezone

from flask import has_app_context
from sqlalchemy import text

from app.extensions import db
from tests.ledger_guard import ledger_guard_lifted


def _raw(value, dialect: str):
    """A value as the driver takes it in raw SQL: on SQLite, UUIDs as 32 hex digits and times
    as naive UTC text, the way the app's column types store them."""
    if dialect != "sqlite":
        return value
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def behind_the_back(app, sql: str, **params) -> int:
    """Run ``sql`` with ``params`` in its own committed transaction; return the rows it touched.

    The test's session is ended first (so SQLite's writer is not blocked by its read) and sees
    the change on its next query.
    """
    with nullcontext() if has_app_context() else app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn, ledger_guard_lifted(conn):
            result = conn.execute(text(sql), {k: _raw(v, db.engine.dialect.name) for k, v in params.items()})
        return result.rowcount


def forge_audit_entry(app, action: str, object_type: str, object_id: str, payload: dict,
                      key_id: str | None = None) -> int:
    """Append an audit entry the way someone with only database access could: linked to the
    last entry, its payload digest and hash computed with plain SHA-256 (no chain key), stamped
    ``key_id`` (None, or a real key id to pass for a keyed entry). Returns its sequence number."""
    from types import SimpleNamespace

    from app.models.base import utcnow
    from app.services.audit import _legacy_json, canonical_json, sha256_hex

    with nullcontext() if has_app_context() else app.app_context():
        db.session.rollback()
        last = db.session.execute(text("SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1")).first()
        fake = SimpleNamespace(seq=last.seq + 1, at=utcnow(), actor_id=None, actor="system", action=action,
                               object_type=object_type, object_id=object_id,
                               payload_digest=sha256_hex(canonical_json(payload)), prev_hash=last.hash)
        fields = {k: (v.isoformat() if k == "at" else v) for k, v in vars(fake).items()}
        behind_the_back(app, "INSERT INTO audit_entries (seq, at, actor_id, actor, action, object_type, object_id, "
                             "payload, payload_digest, prev_hash, hash, key_id) VALUES (:seq, :at, NULL, :actor, "
                             ":action, :object_type, :object_id, :payload, :payload_digest, :prev_hash, :hash, :key_id)",
                        seq=fake.seq, at=fake.at, actor=fake.actor, action=action, object_type=object_type,
                        object_id=object_id, payload=canonical_json(payload), payload_digest=fake.payload_digest,
                        prev_hash=fake.prev_hash, hash=sha256_hex(_legacy_json(fields)), key_id=key_id)
        return fake.seq


def delete_statement(app, statement_id) -> int:
    """Delete a statement from the LRS with its agent and activity links."""
    pk = "(SELECT pk FROM lrs_statements WHERE id = :id)"
    for table in ("lrs_statement_agents", "lrs_statement_activities"):
        behind_the_back(app, f"DELETE FROM {table} WHERE statement_pk = {pk}", id=statement_id)
    return behind_the_back(app, "DELETE FROM lrs_statements WHERE id = :id", id=statement_id)


def set_statement_minutes(app, statement_id, minutes: int) -> int:
    """Rewrite a ledger statement's minutes extension (and its duration) in the stored JSON."""
    import json

    from lrs.storage.tables import Statement
    from app.xapi_profile import EXT

    with nullcontext() if has_app_context() else app.app_context():
        db.session.rollback()
        payload = db.session.execute(db.select(Statement.payload).where(Statement.id == statement_id)).scalar_one()
        payload["context"]["extensions"][EXT["minutes"]] = minutes
        payload.setdefault("result", {})["duration"] = f"PT{minutes // 60}H{minutes % 60}M0S"
        db.session.rollback()
        return behind_the_back(app, "UPDATE lrs_statements SET payload = :p WHERE id = :id",
                               p=json.dumps(payload, ensure_ascii=False), id=statement_id)
