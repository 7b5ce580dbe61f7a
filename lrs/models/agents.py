"""Agents and Groups: inverse functional identifiers, anonymous and identified groups, and
the canonical IFI string the storage layer indexes them by."""

from __future__ import annotations

import hashlib
from typing import Any

from lrs.models.common import (check_iri, check_keys, check_mailto, check_sha1, check_string,
                               fail, require_object)

IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = {"objectType", "name", *IFI_KEYS}
_GROUP_KEYS = _AGENT_KEYS | {"member"}


def _check_ifi(obj: dict, path: str) -> int:
    """Check whichever IFIs are present and return how many there are."""
    count = 0
    if "mbox" in obj:
        check_mailto(obj["mbox"], f"{path}.mbox")
        count += 1
    if "mbox_sha1sum" in obj:
        check_sha1(obj["mbox_sha1sum"], f"{path}.mbox_sha1sum")
        count += 1
    if "openid" in obj:
        check_iri(obj["openid"], f"{path}.openid")
        count += 1
    if "account" in obj:
        account = require_object(obj["account"], f"{path}.account")
        check_keys(account, f"{path}.account", {"homePage", "name"}, ("homePage", "name"))
        check_iri(account["homePage"], f"{path}.account.homePage")
        check_string(account["name"], f"{path}.account.name")
        count += 1
    return count


def check_agent(value: Any, path: str) -> dict:
    """Require an Agent: optional objectType "Agent", exactly one IFI, optional name."""
    obj = require_object(value, path)
    check_keys(obj, path, _AGENT_KEYS)
    if obj.get("objectType", "Agent") != "Agent":
        raise fail(f"{path}.objectType", "must be \"Agent\"")
    if "name" in obj:
        check_string(obj["name"], f"{path}.name")
    if _check_ifi(obj, path) != 1:
        raise fail(path, "an Agent must have exactly one inverse functional identifier")
    return obj


def check_group(value: Any, path: str) -> dict:
    """Require a Group: objectType "Group"; anonymous (members, no IFI) or identified (one IFI)."""
    obj = require_object(value, path)
    check_keys(obj, path, _GROUP_KEYS, ("objectType",))
    if obj["objectType"] != "Group":
        raise fail(f"{path}.objectType", "must be \"Group\"")
    if "name" in obj:
        check_string(obj["name"], f"{path}.name")
    ifis = _check_ifi(obj, path)
    if ifis > 1:
        raise fail(path, "a Group must not have more than one inverse functional identifier")
    if "member" in obj:
        members = obj["member"]
        if not isinstance(members, list):
            raise fail(f"{path}.member", "must be an array of Agents")
        for index, member in enumerate(members):
            check_agent(member, f"{path}.member[{index}]")
    if ifis == 0 and not obj.get("member"):
        raise fail(f"{path}.member", "an anonymous Group must list its members")
    return obj


def check_actor(value: Any, path: str) -> dict:
    """Require an Agent or a Group, told apart by objectType."""
    obj = require_object(value, path)
    if obj.get("objectType") == "Group":
        return check_group(obj, path)
    return check_agent(obj, path)


def agent_ifi(obj: dict) -> str | None:
    """Return the canonical IFI of an Agent or identified Group, or None for anonymous groups.

    mbox and mbox_sha1sum of the same address are different IFIs in xAPI, so each keeps
    its own prefix.
    """
    if "mbox" in obj:
        return "mbox:" + obj["mbox"].lower()
    if "mbox_sha1sum" in obj:
        return "sha1:" + obj["mbox_sha1sum"].lower()
    if "openid" in obj:
        return "openid:" + obj["openid"]
    if "account" in obj:
        return "account:" + obj["account"]["homePage"] + "::" + obj["account"]["name"]
    return None


def member_ifis(obj: dict) -> list[str]:
    """IFIs of an actor and, for a Group, of each member."""
    found = []
    own = agent_ifi(obj)
    if own:
        found.append(own)
    for member in obj.get("member") or []:
        ifi = agent_ifi(member)
        if ifi:
            found.append(ifi)
    return found


def ifi_only(obj: dict) -> dict:
    """The `ids` format of an actor: objectType and IFI (members kept for anonymous groups)."""
    out = {key: obj[key] for key in IFI_KEYS if key in obj}
    if "objectType" in obj:
        out["objectType"] = obj["objectType"]
    if obj.get("objectType") == "Group" and not any(k in obj for k in IFI_KEYS):
        out["member"] = [ifi_only(member) for member in obj.get("member", [])]
    return out


def sha1_of_mbox(mbox: str) -> str:
    """The mbox_sha1sum of a mailto IRI."""
    return hashlib.sha1(mbox.encode("utf-8")).hexdigest()
