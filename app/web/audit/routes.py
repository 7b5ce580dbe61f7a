"""`/audit`: the newest audit entries, page by page, and the integrity check (the recomputed
chain and the records reconciled with the LRS)."""
from flask import render_template, request

from app.extensions import db
from app.models import Role
from app.queries.audit import list_entries
from app.services.integrity import check_integrity
from app.web.access import role_required
from app.web.audit import bp

PAGE_SIZE = 100
MAX_SEQ = 2**63 - 1  # BIGINT: a larger ?before= would overflow the query


def _before() -> int | None:
    """``?before=SEQ`` as a sequence number; anything else (text, out of range) means the newest."""
    before = request.args.get("before", type=int)
    return before if before is not None and 0 < before <= MAX_SEQ else None


@bp.route("/")
@role_required(Role.AUDITOR, Role.ADMIN)
def index():
    """Entries newest first (``?before=SEQ`` pages back) and every integrity problem, if any."""
    before = _before()
    entries = list_entries(db.session, before=before, limit=PAGE_SIZE)
    return render_template("audit/index.html", entries=entries, integrity=check_integrity(db.session),
                           older=entries[-1].seq if len(entries) == PAGE_SIZE else None)
