"""SkillTrace models, one module per area; importing this package registers them all."""
from app.models.accounts import AccountActivation, Role, User
from app.models.appeals import Appeal, AppealStatus
from app.models.attendance import (CheckInChallenge, CheckInLock, Decision, EntryType, FaceFingerprint,
                                   FaceVerification, HourRule, HoursEntry, IntervalStatus, Kiosk,
                                   LedgerIsAppendOnly, PresenceInterval, Purpose, VerificationMode)
from app.models.audit import AuditEntry
from app.models.biometrics import (AlternativeVerification, Consent, ConsentMethod, ConsentText,
                                   DuplicateFaceFlag, FaceTemplate)
from app.models.catalogue import (DeliveryMode, EvaluationOrganisation, Occupation, Programme,
                                  ShortageListing, SkillLevel, SubsidyStandard, TrainingCategory)
from app.models.forwarding import ForwardedStatement
from app.models.jobs import scheduler_jobs  # noqa: F401
from app.models.completion import Assessment, CompletionCertificate
from app.models.classes import (ClassSession, ClassStatus, Enrolment, Exemption, SessionKind,
                                TrainingClass)
from app.models.organisation import Institution, ListingStatus
from app.models.study import HeldHours, HeldStatus, MakeUpClaim, RollCallOutcome, StudyRollCall, StudyState
from app.models.registry import PERSON_CATEGORIES, Certificate, CertificateKind, Sex, Trainee
from app.models.subsidy import ClaimStatus, SubsidyClaim, SubsidyClaimLine
from app.models import reconciliation_indexes  # noqa: F401,E402  (SQLite-only indexes on these tables)

__all__ = [
    "AccountActivation", "PERSON_CATEGORIES", "AlternativeVerification", "AuditEntry", "Certificate", "CertificateKind", "ClassSession",
    "ClassStatus", "Consent", "ConsentMethod", "ConsentText", "DeliveryMode", "DuplicateFaceFlag",
    "Enrolment", "EvaluationOrganisation", "Exemption", "FaceTemplate", "Institution",
    "ListingStatus", "Occupation", "Programme", "Role", "SessionKind", "Sex", "ShortageListing",
    "SkillLevel", "SubsidyStandard", "Trainee", "TrainingCategory", "TrainingClass", "User",
    "CheckInChallenge", "CheckInLock", "Decision", "EntryType", "FaceFingerprint", "FaceVerification", "HourRule",
    "HoursEntry", "IntervalStatus", "Kiosk", "LedgerIsAppendOnly", "PresenceInterval", "Purpose",
    "VerificationMode", "RollCallOutcome", "StudyRollCall", "StudyState", "Assessment",
    "CompletionCertificate", "ClaimStatus", "SubsidyClaim", "SubsidyClaimLine",
    "ForwardedStatement", "HeldHours", "HeldStatus", "MakeUpClaim", "Appeal", "AppealStatus",
]
