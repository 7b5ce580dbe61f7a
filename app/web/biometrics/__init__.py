"""Biometric pages: consent, the alternative ID-card check, webcam enrolment (staff for a trainee,
a trainee for themself), the administrators' list of duplicate-face flags, and a trainee's own
"my data" page."""
from flask import Blueprint

bp = Blueprint("biometrics", __name__)

from app.web.biometrics import my_data_pages, routes  # noqa: E402,F401
