"""Template helpers: the interface language and translated names of roles and statuses."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.models import ClassStatus, Role

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.REVIEWER: _l("Reviewer"),
    Role.INSTRUCTOR: _l("Instructor"),
    Role.AUDITOR: _l("Auditor"),
    Role.TRAINEE: _l("Trainee"),
}
CLASS_STATUS_LABELS = {
    ClassStatus.DRAFT: _l("Draft"),
    ClassStatus.SUBMITTED: _l("Submitted"),
    ClassStatus.APPROVED: _l("Approved"),
    ClassStatus.REJECTED: _l("Rejected"),
    ClassStatus.RUNNING: _l("Running"),
    ClassStatus.COMPLETED: _l("Completed"),
}


def role_label(role: Role) -> str:
    """The role's name in the interface language."""
    return ROLE_LABELS[role]


def class_status_label(status: ClassStatus) -> str:
    """The class status in the interface language."""
    return CLASS_STATUS_LABELS[status]


def init_app(app) -> None:
    """Make the helpers available in every template."""
    app.jinja_env.globals.update(get_locale=get_locale, role_label=role_label,
                                 class_status_label=class_status_label)
