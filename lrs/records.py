"""Turning validated statements into rows: the LRS-assigned properties (id, stored,
authority, version, timestamp), the agent and activity links, and statement equivalence."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Iterator

from lrs.models.agents import member_ifis
from lrs.models.common import V2, format_timestamp, parse_timestamp
from lrs.models.statements import VOIDED

_LRS_SET = ("stored", "authority", "version", "id")


def _arrays_in_context(part: dict) -> dict:
    context = part.get("context")
    if not context or "contextActivities" not in context:
        return part
    activities = {key: value if isinstance(value, list) else [value]
                  for key, value in context["contextActivities"].items()}
    return {**part, "context": {**context, "contextActivities": activities}}


def complete_statement(statement: dict, stored: datetime, authority: dict,
                       version: str) -> dict:
    """Fill in what the LRS sets: id if absent, stored, authority, version and timestamp.

    In 2.0.0 the timestamp is normalised to UTC; in 1.0.3 it is kept as sent.
    """
    out = _arrays_in_context(dict(statement))
    if out["object"].get("objectType") == "SubStatement":
        out["object"] = _arrays_in_context(out["object"])
    out["id"] = str(uuid.UUID(out["id"])) if "id" in out else str(uuid.uuid4())
    out["stored"] = format_timestamp(stored)
    out["authority"] = authority
    if "version" not in out:
        out["version"] = "2.0.0" if version == V2 else "1.0.0"
    if "timestamp" not in out:
        out["timestamp"] = out["stored"]
    elif version == V2:
        out["timestamp"] = format_timestamp(parse_timestamp(out["timestamp"], "timestamp",
                                                            version))
    return out


def _activities_in(context: dict | None) -> Iterator[dict]:
    for entry in ((context or {}).get("contextActivities") or {}).values():
        yield from entry if isinstance(entry, list) else [entry]


def _context_agents(context: dict | None) -> Iterator[dict]:
    context = context or {}
    for key in ("instructor", "team"):
        if key in context:
            yield context[key]
    for entry in context.get("contextAgents") or []:
        yield entry["agent"]
    for entry in context.get("contextGroups") or []:
        yield entry["group"]


def statement_links(statement: dict) -> tuple[dict[str, bool], dict[str, bool]]:
    """Return {agent IFI: direct} and {activity IRI: direct} for what a statement mentions.

    Direct means the statement's actor or object (a Group's members included); every other
    mention (authority, context, sub-statement parts) counts only for related_agents /
    related_activities. Each IFI or IRI appears once, direct if any use of it is.
    """
    agents: dict[str, bool] = {}
    activities: dict[str, bool] = {}

    def agent(ifi: str, direct: bool) -> None:
        agents[ifi] = agents.get(ifi, False) or direct

    def activity(iri: str, direct: bool) -> None:
        activities[iri] = activities.get(iri, False) or direct

    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    for ifi in member_ifis(statement["actor"]):
        agent(ifi, True)
    if kind in ("Agent", "Group"):
        for ifi in member_ifis(obj):
            agent(ifi, True)
    elif kind == "Activity":
        activity(obj["id"], True)
    related = [statement]
    if kind == "SubStatement":
        related.append(obj)
        for ifi in member_ifis(obj["actor"]):
            agent(ifi, False)
        inner = obj["object"]
        inner_kind = inner.get("objectType", "Activity")
        if inner_kind in ("Agent", "Group"):
            for ifi in member_ifis(inner):
                agent(ifi, False)
        elif inner_kind == "Activity":
            activity(inner["id"], False)
    if "authority" in statement:
        for ifi in member_ifis(statement["authority"]):
            agent(ifi, False)
    for part in related:
        for actor in _context_agents(part.get("context")):
            for ifi in member_ifis(actor):
                agent(ifi, False)
        for item in _activities_in(part.get("context")):
            activity(item["id"], False)
    return agents, activities


def activity_definitions(statement: dict) -> Iterator[tuple[str, dict]]:
    """Yield (IRI, definition) for every activity of a statement that carries a definition."""
    candidates = [statement["object"]]
    if statement["object"].get("objectType") == "SubStatement":
        candidates.append(statement["object"]["object"])
        candidates.extend(_activities_in(statement["object"].get("context")))
    candidates.extend(_activities_in(statement.get("context")))
    for item in candidates:
        if item.get("objectType", "Activity") == "Activity" and "definition" in item:
            yield item["id"], item["definition"]


def ref_target(statement: dict) -> uuid.UUID | None:
    """The id a StatementRef object points at, or None for any other object."""
    if statement["object"].get("objectType") == "StatementRef":
        return uuid.UUID(statement["object"]["id"])
    return None


def voided_target(statement: dict) -> uuid.UUID | None:
    """The id a voiding statement voids, or None for any other statement."""
    if statement["verb"]["id"] == VOIDED:
        return uuid.UUID(statement["object"]["id"])
    return None


def _normalise(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if key in ("timestamp",) and isinstance(value, str):
        try:
            return parse_timestamp(value, key).isoformat()
        except Exception:  # noqa: BLE001 - a value that does not parse compares as text
            return value
    if key in ("id", "registration") and isinstance(value, str):
        return value.lower()
    if key == "duration" and isinstance(value, str):
        return _SECONDS.sub(_truncate_seconds, value)
    return value


_SECONDS = re.compile(r"(\d+)(?:\.(\d+))?S$")


def _truncate_seconds(match: re.Match) -> str:
    # xAPI 2.0 compares durations only to 0.01 s.
    whole, fraction = match.group(1), (match.group(2) or "")[:2].rstrip("0")
    return f"{int(whole)}.{fraction}S" if fraction else f"{int(whole)}S"


def is_same_statement(stored: dict, received: dict) -> bool:
    """True when `received` (as sent) matches `stored` apart from what the LRS sets.

    A timestamp the client left out was filled in by the LRS, so it is not compared then.
    """
    received = _arrays_in_context(received)
    if received["object"].get("objectType") == "SubStatement":
        received = {**received, "object": _arrays_in_context(received["object"])}
    ignored = set(_LRS_SET) | ({"timestamp"} if "timestamp" not in received else set())
    left = {k: v for k, v in stored.items() if k not in ignored}
    right = {k: v for k, v in received.items() if k not in ignored}
    return _normalise(left) == _normalise(right)
