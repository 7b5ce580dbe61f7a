"""xAPI statements for attendance (R3), built from the SkillTrace attendance profile
(docs/xapi-profile.md) and stored in the LRS in the caller's transaction.

Actors are accounts (``homePage`` = ``XAPI_HOMEPAGE``, ``name`` = the trainee's record id): no
name or ID number goes into a statement. ``context.registration`` is the enrolment id; the class
is the parent activity and the session the object (or, for a verification, the grouping).
When an external LRS is configured, each statement is also queued for forwarding
(`app.services.forwarding`) in the same transaction.
"""
from __future__ import annotations

import uuid
from datetime import datetime

import lrs
from flask import current_app
from sqlalchemy.orm import Session

from app.services import forwarding
from app.xapi_profile import (ACTIVITY_CLAIM, ACTIVITY_CLASS, ACTIVITY_SESSION, EXT,  # noqa: F401 (re-exported)
                              VERBS)


def _home() -> str:
    return current_app.config["XAPI_HOMEPAGE"].rstrip("/")


def authority() -> dict:
    """The agent SkillTrace stores its own statements as."""
    return {"objectType": "Agent", "name": "SkillTrace",
            "account": {"homePage": _home(), "name": "skilltrace"}}


def trainee_agent(trainee_id) -> dict:
    return {"objectType": "Agent", "account": {"homePage": f"{_home()}/trainees", "name": str(trainee_id)}}


def kiosk_agent(kiosk_id) -> dict:
    return {"objectType": "Agent", "account": {"homePage": f"{_home()}/kiosks", "name": str(kiosk_id)}}


def staff_agent(user_id) -> dict:
    """An account of the institution or the bureau acting on a record (a claim's steps)."""
    return {"objectType": "Agent", "account": {"homePage": f"{_home()}/users", "name": str(user_id)}}


def claim_activity(claim_id) -> dict:
    return {"objectType": "Activity", "id": f"{_home()}/subsidy-claims/{claim_id}",
            "definition": {"type": ACTIVITY_CLAIM}}


def class_activity(class_id) -> dict:
    return {"objectType": "Activity", "id": f"{_home()}/classes/{class_id}",
            "definition": {"type": ACTIVITY_CLASS}}


def session_activity(session_id) -> dict:
    return {"objectType": "Activity", "id": f"{_home()}/sessions/{session_id}",
            "definition": {"type": ACTIVITY_SESSION}}


def duration(seconds: int) -> str:
    """ISO 8601 duration of whole seconds (``PT1H30M0S``)."""
    seconds = max(0, int(seconds))
    return f"PT{seconds // 3600}H{seconds % 3600 // 60}M{seconds % 60}S"


def record(session: Session, verb: str, actor: dict, *, at: datetime, enrolment_id=None,
           class_id=None, session_id=None, object_: dict | None = None, extensions: dict | None = None,
           result: dict | None = None) -> uuid.UUID:
    """Store one statement in the caller's transaction and return its id.

    Args:
        verb: a key of ``VERBS``.
        actor: from ``trainee_agent`` or ``kiosk_agent``.
        object_: the object activity (default: the session, else the class).
        extensions: short names of ``EXT`` → values, put in ``context.extensions``.
        result: the statement's ``result`` (``duration``, ``success`` …).
    """
    verb_id, display = VERBS[verb]
    context: dict = {"platform": "SkillTrace", "language": "zh-CN"}
    if enrolment_id is not None:
        context["registration"] = str(enrolment_id)
    activities = {}
    if class_id is not None:
        activities["parent"] = [class_activity(class_id)]
    if object_ is None:
        object_ = (session_activity(session_id) if session_id is not None
                   else class_activity(class_id) if class_id is not None
                   else {"objectType": "Activity", "id": f"{_home()}/attendance"})
    elif session_id is not None:
        activities["grouping"] = [session_activity(session_id)]
    if activities:
        context["contextActivities"] = activities
    if extensions:
        context["extensions"] = {EXT[k]: v for k, v in extensions.items() if v is not None}
    statement = {"id": str(uuid.uuid4()), "actor": actor,
                 "verb": {"id": verb_id, "display": {"en-US": display}},
                 "object": object_, "context": context, "timestamp": at.isoformat()}
    if result:
        statement["result"] = result
    statement_id = lrs.record_statement(session, statement, authority())
    if forwarding.is_enabled():
        forwarding.enqueue(session, statement_id)
    return statement_id
