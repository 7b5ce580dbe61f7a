"""Writes, each taking the caller's `Session` and never committing: statements with their
links, voiding, attachments, activity definitions, documents and credentials."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from lrs import queries
from lrs.exceptions import BadRequestError, ConflictError, ForbiddenError
from lrs.records import (activity_definitions, complete_statement, is_same_statement,
                         ref_target, statement_links, voided_target)
from lrs.models.common import parse_timestamp
from lrs.storage.dialects import (bulk_insert, bulk_insert_with_keys, insert_ignoring_duplicates,
                                  lock_statement_writes)
from lrs.storage.tables import (Activity, Attachment, Credential, Cursor, Document, Statement,
                                StatementActivity, StatementAgent)


def utcnow() -> datetime:
    """The current time, aware, in UTC, cut to milliseconds (the precision `stored` is
    rendered with, so that `since`/`until` compare exactly what clients saw)."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _merge_definition(old: dict, new: dict) -> dict:
    merged = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key in (
                "name", "description", "extensions"):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _save_definitions(session: Session, statements: list[dict], now: datetime) -> None:
    found: dict[str, dict] = {}
    for statement in statements:
        for iri, definition in activity_definitions(statement):
            found[iri] = _merge_definition(found.get(iri, {}), definition)
    if not found:
        return
    table = Activity.__table__
    stored = queries.get_definitions(session, list(found))
    missing = [iri for iri in found if iri not in stored]
    if missing:
        # Another request may be adding the same activity right now: insert-or-ignore
        # first, then merge into whatever is stored.
        insert_ignoring_duplicates(session, table, [
            {"iri": iri, "definition": found[iri], "updated": now} for iri in missing], ["iri"])
        stored.update(queries.get_definitions(session, missing))
    for iri, definition in found.items():
        merged = _merge_definition(stored[iri], definition)
        if merged != stored[iri]:  # most statements repeat a known definition
            session.execute(update(table).where(table.c.iri == iri)
                            .values(definition=merged, updated=now))


def store_attachments(session: Session, parts: dict[str, tuple[str, bytes]]) -> None:
    """Store attachment contents keyed by SHA-2 (content already checked by the caller)."""
    rows = [{"sha2": sha2, "content_type": ctype, "content": data}
            for sha2, (ctype, data) in parts.items()]
    insert_ignoring_duplicates(session, Attachment.__table__, rows, ["sha2"])


