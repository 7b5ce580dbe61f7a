"""Biometric pages: consent, the alternative ID-card check, webcam enrolment (staff for a trainee,
a trainee for themself) and the administrators' list of duplicate-face flags."""
from flask import Blueprint

bp = Blueprint("biometrics", __name__)

from app.web.biometrics import routes  # noqa: E402,F401
