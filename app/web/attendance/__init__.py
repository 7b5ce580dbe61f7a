"""Attendance pages: the trainee's check-in, the kiosk screen and the kiosks' provisioning, and
the instructor's class view."""
from flask import Blueprint

bp = Blueprint("attendance", __name__)

from app.web.attendance import kiosk_pages, makeup_pages, routes, witness_pages  # noqa: E402,F401
