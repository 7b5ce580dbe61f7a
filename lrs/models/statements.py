"""Statements and SubStatements: result, context, attachments, version and the whole-statement
rules (voiding needs a StatementRef, revision/platform only with Activities, and so on)."""

from __future__ import annotations

import re
from typing import Any

from lrs.models.agents import agent_ifi, check_actor, check_agent, check_group
from lrs.models.common import (V2, check_bool, check_duration, check_extensions, check_iri,
                               check_keys, check_language_map, check_number, check_string,
                               check_uuid, fail, is_language_tag, parse_timestamp,
                               require_object)
from lrs.models.objects import check_activity, check_activity_list, check_statement_ref

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
_STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                   "authority", "version", "attachments"}
_SUB_KEYS = {"objectType", "actor", "verb", "object", "result", "context", "timestamp",
             "attachments"}
_CONTEXT_KEYS = {"registration", "instructor", "team", "contextActivities", "revision",
                 "platform", "language", "statement", "extensions"}
_CONTEXT_KEYS_V2 = _CONTEXT_KEYS | {"contextAgents", "contextGroups"}
_VERSION_V1 = re.compile(r"^1\.0(\.\d+)?$")
_VERSION_V2 = re.compile(r"^(1\.0(\.\d+)?|2\.0(\.\d+)?)$")
_MEDIA_TYPE = re.compile(r"^[\w.+\-]+/[\w.+\-]+(\s*;.*)?$")


def check_verb(value: Any, path: str) -> dict:
    """Require a Verb: an IRI id and an optional display language map."""
    verb = require_object(value, path)
    check_keys(verb, path, {"id", "display"}, ("id",))
    check_iri(verb["id"], f"{path}.id")
    if "display" in verb:
        check_language_map(verb["display"], f"{path}.display")
    return verb


def check_result(value: Any, path: str) -> dict:
    """Require a Result; the score's scaled lies in [-1, 1] and raw between min and max."""
    result = require_object(value, path)
    check_keys(result, path, {"score", "success", "completion", "response", "duration",
                              "extensions"})
    if "score" in result:
        score = require_object(result["score"], f"{path}.score")
        check_keys(score, f"{path}.score", {"scaled", "raw", "min", "max"})
        for key in score:
            check_number(score[key], f"{path}.score.{key}")
        if "scaled" in score and not -1 <= score["scaled"] <= 1:
            raise fail(f"{path}.score.scaled", "must lie between -1 and 1")
        low, high = score.get("min"), score.get("max")
        if low is not None and high is not None and low > high:
            raise fail(f"{path}.score.min", "must not exceed max")
        if "raw" in score:
            if low is not None and score["raw"] < low:
                raise fail(f"{path}.score.raw", "must not be below min")
            if high is not None and score["raw"] > high:
                raise fail(f"{path}.score.raw", "must not exceed max")
    for key in ("success", "completion"):
        if key in result:
            check_bool(result[key], f"{path}.{key}")
    if "response" in result:
        check_string(result["response"], f"{path}.response")
    if "duration" in result:
        check_duration(result["duration"], f"{path}.duration")
    if "extensions" in result:
        check_extensions(result["extensions"], f"{path}.extensions")
    return result


def _check_relevant(entry: dict, where: str) -> None:
    types = entry.get("relevantTypes")
    if not isinstance(types, list) or not types:
        raise fail(f"{where}.relevantTypes", "must be a non-empty array of IRIs")
    for index, iri in enumerate(types):
        check_iri(iri, f"{where}.relevantTypes[{index}]")


def _check_context_agents(context: dict, path: str) -> None:
    for key, kind, member, check in (("contextAgents", "contextAgent", "agent", check_agent),
                                     ("contextGroups", "contextGroup", "group", check_group)):
        if key not in context:
            continue
        if not isinstance(context[key], list):
            raise fail(f"{path}.{key}", "must be an array")
        for index, item in enumerate(context[key]):
            where = f"{path}.{key}[{index}]"
            entry = require_object(item, where)
            check_keys(entry, where, {"objectType", member, "relevantTypes"},
                       ("objectType", member))
            if entry["objectType"] != kind:
                raise fail(f"{where}.objectType", f"must be \"{kind}\"")
            check(entry[member], f"{where}.{member}")
            if "relevantTypes" in entry:
                _check_relevant(entry, where)


def check_context(value: Any, path: str, version: str) -> dict:
    """Require a Context, with 2.0.0's contextAgents and contextGroups when speaking 2.0."""
    context = require_object(value, path)
    check_keys(context, path, _CONTEXT_KEYS_V2 if version == V2 else _CONTEXT_KEYS)
    if "registration" in context:
        check_uuid(context["registration"], f"{path}.registration")
    if "instructor" in context:
        check_actor(context["instructor"], f"{path}.instructor")
    if "team" in context:
        check_group(context["team"], f"{path}.team")
    if "contextActivities" in context:
        activities = require_object(context["contextActivities"], f"{path}.contextActivities")
        check_keys(activities, f"{path}.contextActivities",
                   {"parent", "grouping", "category", "other"})
        for key, entry in activities.items():
            check_activity_list(entry, f"{path}.contextActivities.{key}")
    for key in ("revision", "platform"):
        if key in context:
            check_string(context[key], f"{path}.{key}")
    if "language" in context and not is_language_tag(context["language"]):
        raise fail(f"{path}.language", "is not an RFC 5646 language tag")
    if "statement" in context:
        check_statement_ref(context["statement"], f"{path}.statement")
    if "extensions" in context:
        check_extensions(context["extensions"], f"{path}.extensions")
    _check_context_agents(context, path)
    return context


