"""HTTP input for the LRS, independent of Flask: the `XAPIRequest` every handler receives
(built from a normal request or from 1.0.3's alternate request syntax), the version header,
and multipart/mixed statement bodies with their attachments."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from lrs.exceptions import BadRequestError
from lrs.models.common import V1, V2

_V1 = re.compile(r"^1\.0(\.\d+)?$")
_V2 = re.compile(r"^2\.0(\.\d+)?$")
_ALT_HEADERS = {"authorization", "x-experience-api-version", "content-type", "content-length",
                "if-match", "if-none-match"}


@dataclass
class XAPIRequest:
    """One LRS request: method, parameters, headers (lower-case names) and body."""

    method: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    version: str = V1
    alternate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json_body(self) -> Any:
        """The body parsed as JSON; 400 when it is not."""
        return load_json(self.body, "body")


#: The longest Content-Type stored with a document or an attachment (their column's length).
MAX_CONTENT_TYPE = 255


def check_content_type(value: str) -> str:
    """The media type of a document or attachment; 400 when longer than it can be stored."""
    if len(value) > MAX_CONTENT_TYPE:
        raise BadRequestError(f"Content-Type is longer than {MAX_CONTENT_TYPE} characters",
                              field="Content-Type")
    return value


#: Deeper JSON than this is refused: no statement or document needs it, and every later
#: recursive step (validation, serialisation, the database driver) could overflow the stack.
MAX_JSON_DEPTH = 100


_CONTAINERS = (dict, list)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value holds an object or array nested deeper than ``limit``
    levels (the value itself is level 1). Walked a level at a time, keeping only the containers:
    a list comprehension per level instead of a Python step per node (a batch of 100
    statements: ~3.5x faster, and it is run on every statement POST)."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    for _ in range(limit):
        if not level:
            return False
        level = [child for item in level
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, _CONTAINERS)]
    return bool(level)


def load_json(data: bytes | str, what: str, field: str | None = None) -> Any:
    """Parse JSON from a client; 400 (never a 500) for bad UTF-8, bad syntax, or nesting deeper
    than MAX_JSON_DEPTH (including what would overflow the parser's own recursion)."""
    try:
        value = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequestError(f"{what} is not valid JSON: {exc}", field=field) from exc
    except RecursionError as exc:
        raise BadRequestError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels",
                              field=field) from exc
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise BadRequestError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels",
                              field=field)
    return value


def negotiate_version(header: str | None) -> str:
    """Map an X-Experience-API-Version header to "1.0.3" or "2.0.0"; 400 otherwise."""
    if header is None:
        raise BadRequestError("X-Experience-API-Version header is required",
                              field="X-Experience-API-Version")
    value = header.strip()
    if _V1.match(value):
        return V1
    if _V2.match(value):
        return V2
    raise BadRequestError(f"unsupported xAPI version {value!r}", field="X-Experience-API-Version")


def from_alternate_syntax(method_param: str, query: dict[str, str], body: bytes,
                          outer_headers: dict[str, str]) -> XAPIRequest:
    """Unpack 1.0.3's alternate request syntax: POST ?method=X with a form body holding the
    headers, the `content` and the resource parameters."""
    if set(query) != {"method"}:
        raise BadRequestError("alternate request syntax allows only 'method' in the query")
    method = method_param.upper()
    if method not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
        raise BadRequestError(f"alternate request syntax: bad method {method_param!r}")
    content_type = outer_headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise BadRequestError("alternate request syntax needs a form-encoded body")
    form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    headers = {k: v for k, v in outer_headers.items()
               if k not in ("content-type", "content-length")}
    params = {}
    content = form.pop("content", "")
    for key, value in form.items():
        if key.lower() in _ALT_HEADERS:
            headers[key.lower()] = value
        else:
            params[key] = value
    if content and "content-type" not in headers:
        headers["content-type"] = "application/json"
    return XAPIRequest(method=method, params=params, headers=headers,
                       body=content.encode("utf-8"), alternate=True)


def _boundary(content_type: str) -> bytes:
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    if not match:
        raise BadRequestError("multipart/mixed body has no boundary", field="Content-Type")
    return match.group(1).encode()


def _split_part(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, sep, content = raw.partition(b"\r\n\r\n")
    if not sep:
        raise BadRequestError("multipart part without a header block")
    headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        if line.strip():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers, content


_HASHES = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512, 56: hashlib.sha224}


def parse_multipart(body: bytes, content_type: str) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """Split a multipart/mixed statement body into (statement JSON, {sha2: (type, bytes)}).

    The first part must be application/json; every other part must carry
    X-Experience-API-Hash and Content-Transfer-Encoding: binary and hash to its header.
    """
    boundary = b"--" + _boundary(content_type)
    pieces = body.split(boundary)
    if len(pieces) < 3:
        raise BadRequestError("multipart/mixed body has no parts")
    parts = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        if not piece.startswith(b"\r\n") or not piece.endswith(b"\r\n"):
            raise BadRequestError("multipart/mixed part is not delimited by CRLF")
        parts.append(_split_part(piece[2:-2]))
    if not parts:
        raise BadRequestError("multipart/mixed body has no parts")
    first_headers, first = parts[0]
    if first_headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise BadRequestError("the first part must be application/json", field="Content-Type")
    document = load_json(first, "statement part")
    attachments: dict[str, tuple[str, bytes]] = {}
    for headers, content in parts[1:]:
        sha2 = headers.get("x-experience-api-hash")
        if not sha2:
            raise BadRequestError("attachment part lacks X-Experience-API-Hash",
                                  field="X-Experience-API-Hash")
        if headers.get("content-transfer-encoding", "").lower() != "binary":
            raise BadRequestError("attachment part needs Content-Transfer-Encoding: binary",
                                  field="Content-Transfer-Encoding")
        hasher = _HASHES.get(len(sha2))
        if hasher is None or hasher(content).hexdigest() != sha2.lower():
            raise BadRequestError("attachment content does not match its SHA-2",
                                  field="X-Experience-API-Hash")
        attachments[sha2.lower()] = (check_content_type(headers.get(
            "content-type", "application/octet-stream")),
                                     content)
    return document, attachments
