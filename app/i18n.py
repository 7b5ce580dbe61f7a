"""Interface language: Simplified Chinese unless the user chose English."""
from flask import Flask, current_app, g, has_request_context, session


def select_locale() -> str:
    """The language the user picked this session, else the configured default (zh_CN)."""
    chosen = session.get("language") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _mark_request_globals() -> None:
    # Flask-Babel 4 treats an empty `g` as "outside a request" and then translates nothing;
    # an error raised before anything else touches `g` (a CSRF failure) would show in English.
    g.babel_ready = True


def init_app(app: Flask) -> None:
    """Register the request hook; call before extensions whose hooks may fail a request."""
    app.before_request(_mark_request_globals)
