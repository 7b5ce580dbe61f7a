"""The auditor's view of the audit log and its integrity check."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from app.web.audit import routes, statement_pages, statistics_pages, trace_pages  # noqa: E402,F401
