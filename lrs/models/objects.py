"""Statement objects other than agents and sub-statements: Activities with their
definitions and interaction components, and StatementRefs."""

from __future__ import annotations

from typing import Any

from lrs.models.common import (check_extensions, check_iri, check_keys, check_language_map,
                               check_string, check_uuid, fail, require_object)

INTERACTION_TYPES = {"true-false", "choice", "fill-in", "long-fill-in", "matching",
                     "performance", "sequencing", "likert", "numeric", "other"}
COMPONENT_LISTS = {"choices", "scale", "source", "target", "steps"}
_LISTS_FOR_TYPE = {
    "choice": {"choices"}, "sequencing": {"choices"}, "likert": {"scale"},
    "matching": {"source", "target"}, "performance": {"steps"},
}
_DEFINITION_KEYS = {"name", "description", "type", "moreInfo", "extensions", "interactionType",
                    "correctResponsesPattern"} | COMPONENT_LISTS


def _check_components(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise fail(path, "must be an array of interaction components")
    seen = set()
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        component = require_object(item, where)
        check_keys(component, where, {"id", "description"}, ("id",))
        check_string(component["id"], f"{where}.id")
        if component["id"] in seen:
            raise fail(f"{where}.id", "interaction component ids must be unique in a list")
        seen.add(component["id"])
        if "description" in component:
            check_language_map(component["description"], f"{where}.description")


def check_definition(value: Any, path: str) -> dict:
    """Require an Activity Definition, interaction properties included."""
    definition = require_object(value, path)
    check_keys(definition, path, _DEFINITION_KEYS)
    for key in ("name", "description"):
        if key in definition:
            check_language_map(definition[key], f"{path}.{key}")
    if "type" in definition:
        check_iri(definition["type"], f"{path}.type")
    if "moreInfo" in definition:
        check_iri(definition["moreInfo"], f"{path}.moreInfo")
    if "extensions" in definition:
        check_extensions(definition["extensions"], f"{path}.extensions")
    kind = definition.get("interactionType")
    if kind is not None and (not isinstance(kind, str) or kind not in INTERACTION_TYPES):
        raise fail(f"{path}.interactionType", "is not an xAPI interaction type")
    if "correctResponsesPattern" in definition:
        pattern = definition["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            raise fail(f"{path}.correctResponsesPattern", "must be an array of strings")
    lists = COMPONENT_LISTS & definition.keys()
    if (lists or "correctResponsesPattern" in definition) and kind is None:
        raise fail(f"{path}.interactionType", "is required with interaction components")
    if kind is not None and not lists <= _LISTS_FOR_TYPE.get(kind, set()):
        raise fail(path, f"interaction components {sorted(lists)} do not fit {kind!r}")
    for key in lists:
        _check_components(definition[key], f"{path}.{key}")
    return definition


def check_activity(value: Any, path: str) -> dict:
    """Require an Activity: an IRI id, objectType "Activity" if given, optional definition."""
    activity = require_object(value, path)
    check_keys(activity, path, {"objectType", "id", "definition"}, ("id",))
    if activity.get("objectType", "Activity") != "Activity":
        raise fail(f"{path}.objectType", "must be \"Activity\"")
    check_iri(activity["id"], f"{path}.id")
    if "definition" in activity:
        check_definition(activity["definition"], f"{path}.definition")
    return activity


def check_statement_ref(value: Any, path: str) -> dict:
    """Require a StatementRef: objectType "StatementRef" and a UUID id."""
    ref = require_object(value, path)
    check_keys(ref, path, {"objectType", "id"}, ("objectType", "id"))
    if ref["objectType"] != "StatementRef":
        raise fail(f"{path}.objectType", "must be \"StatementRef\"")
    check_uuid(ref["id"], f"{path}.id")
    return ref


def check_activity_list(value: Any, path: str) -> list:
    """Require a context activity entry: one Activity or an array of them."""
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        check_activity(item, f"{path}[{index}]" if isinstance(value, list) else path)
    return items


def activity_ids_only(activity: dict) -> dict:
    """The `ids` format of an Activity."""
    return {"id": activity["id"]}
