"""Statement output formats (`exact`, `ids`, `canonical`) and the multipart/mixed body used
when attachments are returned."""

from __future__ import annotations

import uuid
from typing import Iterable

from lrs.models.agents import ifi_only
from lrs.models.objects import activity_ids_only


def _actor_ids(actor: dict) -> dict:
    return ifi_only(actor)


def _context_ids(context: dict) -> dict:
    out = dict(context)
    for key in ("instructor", "team"):
        if key in out:
            out[key] = _actor_ids(out[key])
    if "contextActivities" in out:
        out["contextActivities"] = {
            key: [activity_ids_only(a) for a in (v if isinstance(v, list) else [v])]
            for key, v in out["contextActivities"].items()}
    if "contextAgents" in out:
        out["contextAgents"] = [{**e, "agent": _actor_ids(e["agent"])}
                                for e in out["contextAgents"]]
    if "contextGroups" in out:
        out["contextGroups"] = [{**e, "group": _actor_ids(e["group"])}
                                for e in out["contextGroups"]]
    return out


def _object_ids(obj: dict) -> dict:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return activity_ids_only(obj)
    if kind in ("Agent", "Group"):
        return _actor_ids(obj)
    if kind == "SubStatement":
        return _ids(obj)
    return obj


def _ids(statement: dict) -> dict:
    out = dict(statement)
    out["actor"] = _actor_ids(out["actor"])
    out["verb"] = {"id": out["verb"]["id"]}
    out["object"] = _object_ids(out["object"])
    if "authority" in out:
        out["authority"] = _actor_ids(out["authority"])
    if "context" in out:
        out["context"] = _context_ids(out["context"])
    return out


def pick_language(value: dict, languages: list[str]) -> dict:
    """Reduce a language map to the one entry that best fits `languages` (in preference)."""
    if not value:
        return value
    lowered = {tag.lower(): tag for tag in value}
    for wanted in languages:
        wanted = wanted.lower()
        if wanted == "*":
            break
        if wanted in lowered:
            tag = lowered[wanted]
            return {tag: value[tag]}
        for low, tag in lowered.items():
            if low.split("-")[0] == wanted.split("-")[0]:
                return {tag: value[tag]}
    tag = next(iter(value))
    return {tag: value[tag]}


def _canonical(value, languages: list[str], key: str | None = None):
    if isinstance(value, dict):
        if key in ("display", "name", "description") and all(
                isinstance(v, str) for v in value.values()):
            return pick_language(value, languages)
        if key == "extensions":
            return value
        return {k: _canonical(v, languages, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v, languages) for v in value]
    return value


def format_statement(statement: dict, fmt: str, languages: list[str]) -> dict:
    """Render a stored statement in the requested format."""
    if fmt == "ids":
        return _ids(statement)
    if fmt == "canonical":
        return _canonical(statement, languages)
    return statement


def attachment_hashes(statements: Iterable[dict]) -> list[str]:
    """SHA-2 of each attachment (without fileUrl-only content) in order, de-duplicated."""
    seen: dict[str, None] = {}
    for statement in statements:
        for part in (statement, statement.get("object") or {}):
            for attachment in part.get("attachments") or []:
                seen.setdefault(attachment["sha2"], None)
    return list(seen)


def multipart_body(document: str, parts: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """Build a multipart/mixed body: the JSON text first, then each (sha2, type, bytes)
    part."""
    boundary = uuid.uuid4().hex
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
              document.encode("utf-8"), b"\r\n"]
    for sha2, content_type, data in parts:
        chunks.append(f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                      f"Content-Transfer-Encoding: binary\r\n"
                      f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode())
        chunks.extend([data, b"\r\n"])
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"