def check_attachments(value: Any, path: str) -> list:
    """Require an array of Attachment metadata."""
    if not isinstance(value, list):
        raise fail(path, "must be an array")
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        attachment = require_object(item, where)
        check_keys(attachment, where, {"usageType", "display", "description", "contentType",
                                       "length", "sha2", "fileUrl"},
                   ("usageType", "display", "contentType", "length", "sha2"))
        check_iri(attachment["usageType"], f"{where}.usageType")
        check_language_map(attachment["display"], f"{where}.display")
        if "description" in attachment:
            check_language_map(attachment["description"], f"{where}.description")
        content_type = check_string(attachment["contentType"], f"{where}.contentType")
        if not _MEDIA_TYPE.match(content_type):
            raise fail(f"{where}.contentType", "must be an Internet media type")
        length = attachment["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise fail(f"{where}.length", "must be a non-negative integer")
        check_string(attachment["sha2"], f"{where}.sha2")
        if not re.fullmatch(r"[0-9a-fA-F]{56,128}", attachment["sha2"]):
            raise fail(f"{where}.sha2", "must be a hex-encoded SHA-2 hash")
        if "fileUrl" in attachment:
            check_iri(attachment["fileUrl"], f"{where}.fileUrl")
    return value


def _check_object(value: Any, path: str, version: str, nested: bool) -> dict:
    obj = require_object(value, path)
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return check_activity(obj, path)
    if kind == "Agent":
        return check_agent(obj, path)
    if kind == "Group":
        return check_group(obj, path)
    if kind == "StatementRef":
        return check_statement_ref(obj, path)
    if kind == "SubStatement":
        if nested:
            raise fail(f"{path}.objectType", "a SubStatement must not contain a SubStatement")
        return _check_core(obj, path, version, sub=True)
    raise fail(f"{path}.objectType", "is not a known objectType")


def _check_core(obj: dict, path: str, version: str, sub: bool) -> dict:
    check_keys(obj, path, _SUB_KEYS if sub else _STATEMENT_KEYS, ("actor", "verb", "object"))
    check_actor(obj["actor"], f"{path}.actor")
    verb = check_verb(obj["verb"], f"{path}.verb")
    target = _check_object(obj["object"], f"{path}.object", version, nested=sub)
    if verb["id"] == VOIDED and target.get("objectType") != "StatementRef":
        raise fail(f"{path}.object", "a voiding statement's object must be a StatementRef")
    if "result" in obj:
        check_result(obj["result"], f"{path}.result")
    if "context" in obj:
        context = check_context(obj["context"], f"{path}.context", version)
        if target.get("objectType", "Activity") != "Activity":
            for key in ("revision", "platform"):
                if key in context:
                    raise fail(f"{path}.context.{key}", "is allowed only when the object is "
                                                          "an Activity")
    if "timestamp" in obj:
        parse_timestamp(obj["timestamp"], f"{path}.timestamp", version)
    if "attachments" in obj:
        check_attachments(obj["attachments"], f"{path}.attachments")
    return obj


def check_statement(value: Any, version: str, path: str = "statement") -> dict:
    """Validate one statement as received; raise `BadRequestError` naming the bad field."""
    statement = require_object(value, path)
    _check_core(statement, path, version, sub=False)
    if "id" in statement:
        check_uuid(statement["id"], f"{path}.id")
    if "stored" in statement:
        parse_timestamp(statement["stored"], f"{path}.stored", version)
    if "authority" in statement:
        authority = check_actor(statement["authority"], f"{path}.authority")
        if authority.get("objectType") == "Group" and (
                len(authority.get("member", [])) != 2 or agent_ifi(authority) is not None):
            raise fail(f"{path}.authority", "a Group authority must be an anonymous group of "
                                            "exactly two Agents (OAuth)")
    if "version" in statement:
        pattern = _VERSION_V2 if version == V2 else _VERSION_V1
        if not isinstance(statement["version"], str) or not pattern.match(statement["version"]):
            raise fail(f"{path}.version", "is not a supported xAPI version")
    return statement


def check_statement_batch(value: Any, version: str) -> list[dict]:
    """Validate a POST body: one statement or a non-empty array, with no repeated id."""
    items = value if isinstance(value, list) else [value]
    seen = set()
    for index, item in enumerate(items):
        check_statement(item, version, f"statement[{index}]" if isinstance(value, list)
                        else "statement")
        ident = item.get("id")
        if ident is not None:
            if ident.lower() in seen:
                raise fail(f"statement[{index}].id", "is repeated within the batch")
            seen.add(ident.lower())
    return items
