"""xAPI data types shared by the model tree: IRIs, language maps, UUIDs, timestamps,
durations, extensions, and the key/type helpers the other checks use."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from lrs.exceptions import BadRequestError

V1 = "1.0.3"
V2 = "2.0.0"

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_MAILTO = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
_LANG = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+"
    r"|[iI]-[A-Za-z]{2,8}|en-GB-oed|sgn-[A-Z]{2}-[A-Z]{2})$"
)
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DURATION = re.compile(
    r"^P(?!$)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?W)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$"
)


def fail(path: str, message: str) -> BadRequestError:
    """Build the 400 error for `path`, naming the field in the message."""
    return BadRequestError(f"{path}: {message}", field=path)


def require_object(value: Any, path: str) -> dict:
    """Return `value` if it is a JSON object, else raise 400."""
    if not isinstance(value, dict):
        raise fail(path, "must be a JSON object")
    return value


def check_keys(obj: dict, path: str, allowed: set[str], required: tuple[str, ...] = ()) -> None:
    """Reject unknown properties, missing required ones and nulls (xAPI objects are closed)."""
    for key, value in obj.items():
        if key not in allowed:
            raise fail(f"{path}.{key}", "is not an allowed property")
        if value is None:
            raise fail(f"{path}.{key}", "must not be null")
    for key in required:
        if key not in obj:
            raise fail(f"{path}.{key}", "is required")


def check_string(value: Any, path: str) -> str:
    """Require a JSON string."""
    if not isinstance(value, str):
        raise fail(path, "must be a string")
    return value


def check_bool(value: Any, path: str) -> bool:
    """Require a JSON boolean."""
    if not isinstance(value, bool):
        raise fail(path, "must be a boolean")
    return value


def check_number(value: Any, path: str) -> float:
    """Require a JSON number (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(path, "must be a number")
    return value


def is_iri(value: Any) -> bool:
    """True when `value` is an absolute IRI (a scheme and no whitespace)."""
    return isinstance(value, str) and bool(_IRI.match(value))


def check_iri(value: Any, path: str) -> str:
    """Require an absolute IRI."""
    if not is_iri(value):
        raise fail(path, "must be an absolute IRI")
    return value


def is_uuid(value: Any) -> bool:
    """True when `value` is a UUID in its canonical hyphenated text form."""
    return isinstance(value, str) and bool(_UUID.match(value))


def check_uuid(value: Any, path: str) -> str:
    """Require a UUID string."""
    if not is_uuid(value):
        raise fail(path, "must be a UUID")
    return value


def parse_uuid(value: str, path: str) -> uuid.UUID:
    """Parse a UUID string, raising 400 naming `path` when malformed."""
    return uuid.UUID(check_uuid(value, path))


def check_sha1(value: Any, path: str) -> str:
    """Require a 40-digit hex SHA-1."""
    if not isinstance(value, str) or not _SHA1.match(value):
        raise fail(path, "must be a hex-encoded SHA-1")
    return value


def check_mailto(value: Any, path: str) -> str:
    """Require a `mailto:` IRI with an address."""
    if not isinstance(value, str) or not _MAILTO.match(value):
        raise fail(path, "must be a mailto: IRI")
    return value


def is_language_tag(value: Any) -> bool:
    """True when `value` is an RFC 5646 language tag."""
    return isinstance(value, str) and bool(_LANG.match(value))


def check_language_map(value: Any, path: str) -> dict:
    """Require a language map: RFC 5646 tags to strings."""
    require_object(value, path)
    for tag, text in value.items():
        if not is_language_tag(tag):
            raise fail(f"{path}.{tag}", "is not an RFC 5646 language tag")
        if not isinstance(text, str):
            raise fail(f"{path}.{tag}", "must be a string")
    return value


def check_extensions(value: Any, path: str) -> dict:
    """Require an extensions object whose keys are IRIs (values are free JSON)."""
    require_object(value, path)
    for key in value:
        if not is_iri(key):
            raise fail(f"{path}.{key}", "extension keys must be IRIs")
    return value


def parse_timestamp(value: Any, path: str, version: str = V1) -> datetime:
    """Parse an ISO 8601 / RFC 3339 timestamp into an aware UTC datetime.

    A missing offset is read as UTC in 1.0.3; 2.0.0 requires one (RFC 3339). The
    "-00:00" offsets, which mean "unknown", are refused as the specification asks, and so are
    offsets beyond 23:59 (RFC 3339's time-numoffset); `t` and `z` may be lower case.
    """
    if not isinstance(value, str):
        raise fail(path, "must be an ISO 8601 timestamp string")
    match = _TIMESTAMP.match(value)
    if not match:
        raise fail(path, "must be an ISO 8601 timestamp")
    year, month, day, hour, minute, second, frac, offset = match.groups()
    if offset is None and version == V2:
        raise fail(path, "must carry a time zone offset (RFC 3339)")
    if offset and offset[0] == "-" and set(offset[1:]) <= {"0", ":"}:
        raise fail(path, "must not use the -00:00 offset")
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second), micro, tzinfo=timezone.utc)
    except ValueError as exc:
        raise fail(path, f"is not a valid date or time ({exc})") from exc
    if offset and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise fail(path, "has an offset out of range (at most 23:59)")
        delta = timedelta(hours=hours, minutes=minutes)
        moment = moment - delta if offset[0] == "+" else moment + delta
    return moment


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime as UTC ISO 8601 with millisecond precision."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_duration(value: Any, path: str) -> str:
    """Require an ISO 8601 duration such as PT1H30M or P1W."""
    if not isinstance(value, str) or not _DURATION.match(value):
        raise fail(path, "must be an ISO 8601 duration")
    if "W" in value and value != value.split("W")[0] + "W":
        raise fail(path, "a week duration must not combine with other units")
    return value
