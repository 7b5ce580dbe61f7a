"""Training pages: classes and the trainees on their rosters."""
from flask import Blueprint

bp = Blueprint("training", __name__)

from app.web.training import (class_pages, completion_pages, evidence_pages, review_pages,  # noqa: E402,F401
                              routes, trainee_pages)
