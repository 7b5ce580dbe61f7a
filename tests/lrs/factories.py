"""Builders for LRS tests: credentials, valid statements and request helpers."""

from __future__ import annotations

import base64
import json
import uuid

from lrs import service


def make_credential(app, scopes=("all",), name="tester") -> dict:
    """Create a credential and return {"key", "secret", "auth": Authorization header}."""
    with app.app_context():
        pair = service.create_credential(app.extensions["lrs_store"], name, list(scopes))
    token = base64.b64encode(f"{pair['key']}:{pair['secret']}".encode()).decode()
    return {**pair, "auth": f"Basic {token}"}


def statement(**overrides) -> dict:
    """A minimal valid statement; keyword arguments replace top-level properties."""
    body = {
        "actor": {"objectType": "Agent", "name": "Li Lei", "mbox": "mailto:lilei@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended",
                 "display": {"en-US": "attended", "zh-CN": "参加"}},
        "object": {"id": "http://example.com/activities/welding-101",
                   "definition": {"name": {"en-US": "Welding 101", "zh-CN": "焊接入门"}}},
    }
    body.update(overrides)
    return body


def post(client, headers, body, **kwargs):
    """POST statements as JSON."""
    return client.post("/xapi/statements", data=json.dumps(body),
                       headers={**headers, "Content-Type": "application/json"}, **kwargs)


def new_id() -> str:
    """A fresh statement id."""
    return str(uuid.uuid4())
