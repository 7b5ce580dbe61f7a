"""SkillTrace's own xAPI vocabulary: the verb and activity-type IRIs the app emits for
check-ins, check-outs, roll-calls and hours, so that every emitter spells them alike."""

BASE = "https://skilltrace.example.org/xapi"

VERB_CHECKED_IN = f"{BASE}/verbs/checked-in"
VERB_CHECKED_OUT = f"{BASE}/verbs/checked-out"
VERB_VERIFIED = f"{BASE}/verbs/face-verified"
VERB_FAILED_VERIFICATION = f"{BASE}/verbs/failed-face-verification"
VERB_CREDITED = f"{BASE}/verbs/credited-hours"
VERB_ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"

ACTIVITY_CLASS_SESSION = f"{BASE}/activities/class-session"
ACTIVITY_ONLINE_STUDY = f"{BASE}/activities/online-study"
ACTIVITY_ROLL_CALL = f"{BASE}/activities/roll-call"

EXT_DISTANCE = f"{BASE}/extensions/face-distance"
EXT_LIVENESS = f"{BASE}/extensions/liveness"
EXT_DEVICE = f"{BASE}/extensions/device"
EXT_MINUTES = f"{BASE}/extensions/minutes"
