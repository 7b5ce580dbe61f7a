"""Training pages: classes and the trainees on their rosters."""
from flask import Blueprint

bp = Blueprint("training", __name__)

from app.web.training import routes  # noqa: E402,F401
