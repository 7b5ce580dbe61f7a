"""Turn errors into responses: problem+json for `/api/*`, `/xapi/*` and JSON clients, pages otherwise.

The 500 handler always rolls the session back so a failed request leaves nothing half-written,
and logs the exception under a request id that the page or the JSON shows, so that a report
from whoever saw it leads to the log entry.
"""
from __future__ import annotations

import uuid

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors.exceptions import SkillTraceError
from app.extensions import db, login_manager

_TEMPLATED = {400, 403, 404, 429, 500, 503}


def wants_json() -> bool:
    """True for API paths and clients that prefer JSON to HTML."""
    if request.path.startswith(("/api/", "/xapi/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and (
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, code: str, message: str, errors: dict | None = None,
                   request_id: str | None = None):
    """One error, shaped for the client: `{"error", "message"}` JSON or an error page (with
    the request id of a logged failure, when there is one)."""
    if wants_json():
        body = {"error": code, "message": message, "status": status}
        if errors:
            body["errors"] = errors
        if request_id:
            body["request_id"] = request_id
        return body, status
    template = f"errors/{status if status in _TEMPLATED else 400}.html"
    return render_template(template, message=message, status=status,
                           request_id=request_id), status


def _on_domain_error(exc: SkillTraceError):
    return error_response(exc.status, exc.code, exc.message, exc.errors)


def _on_csrf_error(exc: CSRFError):
    return error_response(400, "csrf", _("The form has expired or was not sent from this site. Please try again."))


def _default_message(status: int) -> str | None:
    return {
        403: _("Your role may not open this page."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept that method."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Wait a minute and try again."),
        500: _("The error has been logged; nothing was saved. Please try again."),
        503: _("The database is not answering. Please try again shortly."),
    }.get(status)


def _on_http_error(exc: HTTPException):
    status = exc.code or 500
    if status >= 500:
        db.session.rollback()
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(status, code, _default_message(status) or exc.description or exc.name)


def _on_database_unavailable(exc: Exception):
    """503 while the database does not answer (connection refused or lost); nothing was saved."""
    try:
        db.session.rollback()
    except (OperationalError, InterfaceError):
        pass
    db.session.remove()
    # Treat the caller as signed out for this answer, so the page does not query for the user.
    g._login_user = login_manager.anonymous_user()
    message = _default_message(503)
    if wants_json():
        return {"error": "database_unavailable", "message": message, "status": 503}, 503
    return render_template("errors/unavailable.html", message=message), 503


def _on_unexpected_error(exc: Exception):
    """500 for an exception nothing else handled, logged with its traceback under a new
    request id that the answer shows."""
    db.session.rollback()
    if isinstance(exc, HTTPException):
        return _on_http_error(exc)
    request_id = uuid.uuid4().hex[:16]
    current_app.logger.error("unexpected error, request id %s: %s %s", request_id,
                             request.method, request.path, exc_info=exc)
    return error_response(500, "internal_server_error", _default_message(500),
                          request_id=request_id)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app."""
    app.register_error_handler(SkillTraceError, _on_domain_error)
    app.register_error_handler(CSRFError, _on_csrf_error)
    app.register_error_handler(OperationalError, _on_database_unavailable)
    app.register_error_handler(InterfaceError, _on_database_unavailable)
    app.register_error_handler(HTTPException, _on_http_error)
    app.register_error_handler(Exception, _on_unexpected_error)
