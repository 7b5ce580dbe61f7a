"""Administration pages: accounts, hour rules, and face data under PIPL."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.web.admin import hour_rule_pages, pipl_pages, routes  # noqa: E402,F401
