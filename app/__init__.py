"""SkillTrace: the Flask application factory."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask_babel import gettext
from app.config import config_class
from app.extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config_overrides: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI groups, logging.

    Args:
        config_overrides: settings applied last (tests). ``SKILLTRACE_ENV`` picks the config
            class (development, testing, production); ``INSTANCE_PATH`` moves the instance folder.
    """
    overrides = dict(config_overrides or {})
    app = Flask(__name__, instance_path=overrides.pop("INSTANCE_PATH", None),
                instance_relative_config=True)
    cls = config_class(overrides.pop("SKILLTRACE_ENV", None))
    app.config.update(cls.load(Path(app.instance_path)))
    app.config.update(overrides)

    _init_extensions(app)
    _register_blueprints(app)

    from app.errors.handlers import register_error_handlers
    register_error_handlers(app)

    from app import security
    security.init_app(app)

    from app import cli, jobs
    cli.init_app(app)
    jobs.init_app(app)

    if not app.debug and not app.testing:
        app.logger.setLevel(logging.INFO)
    return app


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (registers every model on the metadata)
    from app import database, face, i18n

    i18n.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True,
                     compare_type=True, include_object=database.include_in_autogenerate)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    from app.services import accounts
    accounts.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    # translated when flashed, in the visitor's language (flask-login's default is English only)
    login_manager.login_message = "Please sign in to see this page."
    login_manager.localize_callback = gettext
    login_manager.user_loader(lambda token: accounts.load_signed_in_user(db.session, token))
    face.init_app(app)

    @app.context_processor
    def _navigation():
        from flask_login import current_user

        from app.services.policy import Can
        from app.web.access import navigation_for
        signed_in = current_user.is_authenticated
        return {"navigation": navigation_for(current_user.role if signed_in else None),
                "can": Can(db.session, current_user if signed_in else None)}


def _register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.api.attendance import bp as attendance_api_bp
    from app.api.biometrics import bp as biometrics_api_bp
    from app.web.attendance import bp as attendance_bp
    from app.web.admin import bp as admin_bp
    from app.web.audit import bp as audit_bp
    from app.web.auth import bp as auth_bp
    from app.web.biometrics import bp as biometrics_bp
    from app.web.catalogue import bp as catalogue_bp
    from app.web.main import bp as main_bp
    from app.web.subsidy import bp as subsidy_bp
    from app.web.training import bp as training_bp

    for bp in (main_bp, auth_bp, admin_bp, training_bp, catalogue_bp, api_bp, biometrics_bp,
               biometrics_api_bp, audit_bp, attendance_bp, attendance_api_bp, subsidy_bp):
        app.register_blueprint(bp)
    import lrs
    from app.database import WRITE_OPTION
    lrs.init_app(app, lambda: db.session, write_options={WRITE_OPTION: True})
    from app.web import labels
    labels.init_app(app)
