"""SkillTrace models, one module per area; importing this package registers them all."""
from app.models.accounts import Role, User
from app.models.catalogue import Programme, TrainingCategory
from app.models.classes import ClassStatus, Enrolment, TrainingClass
from app.models.organisation import Institution, ListingStatus
from app.models.registry import Trainee

__all__ = [
    "ClassStatus",
    "Enrolment",
    "Institution",
    "ListingStatus",
    "Programme",
    "Role",
    "Trainee",
    "TrainingCategory",
    "TrainingClass",
    "User",
]
