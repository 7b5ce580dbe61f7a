"""Administration pages: accounts, hour rules."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.web.admin import hour_rule_pages, routes  # noqa: E402,F401
