"""Flask extensions, created unbound here and bound to the app by `create_app`."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask import request
from flask_login import current_user
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError

from app.models.base import Base



class FormSafeCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF check, refusing (400) a multipart part without a name (Flask-WTF 1.3
    looks for prefixed token fields with ``key.endswith`` and fails with a 500 on such a part),
    and leaving anonymous JSON API calls to the views' 401."""

    def protect(self, apply_exemptions=False):
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return None  # an exempt view bounds its body before anything reads the form
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return None  # no session to abuse: the view answers 401, not a CSRF 400
        if request.mimetype == "multipart/form-data" and None in request.form:
            raise CSRFError("A form field has no name.")
        return super().protect()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = FormSafeCSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
