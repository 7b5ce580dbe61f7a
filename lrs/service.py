"""The LRS facade: one function per operation, each owning its unit of work (commit on
success, roll back on error). The blueprint and the CLI call these; the app calls
`record_statement` inside its own transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from lrs import commands, queries
from lrs.auth import Principal, check_scopes, new_key_pair
from lrs.exceptions import (BadRequestError, ConflictError, NotFoundError,
                            PreconditionFailedError, UnauthorizedError)
from lrs.inputs import check_content_type, load_json
from lrs.models import check_statement, check_statement_batch
from lrs.models.common import V1
from lrs.models.statements import SIGNATURE_USAGE
from lrs.outputs import attachment_hashes, format_statement
from lrs.schemas import (MORE_LIFETIME, DocumentRequest, StatementRequest, decode_more,
                         encode_more, params_ref, parse_statement_params)
from lrs.signatures import check_signature
from lrs.storage.base import LRSStore
from lrs.storage.dialects import wait_for_statement_writes
from lrs.storage.tables import Document

# --- credentials -------------------------------------------------------------------------

def authenticate(store: LRSStore, key: str, secret: str) -> Principal:
    """The principal for a key/secret pair; 401 for unknown, revoked or wrong.

    A pair verified in the last few seconds is taken from `store.principals` unchecked.
    """
    principal = store.principals.get(key, secret)
    if principal is not None:
        return principal
    with store.transaction() as session:
        credential = queries.get_credential_by_key(session, key)
        if (credential is None or credential.revoked_at is not None
                or not store.secrets.verify(credential.secret_hash, secret)):
            raise UnauthorizedError("invalid credentials")
        principal = Principal(credential.id, credential.key, credential.name,
                              frozenset(credential.scopes))
    store.principals.put(key, secret, principal)
    return principal


def create_credential(store: LRSStore, name: str, scopes: list[str]) -> dict:
    """Create a key/secret pair; the secret is returned once and stored only hashed."""
    check_scopes(scopes)
    key, secret = new_key_pair()
    with store.transaction(write=True) as session:
        commands.create_credential(session, name, scopes, key, store.secrets.hash(secret))
    return {"key": key, "secret": secret}


def list_credentials(store: LRSStore) -> list[dict]:
    """Every credential without its secret."""
    with store.transaction() as session:
        return [{"key": c.key, "name": c.name, "scopes": c.scopes,
                 "created_at": c.created_at.isoformat(),
                 "revoked": c.revoked_at is not None} for c in queries.list_credentials(session)]


def revoke_credential(store: LRSStore, key: str) -> None:
    """Revoke a credential by key; 404 when there is none."""
    with store.transaction(write=True) as session:
        credential = queries.get_credential_by_key(session, key)
        if credential is None:
            raise NotFoundError(f"no credential with key {key}")
        commands.revoke_credential(session, credential)
    store.principals.forget(key)


# --- statements --------------------------------------------------------------------------

def _check_attachment_parts(statements: list[dict], parts: dict[str, tuple[str, bytes]]
                            ) -> None:
    declared, required = set(), set()
    for statement in statements:
        for attachment in statement.get("attachments") or []:
            sha2 = attachment["sha2"].lower()
            declared.add(sha2)
            if "fileUrl" not in attachment:
                required.add(sha2)
            if attachment["usageType"] == SIGNATURE_USAGE:
                if attachment["contentType"] != "application/octet-stream":
                    raise BadRequestError("a signature attachment must be "
                                          "application/octet-stream", field="attachments")
                if sha2 not in parts:
                    raise BadRequestError("signature attachment content is missing",
                                          field="attachments")
                check_signature(statement, parts[sha2][1])
    missing = required - set(parts)
    if missing:
        raise BadRequestError(f"attachment content missing for sha2 {sorted(missing)[0]}",
                              field="attachments")
    extra = set(parts) - declared
    if extra:
        raise BadRequestError(f"attachment part {sorted(extra)[0]} matches no attachment",
                              field="attachments")


def store_statements(store: LRSStore, body, parts: dict[str, tuple[str, bytes]],
                     principal: Principal, authority: dict, version: str,
                     statement_id: str | None = None) -> list[str]:
    """POST (or, with `statement_id`, PUT) statements; all or nothing.

    Raises 400 for an invalid statement or attachment, 409 for an id stored with other
    content.
    """
    if statement_id is not None:
        if not isinstance(body, dict):
            raise BadRequestError("PUT takes a single statement")
        try:
            wanted = uuid.UUID(statement_id)
        except ValueError as exc:
            raise BadRequestError("statementId must be a UUID", field="statementId") from exc
        if "id" in body and str(body["id"]).lower() != str(wanted):
            raise BadRequestError("statement id differs from statementId", field="id")
        check_statement(body, version)
        statements = [{**body, "id": str(wanted)}]
    else:
        statements = check_statement_batch(body, version)
    _check_attachment_parts(statements, parts)
    if not statements:
        return []
    with store.transaction(write=True) as session:
        commands.store_attachments(session, parts)
        return commands.insert_statements(session, statements, authority, version,
                                          principal.credential_id)


def record_statement(session: Session, statement: dict, authority: dict,
                     version: str = V1) -> uuid.UUID:
    """Validate and store one statement in the caller's transaction (no commit).

    Raises `BadRequestError` or `ConflictError` like the HTTP resource would.
    """
    check_statement(statement, version)
    if any("fileUrl" not in a for a in statement.get("attachments") or []):
        raise BadRequestError("record_statement cannot take attachment content",
                              field="attachments")
    return uuid.UUID(commands.insert_statements(session, [statement], authority, version)[0])


@dataclass(frozen=True)
class StatementsResult:
    """The answer to GET /statements: a statement or a page as JSON text, plus attachment
    contents."""

    body: str
    attachments: list[tuple[str, str, bytes]]
    last_modified: datetime | None
    consistent_through: datetime


def _page_body(request: StatementRequest, rows: list[tuple[int, str]], more_url: str,
               languages: list[str], key: bytes) -> tuple[str, list[dict]]:
    """The JSON of a page and its statements (parsed only when needed). The `exact` format
    without attachments splices the stored JSON text as it is."""
    limit = request.query.limit
    page = rows[:limit]
    if request.fmt == "exact" and not request.attachments:
        statements, rendered = [], [text for _, text in page]
    else:
        statements = [json.loads(text) for _, text in page]
        rendered = [json.dumps(format_statement(s, request.fmt, languages))
                    for s in statements]
    more = (more_url + encode_more(request.ref, page[-1][0], key, commands.utcnow())
            if len(rows) > limit else "")
    return ('{"statements": [' + ", ".join(rendered) + '], "more": ' + json.dumps(more)
            + "}"), statements


def continue_query(store: LRSStore, token: str) -> StatementRequest:
    """The request a `more` token continues; 400 for a forged, broken or expired token."""
    now = commands.utcnow()
    ref, after = decode_more(token, store.cursor_key, now)
    params = ref
    if isinstance(ref, str):
        with store.transaction() as session:
            cursor = queries.get_cursor(session, ref)
            params, created = (None, None) if cursor is None else (cursor.params, cursor.created)
        if params is None:
            raise BadRequestError("more link has expired; run the query again", field="more")
        if created < now - MORE_LIFETIME:  # keep it for the link about to be issued
            with store.transaction(write=True) as session:
                commands.save_cursor(session, ref, params, now, MORE_LIFETIME)
    request = parse_statement_params(params, store.max_limit)
    return replace(request, query=replace(request.query, after_pk=after), ref=ref)


def _with_ref(store: LRSStore, request: StatementRequest) -> StatementRequest:
    """`request` with what its `more` tokens will carry: the parameters, or the key of their
    stored copy when long (stored now, in its own unit of work)."""
    if request.ref is not None or request.single is not None:
        return request
    ref = params_ref(request.params)
    if isinstance(ref, str):
        with store.transaction(write=True) as session:
            commands.save_cursor(session, ref, request.params, commands.utcnow(), MORE_LIFETIME)
    return replace(request, ref=ref)


def consistent_through(store: LRSStore) -> datetime:
    """X-Experience-API-Consistent-Through: a time before the `stored` of every statement not
    yet committed. Waits for the statement write in flight (writers are serialised, see
    `commands.insert_statements`) and takes the time while no writer can start: every later
    writer stores at or after it, so a millisecond before it is safe."""
    with store.transaction(write=True) as session:
        wait_for_statement_writes(session)
        now = commands.utcnow()
    return now - timedelta(milliseconds=1)


def read_statements(store: LRSStore, request: StatementRequest, principal: Principal,
                    more_url: str, languages: list[str]) -> StatementsResult:
    """Answer GET /statements; 404 for an unknown (or wrongly voided) single statement.

    Consistent-Through is taken before the statements are read (`consistent_through`), so
    everything stored up to it is on the page's side of the read, and a reader polling with
    `since=` it misses nothing.
    """
    own = principal.credential_id if principal.reads_only_own else None
    request = _with_ref(store, request)
    through = consistent_through(store)
    with store.transaction() as session:
        last_modified = None
        if request.single is not None:
            row = queries.get_statement(session, request.single)
            if (row is None or row.is_voided != request.voided
                    or (own is not None and row.credential_id != own)):
                raise NotFoundError(f"no statement {request.single}")
            statements = [row.payload]
            body = json.dumps(format_statement(row.payload, request.fmt, languages))
            last_modified = row.stored
        else:
            query = replace(request.query, credential_id=own)
            body, statements = _page_body(replace(request, query=query),
                                          queries.find_statements(session, query),
                                          more_url, languages, store.cursor_key)
        parts = []
        if request.attachments:
            stored = queries.get_attachments(session, set(attachment_hashes(statements)))
            parts = [(sha2, *stored[sha2]) for sha2 in attachment_hashes(statements)
                     if sha2 in stored]
    return StatementsResult(body, parts, last_modified, through)


# --- documents ---------------------------------------------------------------------------

def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return "*" in tags or etag in tags


def _check_preconditions(existing: Document | None, headers: dict, strict: bool,
                         conflict_only: bool = False) -> None:
    if_match, if_none_match = headers.get("if-match"), headers.get("if-none-match")
    if if_match is not None and (existing is None or not _etag_matches(if_match,
                                                                        existing.etag)):
        raise PreconditionFailedError("If-Match does not match the current document")
    if if_none_match is not None and existing is not None and _etag_matches(
            if_none_match, existing.etag):
        raise PreconditionFailedError("If-None-Match: the document exists")
    if conflict_only and existing is not None and if_match is None and if_none_match is None:
        raise ConflictError("document exists: send If-Match or If-None-Match")
    if strict and if_match is None and if_none_match is None:
        if existing is not None:
            raise ConflictError("document exists: send If-Match or If-None-Match")
        raise BadRequestError("PUT of a profile document needs If-Match or If-None-Match",
                              field="If-Match")


def read_document(store: LRSStore, request: DocumentRequest):
    """One document (a `Document`) or, without a doc id, the list of ids."""
    with store.transaction() as session:
        if request.doc_id is None:
            return [d.doc_id for d in queries.list_documents(session, request.key,
                                                             request.since)]
        document = queries.get_document(session, {**request.key, "doc_id": request.doc_id})
        if document is None:
            raise NotFoundError(f"no document {request.doc_id}")
        session.expunge(document)
        return document


def _json_object(content: bytes, what: str) -> dict:
    value = load_json(content, what)
    if not isinstance(value, dict):
        raise BadRequestError(f"{what} is not a JSON object")
    return value


def write_document(store: LRSStore, request: DocumentRequest, content: bytes,
                   content_type: str, headers: dict, merge: bool, strict: bool,
                   conflict_only: bool = False) -> str:
    """PUT (replace) or POST (`merge`: JSON objects merged at top level) a document.

    `strict` (profiles) requires If-Match or If-None-Match on PUT: 409 when the document
    exists, 400 when it does not; `conflict_only` (state in 2.0.0) only the 409 half.
    Returns the new ETag.
    """
    content_type = check_content_type(content_type)
    is_json = content_type.split(";")[0].strip().lower() == "application/json"
    if is_json and merge:
        incoming = _json_object(content, "document")
    elif is_json:
        load_json(content, "document")
    with store.transaction(write=True) as session:
        key = {**request.key, "doc_id": request.doc_id}
        existing = queries.get_document(session, key)
        _check_preconditions(existing, headers, strict and not merge,
                             conflict_only and not merge)
        if merge and existing is not None:
            if not is_json or existing.content_type.split(";")[0].strip() != "application/json":
                raise BadRequestError("POST merges only JSON documents")
            merged = {**_json_object(existing.content, "stored document"), **incoming}
            content = json.dumps(merged).encode("utf-8")
        document = commands.save_document(session, key, content, content_type or
                                          "application/octet-stream", existing)
        return document.etag


def delete_document(store: LRSStore, request: DocumentRequest, headers: dict) -> None:
    """Delete one document, or (state without stateId) all matching documents."""
    with store.transaction(write=True) as session:
        if request.doc_id is None:
            commands.delete_documents(session, queries.list_documents(session, request.key))
            return
        existing = queries.get_document(session, {**request.key, "doc_id": request.doc_id})
        _check_preconditions(existing, headers, strict=False)
        if existing is not None:
            commands.delete_documents(session, [existing])


# --- activities and agents ---------------------------------------------------------------

def read_activity(store: LRSStore, iri: str) -> dict:
    """The canonical Activity object (just the id when no definition is known)."""
    with store.transaction() as session:
        activity = queries.get_activity(session, iri)
        if activity is not None:
            return {"objectType": "Activity", "id": iri, "definition": activity.definition}
    # Unknown activities still get an Activity object (xAPI 2.0, 4.1.6.4).
    return {"objectType": "Activity", "id": iri}


def person_of(agent: dict) -> dict:
    """The Person object of an Agent: each property as an array."""
    person: dict = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for key in ("mbox", "mbox_sha1sum", "openid", "account"):
        if key in agent:
            person[key] = [agent[key]]
    return person
