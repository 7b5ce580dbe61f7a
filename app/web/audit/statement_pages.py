"""`/audit/statements/<id>`: one stored xAPI statement as the LRS keeps it, for auditors following
a claim line or a trace down to its learning record (statement ids are links there)."""
from __future__ import annotations

import json
import uuid

from flask import abort, render_template

from app.extensions import db
from app.web.access import role_required
from app.web.audit import bp
from app.web.audit.exports import local_time
from app.web.audit.trace_pages import AUDITORS
from lrs.queries import get_statement


@bp.route("/statements/<uuid:statement_id>")
@role_required(*AUDITORS)
def statement(statement_id: uuid.UUID):
    """The statement's JSON (indented, keys in order), when it was stored and whether it is voided."""
    stored = get_statement(db.session, statement_id)
    if stored is None:
        abort(404)
    return render_template("audit/statement.html", stored=stored, local_time=local_time,
                           text=json.dumps(stored.payload, ensure_ascii=False, indent=2, sort_keys=True))
