"""Template helpers: the interface language and translated names of roles and statuses."""
from flask_babel import get_locale
from flask_login import current_user
from flask_babel import lazy_gettext as _l

from app.clock import local_today
from app.models import ClassStatus, DeliveryMode, Role, SkillLevel, TrainingCategory, VerificationMode
from app.services.policy import can_see_full_id
from app.services.registry import mask_account
from app.services.resident_id import mask_resident_id

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
    ClassStatus.WITHDRAWN: _l("Withdrawn"),
}


SKILL_LEVEL_LABELS = {
    SkillLevel.LEVEL_5: _l("Level 5 / junior worker"),
    SkillLevel.LEVEL_4: _l("Level 4 / intermediate worker"),
    SkillLevel.LEVEL_3: _l("Level 3 / senior worker"),
    SkillLevel.LEVEL_2: _l("Level 2 / technician"),
    SkillLevel.LEVEL_1: _l("Level 1 / senior technician"),
}


CATEGORY_LABELS = {
    TrainingCategory.EMPLOYMENT: _l("Employment skills"),
    TrainingCategory.UPGRADING: _l("On-the-job upgrading"),
    TrainingCategory.ENTREPRENEURSHIP: _l("Entrepreneurship"),
    TrainingCategory.APPRENTICESHIP: _l("Enterprise new apprenticeship"),
    TrainingCategory.HIGH_SKILL: _l("High-skill talent"),
}
DELIVERY_MODE_LABELS = {
    DeliveryMode.OFFLINE: _l("Offline"),
    DeliveryMode.ONLINE: _l("Online"),
    DeliveryMode.BLENDED: _l("Blended"),
}

VERIFICATION_MODE_LABELS = {
    VerificationMode.PERSONAL: _l("Face, own device"),
    VerificationMode.KIOSK: _l("Face, kiosk"),
    VerificationMode.ALTERNATIVE: _l("ID-card check"),
    VerificationMode.CORRECTION: _l("Instructor's correction"),
    VerificationMode.APPEAL: _l("Approved appeal"),
}


def verification_mode_label(mode: VerificationMode) -> str:
    """How a person was verified, in words."""
    return VERIFICATION_MODE_LABELS[VerificationMode(mode)]


def category_label(category: TrainingCategory) -> str:
    return CATEGORY_LABELS[category]


def delivery_mode_label(mode: DeliveryMode) -> str:
    return DELIVERY_MODE_LABELS[mode]


def shown_id_number(number: str) -> str:
    """The full ID number for administrators, the masked one for everyone else."""
    full = current_user.is_authenticated and can_see_full_id(current_user)
    return number if full else mask_resident_id(number)


def shown_account(account: str) -> str:
    """A payee account in full for those who see full ID numbers, else its last four digits."""
    full = current_user.is_authenticated and can_see_full_id(current_user)
    return account if full else mask_account(account)


def skill_level_label(level: SkillLevel | None) -> str:
    return SKILL_LEVEL_LABELS[level] if level else "—"


def role_label(role: Role) -> str:
    """The role's name in the interface language."""
    return ROLE_LABELS[role]


def class_status_label(status: ClassStatus) -> str:
    """The class status in the interface language."""
    return CLASS_STATUS_LABELS[status]


def init_app(app) -> None:
    """Make the helpers available in every template."""
    app.jinja_env.globals.update(get_locale=get_locale, role_label=role_label, local_today=local_today,
                                 class_status_label=class_status_label,
                                 skill_level_label=skill_level_label,
                                 shown_id_number=shown_id_number, shown_account=shown_account,
                                 category_label=category_label,
                                 delivery_mode_label=delivery_mode_label,
                                 verification_mode_label=verification_mode_label)