def insert_statements(session: Session, statements: list[dict], authority: dict,
                      version: str, credential_id: uuid.UUID | None = None) -> list[str]:
    """Store validated statements; return their ids in order.

    A statement whose id is already stored with the same content is skipped; with other
    content it raises `ConflictError` and nothing of the batch is kept (the caller rolls back).
    Writers are serialised from here to their commit (`lock_statement_writes`), so the
    duplicate check sees every committed statement (identical concurrent writes all
    succeed) and `stored` and the keys increase in commit order.
    """
    lock_statement_writes(session)
    now = utcnow()  # under the lock: `stored` follows commit order (a clock that never steps back)
    completed = [complete_statement(s, now, authority, version) for s in statements]
    ids = [uuid.UUID(s["id"]) for s in completed]
    existing, late = queries.get_payloads_and_voiders(session, ids)
    fresh = []
    for statement, received, ident in zip(completed, statements, ids):
        if ident in existing:
            if not is_same_statement(existing[ident], received):
                raise ConflictError(f"statement {ident} already exists with other content",
                                    field="id")
            continue
        fresh.append(statement)
    if not fresh:
        return [str(i) for i in ids]
    targets = {voided_target(s) for s in fresh} - {None}
    if targets:
        voiders = queries.get_voiding_flags(session, list(targets))
        for target, (is_voiding, owner) in voiders.items():
            if is_voiding:
                raise BadRequestError(f"statement {target} is a voiding statement and cannot "
                                      "be voided", field="object.id")
            if owner is None and credential_id is not None:
                raise ForbiddenError(f"statement {target} was stored by the host system and can be "
                                     "voided only by its own authority")
    if late and credential_id is None:  # the host's statements: voided by no client's earlier voider
        late = {target for target, voider in queries.get_late_voiders(session, list(late)).items()
                if voider is None}
    rows = []
    for statement in fresh:
        registration = (statement.get("context") or {}).get("registration")
        rows.append({
            "id": uuid.UUID(statement["id"]),
            "stored": now,
            "timestamp": _parse(statement["timestamp"]),
            "verb_iri": statement["verb"]["id"],
            "registration": uuid.UUID(registration) if registration else None,
            "is_voided": False,
            "voiding_target": voided_target(statement),
            "ref_target": ref_target(statement),
            "credential_id": credential_id,
            "payload": statement,
        })
    pks = bulk_insert_with_keys(session, Statement.__table__, rows)
    agent_rows, activity_rows = [], []
    for pk, statement in zip(pks, fresh):
        agents, activities = statement_links(statement)
        verb = statement["verb"]["id"]
        agent_rows += [{"statement_pk": pk, "ifi": i, "direct": d, "verb_iri": verb}
                       for i, d in agents.items()]
        activity_rows += [{"statement_pk": pk, "iri": i, "direct": d}
                          for i, d in activities.items()]
    bulk_insert(session, StatementAgent.__table__, agent_rows)
    bulk_insert(session, StatementActivity.__table__, activity_rows)
    late &= {row["id"] for row in rows}
    if targets or late:
        session.execute(update(Statement)
                        .where(Statement.id.in_(targets | late), Statement.voiding_target.is_(None))
                        .values(is_voided=True))
    _save_definitions(session, fresh, now)
    return [str(i) for i in ids]


def _parse(text: str) -> datetime:
    return parse_timestamp(text, "timestamp")


def save_cursor(session: Session, key: str, params: dict, now: datetime,
                lifetime: timedelta) -> None:
    """Keep a long query's parameters under `key` for at least `lifetime` from `now` (a row
    kept earlier is renewed when older than that); purge rows no link can name any more."""
    table = Cursor.__table__
    insert_ignoring_duplicates(session, table, [{"key": key, "params": params, "created": now}],
                               ["key"])
    session.execute(update(table).where(table.c.key == key, table.c.created < now - lifetime)
                    .values(created=now))
    session.execute(delete(table).where(table.c.created < now - 2 * lifetime))


def etag_of(content: bytes) -> str:
    """The ETag of a document: the SHA-1 of its bytes, quoted by the HTTP layer."""
    return hashlib.sha1(content).hexdigest()


def save_document(session: Session, key: dict, content: bytes, content_type: str,
                  existing: Document | None) -> Document:
    """Create or replace a document at `key` (kind, activity_iri, agent_ifi, registration,
    doc_id)."""
    now = utcnow()
    if existing is None:
        existing = Document(**key, content=content, content_type=content_type,
                            etag=etag_of(content), updated=now)
        session.add(existing)
    else:
        existing.content = content
        existing.content_type = content_type
        existing.etag = etag_of(content)
        existing.updated = now
    session.flush()
    return existing


def delete_documents(session: Session, documents: list[Document]) -> None:
    """Delete the given documents."""
    for document in documents:
        session.delete(document)


def create_credential(session: Session, name: str, scopes: list[str], key: str,
                      secret_hash: str) -> Credential:
    """Add a credential row; the caller hashed the secret."""
    credential = Credential(id=uuid.uuid4(), key=key, secret_hash=secret_hash, name=name,
                            scopes=scopes, created_at=utcnow())
    session.add(credential)
    return credential


def revoke_credential(session: Session, credential: Credential) -> None:
    """Mark a credential revoked; it stays as the authority of what it stored."""
    credential.revoked_at = utcnow()


__all__ = ["insert_statements", "save_cursor", "store_attachments", "save_document", "delete_documents",
           "create_credential", "revoke_credential", "etag_of", "utcnow"]
