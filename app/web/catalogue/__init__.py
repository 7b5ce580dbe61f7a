"""Catalogue pages (两目录): occupations, programmes and standards, the urgent-shortage list,
evaluation organisations and institutions."""
from flask import Blueprint

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

from app.web.catalogue import routes  # noqa: E402,F401
