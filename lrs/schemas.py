"""Lax parsing at the edge: resource parameters (statement filters, document keys) turned
into typed values, with 400 for anything unknown or malformed, and the `more` token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from lrs.exceptions import BadRequestError
from lrs.inputs import load_json
from lrs.models.agents import agent_ifi, check_actor
from lrs.models.common import check_iri, parse_timestamp, parse_uuid
from lrs.storage.base import StatementQuery

STATEMENT_PARAMS = {"statementId", "voidedStatementId", "agent", "verb", "activity",
                    "registration", "related_activities", "related_agents", "since", "until",
                    "limit", "format", "attachments", "ascending"}
_SINGLE_ALLOWED = {"statementId", "voidedStatementId", "format", "attachments"}
FORMATS = ("exact", "ids", "canonical")


@dataclass(frozen=True)
class StatementRequest:
    """A parsed GET /statements: either one id (`single`) or a filtered `query`."""

    single: uuid.UUID | None
    voided: bool
    query: StatementQuery
    fmt: str
    attachments: bool
    params: dict
    ref: dict | str | None = None  # what `more` tokens carry, when continuing a stored query


def reject_unknown(params: dict, allowed: set[str]) -> None:
    """400 for any parameter the resource does not define."""
    unknown = set(params) - allowed
    if unknown:
        raise BadRequestError(f"unknown parameter(s): {', '.join(sorted(unknown))}",
                              field=sorted(unknown)[0])


def parse_bool(value: str | None, name: str) -> bool:
    """Parse "true"/"false"; absent means false."""
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequestError(f"{name} must be true or false", field=name)


def parse_agent_param(value: str | None, name: str = "agent") -> tuple[dict, str]:
    """Parse an agent parameter (JSON Agent or identified Group) into (object, IFI)."""
    if value is None:
        raise BadRequestError(f"{name} is required", field=name)
    agent = load_json(value, name, field=name)
    check_actor(agent, name)
    ifi = agent_ifi(agent)
    if ifi is None:
        raise BadRequestError(f"{name} must be identified by an IFI", field=name)
    return agent, ifi


def parse_statement_params(params: dict, max_limit: int) -> StatementRequest:
    """Parse GET /statements parameters (after any `more` token has been expanded)."""
    reject_unknown(params, STATEMENT_PARAMS)
    fmt = params.get("format", "exact")
    if fmt not in FORMATS:
        raise BadRequestError("format must be ids, exact or canonical", field="format")
    attachments = parse_bool(params.get("attachments"), "attachments")
    for key in ("statementId", "voidedStatementId"):
        if key in params:
            if set(params) - _SINGLE_ALLOWED or len(set(params) & {"statementId",
                                                                    "voidedStatementId"}) > 1:
                raise BadRequestError(f"{key} allows only format and attachments besides it",
                                      field=key)
            ident = parse_uuid(params[key], key)
            return StatementRequest(ident, key == "voidedStatementId", StatementQuery(), fmt,
                                    attachments, params)
    query: dict[str, Any] = {}
    if "agent" in params:
        query["agent"] = parse_agent_param(params["agent"])[1]
    if "verb" in params:
        query["verb"] = check_iri(params["verb"], "verb")
    if "activity" in params:
        query["activity"] = check_iri(params["activity"], "activity")
    if "registration" in params:
        query["registration"] = parse_uuid(params["registration"], "registration")
    for key in ("related_activities", "related_agents", "ascending"):
        query[key] = parse_bool(params.get(key), key)
    for key in ("since", "until"):
        if key in params:
            query[key] = parse_timestamp(params[key], key)
    limit = params.get("limit", "0")
    if not limit.isdigit():
        raise BadRequestError("limit must be a non-negative integer", field="limit")
    query["limit"] = min(int(limit), max_limit) or max_limit
    return StatementRequest(None, False, StatementQuery(**query), fmt, attachments, params)


#: How long a `more` link stays valid (the spec asks for at least 24 hours).
MORE_LIFETIME = timedelta(hours=24)
#: Parameters longer than this (as JSON) are kept server-side (`lrs_cursors`), not in the token.
INLINE_PARAMS = 512


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:12]


def params_ref(params: dict) -> dict | str:
    """What a token carries for `params`: the parameters themselves when short, else the key
    of their stored copy (a digest of them)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    if len(text) <= INLINE_PARAMS:
        return params
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def encode_more(ref: dict | str, after_pk: int, key: bytes, now: datetime) -> str:
    """The opaque token of a `more` link: the parameters (or their stored key), the cursor
    and the issue time, signed with `key`."""
    body = json.dumps([ref, after_pk, int(now.timestamp())], separators=(",", ":")).encode()
    return _b64(body) + "." + _b64(_mac(key, body))


