"""Interface language: Simplified Chinese unless the user chose English."""
from flask import Flask, appcontext_pushed, current_app, g, has_request_context, session


def select_locale() -> str:
    """The language the user picked this session, else the configured default (zh_CN)."""
    chosen = session.get("language") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _mark_globals(_app, **_extra) -> None:
    # Flask-Babel 4 treats an empty `g` as "outside a request" and then translates nothing, so a
    # message made before anything else touched `g` (a CSRF failure, a CLI command) came out in
    # English. Marking `g` whenever an app context starts makes the language the same everywhere.
    g.babel_ready = True


def init_app(app: Flask) -> None:
    """Connect the hook that makes translation work in every app context of ``app``."""
    appcontext_pushed.connect(_mark_globals, app)
