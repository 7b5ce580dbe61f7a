"""The IRIs of the SkillTrace attendance xAPI profile (docs/xapi-profile.md): verbs, context
extensions and activity types. Plain constants, so that models and services can share them."""

PROFILE = "https://skilltrace.example.org/xapi/profile/attendance"
VERBS = {
    "verified": (f"{PROFILE}/verbs/verified-face", "verified face"),
    "refused": (f"{PROFILE}/verbs/refused-verification", "refused verification"),
    "checked-in": (f"{PROFILE}/verbs/checked-in", "checked in"),
    "checked-out": (f"{PROFILE}/verbs/checked-out", "checked out"),
    "credited": (f"{PROFILE}/verbs/credited-hours", "credited hours"),
    "reversed": (f"{PROFILE}/verbs/reversed-hours", "reversed hours"),
    "accepted-held": (f"{PROFILE}/verbs/accepted-held-hours", "accepted held hours"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed"),
    "checkpointed": (f"{PROFILE}/verbs/signed-checkpoint", "signed audit checkpoint"),
    "submitted-claim": (f"{PROFILE}/verbs/submitted-claim", "submitted claim"),
    "reviewed-claim": (f"{PROFILE}/verbs/reviewed-claim", "reviewed claim"),
    "paid-claim": (f"{PROFILE}/verbs/paid-claim", "paid claim"),
}
EXT = {name: f"{PROFILE}/extensions/{name}" for name in (
    "face-distance", "match-threshold", "liveness", "device", "mode", "reason", "purpose",
    "record-id", "rule", "minutes", "theory-score", "practical-score", "evaluation-organisation",
    "checkpoint")}
ACTIVITY_CLASS = f"{PROFILE}/activity-types/training-class"
ACTIVITY_SESSION = f"{PROFILE}/activity-types/class-session"
ACTIVITY_CLAIM = f"{PROFILE}/activity-types/subsidy-claim"