def decode_more(token: str, key: bytes, now: datetime) -> tuple[dict | str, int]:
    """(parameters or their stored key, cursor) of a `more` token; 400 for a forged, broken
    or expired one."""
    try:
        body_part, mac_part = token.split(".")
        body = _unb64(body_part)
        if not hmac.compare_digest(_unb64(mac_part), _mac(key, body)):
            raise ValueError("bad signature")
        ref, after, issued = json.loads(body)
        after, issued = int(after), int(issued)
        if not isinstance(ref, (dict, str)):
            raise ValueError("bad reference")
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadRequestError("more token is not valid", field="more") from exc
    if not now - MORE_LIFETIME <= datetime.fromtimestamp(issued, timezone.utc) <= now + MORE_LIFETIME:
        raise BadRequestError("more link has expired; run the query again", field="more")
    return ref, after


@dataclass(frozen=True)
class DocumentRequest:
    """A parsed document request: the key without doc_id, the doc_id (None when listing or
    deleting many) and `since` for listings."""

    key: dict
    doc_id: str | None
    since: datetime | None


_DOC_PARAMS = {
    "state": ({"activityId", "agent", "registration", "stateId", "since"}, "stateId"),
    "activity_profile": ({"activityId", "profileId", "since"}, "profileId"),
    "agent_profile": ({"agent", "profileId", "since"}, "profileId"),
}


MAX_DOCUMENT_ID = 1000


def _check_document_id(doc_id: str, name: str) -> None:
    """Refuse ids no database can key on: control characters (NUL) or over MAX_DOCUMENT_ID long."""
    if len(doc_id) > MAX_DOCUMENT_ID:
        raise BadRequestError(f"{name} is longer than {MAX_DOCUMENT_ID} characters", field=name)
    if any(ord(c) < 32 or ord(c) == 127 for c in doc_id):
        raise BadRequestError(f"{name} contains control characters", field=name)


def parse_document_params(kind: str, params: dict, method: str) -> DocumentRequest:
    """Parse the parameters of a state, activity profile or agent profile request."""
    allowed, id_name = _DOC_PARAMS[kind]
    reject_unknown(params, allowed)
    key = {"kind": kind, "activity_iri": "", "agent_ifi": "", "registration": ""}
    if "activityId" in allowed:
        if "activityId" not in params:
            raise BadRequestError("activityId is required", field="activityId")
        key["activity_iri"] = check_iri(params["activityId"], "activityId")
    if "agent" in allowed:
        key["agent_ifi"] = parse_agent_param(params.get("agent"))[1]
    if "registration" in params:
        key["registration"] = str(parse_uuid(params["registration"], "registration"))
    doc_id = params.get(id_name)
    if doc_id is not None:
        _check_document_id(doc_id, id_name)
    if doc_id is None and (method in ("PUT", "POST") or (method == "DELETE" and kind != "state")):
        raise BadRequestError(f"{id_name} is required", field=id_name)
    since = None
    if "since" in params:
        if doc_id is not None or method != "GET":
            raise BadRequestError("since is only for listing documents", field="since")
        since = parse_timestamp(params["since"], "since")
    return DocumentRequest(key, doc_id, since)
