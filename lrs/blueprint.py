"""The `/xapi` blueprint: HTTP only. Each view builds an `XAPIRequest` (plain or alternate
syntax), negotiates the version, authenticates, checks the scope, calls one service function
and renders the answer with the headers xAPI requires."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.utils import format_datetime

from flask import Blueprint, Response, current_app, request, url_for

from lrs import DEFAULT_AUTHORITY_HOMEPAGE, service
from lrs.auth import Principal, parse_basic
from lrs.exceptions import (BadRequestError, LRSError, PayloadTooLargeError,
                            UnauthorizedError)
from lrs.inputs import XAPIRequest, from_alternate_syntax, negotiate_version, parse_multipart
from lrs.models.common import V1, V2, format_timestamp
from lrs.outputs import multipart_body
from lrs.schemas import (parse_agent_param, parse_document_params,
                         parse_statement_params, reject_unknown)

bp = Blueprint("lrs", __name__)

_CORS_HEADERS = ("Authorization, Content-Type, X-Experience-API-Version, If-Match, "
                 "If-None-Match, Accept-Language")
_EXPOSED = ("ETag, Last-Modified, X-Experience-API-Version, "
            "X-Experience-API-Consistent-Through, Content-Type")
_READ_ANY = ("all/read", "statements/read", "state", "profile", "define")


def _store():
    return current_app.extensions["lrs_store"]


def _xapi_request() -> XAPIRequest:
    limit = current_app.config.get("LRS_MAX_BODY_BYTES", 32 * 1024 * 1024)
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"body exceeds {limit} bytes")
    request.max_content_length = limit  # the app's own limit may be lower than the LRS's
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise PayloadTooLargeError(f"body exceeds {limit} bytes")
    query = request.args.to_dict()
    headers = {k.lower(): v for k, v in request.headers.items()}
    if "method" in query:
        if request.method != "POST":
            raise BadRequestError("alternate request syntax needs POST", field="method")
        outer = headers.get("x-experience-api-version")
        if outer is not None and negotiate_version(outer) == V2:
            raise BadRequestError("xAPI 2.0.0 has no alternate request syntax", field="method")
        xreq = from_alternate_syntax(query["method"], query, body, headers)
    else:
        xreq = XAPIRequest(request.method, query, headers, body)
    xreq.version = negotiate_version(xreq.headers.get("x-experience-api-version"))
    if xreq.alternate and xreq.version == V2:
        raise BadRequestError("xAPI 2.0.0 has no alternate request syntax", field="method")
    return xreq


def _principal(xreq: XAPIRequest) -> Principal:
    key, secret = parse_basic(xreq.headers.get("authorization"))
    principal = service.authenticate(_store(), key, secret)
    _store().principals.remember_version(key, secret, xreq.version)
    return principal


def _fallback_version() -> str:
    """The version to answer a request without a usable version header in: the one its
    client last declared (in this process), else LRS_FALLBACK_VERSION."""
    try:
        key, secret = parse_basic(request.headers.get("Authorization"))
    except UnauthorizedError:
        key = None
    remembered = key is not None and _store().principals.version_of(key, secret)
    return remembered or current_app.config.get("LRS_FALLBACK_VERSION", V2)


def _authority(principal: Principal) -> dict:
    """The authority of what `principal` stores: its account at the configured homePage (never
    the request's Host, which the client chooses)."""
    home = current_app.config.get("LRS_AUTHORITY_HOMEPAGE") or DEFAULT_AUTHORITY_HOMEPAGE
    return principal.authority(home.rstrip("/"))


def _languages(header: str | None) -> list[str]:
    ranked = []
    for index, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _json(value, status: int = 200, **headers) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json",
                    headers=headers)


@bp.errorhandler(LRSError)
def _lrs_error(error: LRSError) -> Response:
    body = {"type": f"about:blank#{error.code}", "title": error.code.replace("_", " "),
            "status": error.status, "detail": error.message, "instance": request.path,
            "error": error.code, "message": error.message}
    if error.field:
        body["errors"] = [{"field": error.field, "detail": error.message}]
    response = _json(body, error.status)
    response.mimetype = "application/problem+json"
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="xapi"'
    return response


@bp.after_request
def _xapi_headers(response: Response) -> Response:
    version = request.headers.get("X-Experience-API-Version", "").strip()
    if version.startswith("2."):
        response.headers["X-Experience-API-Version"] = V2
    elif version.startswith("1.0"):
        response.headers["X-Experience-API-Version"] = V1
    else:
        response.headers["X-Experience-API-Version"] = _fallback_version()
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = _CORS_HEADERS
    response.headers["Access-Control-Expose-Headers"] = _EXPOSED
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Cache-Control"] = "no-cache"
    if (request.endpoint == "lrs.statements" and request.method in ("GET", "HEAD")
            and "X-Experience-API-Consistent-Through" not in response.headers):
        # A GET answered with an error still carries it (xAPI 2.1.3); writes need none.
        try:
            through = service.consistent_through(_store())
        except LRSError:
            return response  # the database is not answering: promise nothing
        response.headers["X-Experience-API-Consistent-Through"] = format_timestamp(through)
    return response


_ALL = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]


@bp.route("/about", methods=["GET", "HEAD", "OPTIONS"])
def about() -> Response:
    """GET /xapi/about: supported versions; no credentials needed."""
    if request.method == "OPTIONS":
        return Response(status=200)
    return _json({"version": ["1.0.3", "2.0.0"], "extensions": {}})


