"""Who may open what: the `role_required` decorator, the trainee check that runs before a body is
read (pages and API), and the navigation each role sees."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors.exceptions import PermissionDeniedError
from app.extensions import db, login_manager
from app.models import Role
from app.services.registry import can_manage_trainee, get_trainee_or_404


def role_required(*roles: Role):
    """Let signed-in accounts with one of ``roles`` through.

    :raise 401 (redirect to sign-in): nobody is signed in.
    :raise 403: the account's role is not among ``roles``.
    """
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                raise PermissionDeniedError(_("Your role may not open this page."))
            return view(*args, **kwargs)
        return wrapped
    return decorator


def acting_for_trainee(trainee_id) -> None:
    """Authorise acting for this trainee before the body is read.

    :raise 404: unknown trainee. :raise 403: the actor may not act for them.
    """
    get_trainee_or_404(db.session, trainee_id, current_user, can_manage_trainee)


def for_trainee(view):
    """`acting_for_trainee` on the view's ``trainee_id`` before the view reads the body."""
    @wraps(view)
    def wrapped(trainee_id, *args, **kwargs):
        acting_for_trainee(trainee_id)
        return view(trainee_id, *args, **kwargs)
    return wrapped


@dataclass(frozen=True)
class NavItem:
    """A navigation link and the roles that see it."""

    endpoint: str
    label: str
    roles: frozenset[Role]


STAFF = frozenset({Role.ADMIN, Role.REVIEWER, Role.INSTRUCTOR, Role.AUDITOR})
NAVIGATION = (
    NavItem("main.index", _l("Home"), frozenset(Role)),
    NavItem("training.list_classes", _l("Classes"), STAFF),
    NavItem("catalogue.index", _l("Catalogues"), STAFF),
    NavItem("training.list_trainees", _l("Trainees"), frozenset({Role.ADMIN, Role.INSTRUCTOR, Role.AUDITOR})),
    NavItem("biometrics.show_my_biometrics", _l("Face recognition"), frozenset({Role.TRAINEE})),
    NavItem("attendance.check_in_page", _l("Check in"), frozenset({Role.TRAINEE})),
    NavItem("attendance.study_page", _l("Online study"), frozenset({Role.TRAINEE})),
    NavItem("training.my_certificates", _l("My certificates"), frozenset({Role.TRAINEE})),
    NavItem("biometrics.my_data", _l("My data"), frozenset({Role.TRAINEE})),
    NavItem("main.camera_check", _l("Camera check"), frozenset({Role.TRAINEE, Role.INSTRUCTOR, Role.ADMIN})),
    NavItem("attendance.manage_kiosks", _l("Kiosks"), frozenset({Role.INSTRUCTOR, Role.ADMIN})),
    NavItem("biometrics.list_duplicate_flags", _l("Duplicate faces"), frozenset({Role.ADMIN, Role.REVIEWER})),
    NavItem("admin.pipl_overview", _l("Face data (PIPL)"), frozenset({Role.ADMIN})),
    NavItem("training.list_reviews", _l("Confirmations"), frozenset({Role.REVIEWER})),
    NavItem("subsidy.index", _l("Subsidy claims"), frozenset({Role.ADMIN, Role.REVIEWER, Role.AUDITOR})),
    NavItem("audit.index", _l("Audit log"), frozenset({Role.AUDITOR, Role.ADMIN})),
    NavItem("audit.search", _l("Learner trace"), frozenset({Role.AUDITOR, Role.ADMIN})),
    NavItem("audit.statistics", _l("Statistics"), frozenset({Role.AUDITOR, Role.REVIEWER, Role.ADMIN})),
    NavItem("admin.list_users", _l("Accounts"), frozenset({Role.ADMIN})),
    NavItem("admin.hour_rules", _l("Hour rules"), frozenset({Role.ADMIN})),
)


def navigation_for(role: Role | None) -> list[NavItem]:
    """The links shown to ``role`` (none when signed out)."""
    return [item for item in NAVIGATION if role in item.roles] if role else []
