"""Administration pages: accounts, and face data under PIPL."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.web.admin import pipl_pages, routes  # noqa: E402,F401