@bp.route("/statements", methods=_ALL)
def statements() -> Response:
    """GET/HEAD (one statement or a page), PUT ?statementId= (204), POST (200, ids)."""
    if request.method == "OPTIONS":
        return Response(status=200)
    xreq = _xapi_request()
    principal = _principal(xreq)
    if xreq.method in ("GET", "HEAD"):
        return _get_statements(xreq, principal)
    if xreq.method not in ("PUT", "POST"):
        return _json({"error": "method_not_allowed", "message": xreq.method}, 405)
    principal.require("statements/write")
    if xreq.method == "PUT":
        reject_unknown(xreq.params, {"statementId"})
        if "statementId" not in xreq.params:
            raise BadRequestError("PUT needs the statementId parameter", field="statementId")
    else:
        reject_unknown(xreq.params, set())
    document, parts = _statement_body(xreq)
    ids = service.store_statements(_store(), document, parts, principal,
                                   _authority(principal), xreq.version,
                                   xreq.params.get("statementId"))
    if xreq.method == "PUT":
        return Response(status=204)
    return _json(ids)


def _statement_body(xreq: XAPIRequest):
    if xreq.content_type == "multipart/mixed":
        return parse_multipart(xreq.body, xreq.headers.get("content-type", ""))
    if xreq.content_type != "application/json":
        raise BadRequestError("statements must be sent as application/json or "
                              "multipart/mixed", field="Content-Type")
    return xreq.json_body(), {}


def _get_statements(xreq: XAPIRequest, principal: Principal) -> Response:
    principal.require("statements/read", "statements/read/mine", "all/read")
    store = _store()
    if "more" in xreq.params:
        reject_unknown(xreq.params, {"more"})
        parsed = service.continue_query(store, xreq.params["more"])
    else:
        parsed = parse_statement_params(xreq.params, store.max_limit)
    more_url = url_for("lrs.statements") + "?more="
    result = service.read_statements(store, parsed, principal, more_url,
                                     _languages(xreq.headers.get("accept-language")))
    headers = {"X-Experience-API-Consistent-Through": format_timestamp(
        result.consistent_through)}
    if result.last_modified is not None:
        headers["Last-Modified"] = format_datetime(result.last_modified, usegmt=True)
    if parsed.attachments:
        body, content_type = multipart_body(result.body, result.attachments)
        return Response(body, status=200, content_type=content_type, headers=headers)
    return Response(result.body, status=200, mimetype="application/json", headers=headers)


def _documents(kind: str, write_scope: str) -> Response:
    if request.method == "OPTIONS":
        return Response(status=200)
    xreq = _xapi_request()
    principal = _principal(xreq)
    method = "GET" if xreq.method == "HEAD" else xreq.method
    if method == "GET":
        principal.require(write_scope, "all/read")
    else:
        principal.require(write_scope)
    parsed = parse_document_params(kind, xreq.params, method)
    store = _store()
    if method == "GET":
        found = service.read_document(store, parsed)
        if isinstance(found, list):
            return _json(found)
        return Response(found.content, status=200, content_type=found.content_type,
                        headers={"ETag": f'"{found.etag}"',
                                 "Last-Modified": format_datetime(found.updated, usegmt=True)})
    if method == "DELETE":
        service.delete_document(store, parsed, xreq.headers)
        return Response(status=204)
    if method not in ("PUT", "POST"):
        return _json({"error": "method_not_allowed", "message": method}, 405)
    etag = service.write_document(store, parsed, xreq.body,
                                  xreq.headers.get("content-type", "application/octet-stream"),
                                  xreq.headers, merge=method == "POST",
                                  strict=kind != "state",
                                  conflict_only=kind == "state" and xreq.version == V2)
    return Response(status=204, headers={"ETag": f'"{etag}"'})


@bp.route("/activities/state", methods=_ALL)
def state() -> Response:
    """State documents keyed by activityId, agent, optional registration and stateId."""
    return _documents("state", "state")


@bp.route("/activities/profile", methods=_ALL)
def activity_profile() -> Response:
    """Activity profile documents keyed by activityId and profileId."""
    return _documents("activity_profile", "profile")


@bp.route("/agents/profile", methods=_ALL)
def agent_profile() -> Response:
    """Agent profile documents keyed by agent and profileId."""
    return _documents("agent_profile", "profile")


def _read_one(param: str, lookup: Callable[[str | None], dict]) -> Response:
    """GET ?<param>=: the one object ``lookup`` finds for the parameter's value (read scope)."""
    if request.method == "OPTIONS":
        return Response(status=200)
    xreq = _xapi_request()
    _principal(xreq).require(*_READ_ANY)
    if xreq.method not in ("GET", "HEAD"):
        return _json({"error": "method_not_allowed", "message": xreq.method}, 405)
    reject_unknown(xreq.params, {param})
    return _json(lookup(xreq.params.get(param)))


@bp.route("/activities", methods=["GET", "HEAD", "POST", "OPTIONS"])
def activities() -> Response:
    """GET ?activityId=: the canonical Activity object."""
    def read(activity_id: str | None) -> dict:
        if activity_id is None:
            raise BadRequestError("activityId is required", field="activityId")
        return service.read_activity(_store(), activity_id)
    return _read_one("activityId", read)


@bp.route("/agents", methods=["GET", "HEAD", "POST", "OPTIONS"])
def agents() -> Response:
    """GET ?agent=: the Person object for that Agent."""
    return _read_one("agent", lambda value: service.person_of(parse_agent_param(value)[0]))
