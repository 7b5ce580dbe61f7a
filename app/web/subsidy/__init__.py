"""Subsidy claim pages: a class's claim with its exports, and each line traced back to the
ledger, intervals, verifications and statements behind it."""
from flask import Blueprint

bp = Blueprint("subsidy", __name__, url_prefix="/subsidy")

from app.web.subsidy import routes  # noqa: E402,F401
