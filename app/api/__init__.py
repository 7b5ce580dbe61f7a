"""JSON API under `/api/`: the same actions as the pages, for office systems and scripts.

Sessions authenticate it (sign in through `/login`); state-changing requests carry the CSRF
token in the ``X-CSRFToken`` header. Errors are `{"error": code, "message": text}` with a 4xx.
"""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from app.api import catalogue, classes, openapi, trainees  # noqa: E402,F401
