"""`GET /api/openapi.json`: the OpenAPI 3.1 document of the JSON API (not the LRS, see docs/xapi.md).

Built with apispec and its Flask plugin, which turn each view's URL rule into an OpenAPI path; the
views keep their hand-written parsing, and this module states what each one takes and answers.
A test fails when an `/api/` route is missing here; schemathesis fuzzes the document against the app.
"""
from __future__ import annotations

from apispec import APISpec
from apispec_webframeworks.flask import FlaskPlugin
from flask import current_app

from app.api import bp
from app.api.schemas import SCHEMAS
from app.extensions import limiter
from app.queries.catalogue import LISTED_MODELS

ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 423, 429, 503)
UUID_PARAMETER = {"type": "string", "format": "uuid"}
_JSON = "application/json"
_MULTIPART = "multipart/form-data"

# endpoint: (summary, request body schema or "frames"/"frame"/"nonce"/"file" for uploads, status, response)
OPERATIONS: dict[str, tuple[str, str | None, int, str]] = {
    "api.list_catalogue": ("List a catalogue", None, 200, "EntryList"),
    "api.create_catalogue_entry": ("Add a catalogue entry", "NewEntry", 201, "Entry"),
    "api.set_catalogue_status": ("Revoke or re-list an entry", "ListingStatus", 200, "Entry"),
    "api.create_programme": ("Add a programme with its first subsidy standard", "NewProgramme", 201, "Entry"),
    "api.list_classes": ("List classes", None, 200, "ClassList"),
    "api.create_class": ("Draft a class-opening application", "NewClass", 201, "Class"),
    "api.get_class": ("Read a class", None, 200, "Class"),
    "api.submit": ("Submit an application", None, 200, "Class"),
    "api.review": ("Approve or reject an application", "Review", 200, "Class"),
    "api.import_roster_file": ("Import a roster (.csv or .xlsx)", "file", 200, "RosterReport"),
    "api.list_trainees": ("List trainees", None, 200, "TraineeList"),
    "api.create_trainee": ("Register a trainee", "NewTrainee", 201, "Trainee"),
    "api.get_trainee": ("Read a trainee", None, 200, "Trainee"),
    "api.patch_trainee": ("Correct phone, category or employer", "TraineePatch", 200, "Trainee"),
    "biometrics_api.get_trainee_biometrics": ("A trainee's consent and enrolment", None, 200, "Biometrics"),
    "biometrics_api.get_my_biometrics": ("My consent and enrolment", None, 200, "Biometrics"),
    "biometrics_api.give_trainee_consent": ("Record consent", "ConsentInput", 201, "Consent"),
    "biometrics_api.give_my_consent": ("Give my consent", "ConsentInput", 201, "Consent"),
    "biometrics_api.withdraw_trainee_consent": ("Withdraw consent, delete the template", None, 200, "Withdrawal"),
    "biometrics_api.withdraw_my_consent": ("Withdraw my consent", None, 200, "Withdrawal"),
    "biometrics_api.arrange_alternative_verification": ("Arrange the ID-card alternative", "Reason", 201,
                                                        "Alternative"),
    "biometrics_api.check_trainee_frame": ("Check one enrolment frame", "frame", 200, "FrameCheck"),
    "biometrics_api.check_my_frame": ("Check one frame of mine", "frame", 200, "FrameCheck"),
    "biometrics_api.enrol_trainee_face": ("Enrol a face from frames", "frames", 201, "Enrolled"),
    "biometrics_api.enrol_my_face": ("Enrol my face", "frames", 201, "Enrolled"),
    "biometrics_api.list_duplicate_flags": ("Open duplicate-face flags", None, 200, "FlagList"),
    "biometrics_api.resolve_duplicate_flag": ("Resolve a duplicate-face flag", "Note", 200, "Resolved"),
    "attendance_api.check_me_in": ("Check in (1:1)", "nonce", 200, "Attempt"),
    "attendance_api.check_me_out": ("Check out (1:1)", "nonce", 200, "Attempt"),
    "attendance_api.start_my_check": ("Start a server-paced check", "Purpose", 201, "Conversation"),
    "attendance_api.my_frame": ("One frame of a paced check", "frame", 200, "FrameAnswer"),
    "attendance_api.start_kiosk_check": ("Start a server-paced check at a kiosk", "Purpose", 201, "Conversation"),
    "attendance_api.kiosk_frame": ("One frame of a kiosk's paced check", "frame", 200, "FrameAnswer"),
    "attendance_api.kiosk_check_in": ("Check in at a kiosk (1:N)", "nonce", 200, "Attempt"),
    "attendance_api.kiosk_check_out": ("Check out at a kiosk (1:N)", "nonce", 200, "Attempt"),
    "attendance_api.enrol_kiosk": ("Bind a kiosk's device key with its one-time code", "KioskEnrolment", 201,
                                   "KioskBound"),
    "attendance_api.check_alternative": ("ID-card check by an instructor", "AlternativeCheck", 200, "Attempt"),
    "attendance_api.unlock": ("Lift a lock-out", "Reason", 200, "Unlocked"),
    "attendance_api.reverse": ("Reverse a ledger entry", "Reason", 201, "Reversal"),
    "attendance_api.start_study": ("Start online study", "nonce", 200, "Attempt"),
    "attendance_api.end_study": ("End online study", "nonce", 200, "Attempt"),
    "attendance_api.study_heartbeat": ("A study-page heartbeat", "Heartbeat", 200, "StudyStatus"),
    "attendance_api.answer_roll_call": ("Answer a roll-call", "nonce", 200, "Attempt"),
    "attendance_api.study_status": ("My online study", None, 200, "StudyStatus"),
    "attendance_api.study_token": ("A fresh CSRF token for the study page", None, 200, "CsrfToken"),
}
KIOSK_ENDPOINTS = {"attendance_api.kiosk_check_in", "attendance_api.kiosk_check_out",
                   "attendance_api.start_kiosk_check", "attendance_api.kiosk_frame"}
_UPLOADS = {
    "frames": {"frames": {"type": "array", "items": {"type": "string", "format": "binary"}},
               "nonce": {"type": "string"}},
    "frame": {"frame": {"type": "string", "format": "binary"}},
    "nonce": {"nonce": {"type": "string"}},
    "file": {"file": {"type": "string", "format": "binary"}},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _request_body(kind: str) -> dict:
    if kind in _UPLOADS:
        schema = {"type": "object", "properties": _UPLOADS[kind], "required": list(_UPLOADS[kind])}
        return {"required": True, "content": {_MULTIPART: {"schema": schema}}}
    return {"required": True, "content": {_JSON: {"schema": _ref(kind)}}}


def _parameters(rule) -> list[dict]:
    params = []
    for name, converter in rule._converters.items():
        schema = dict(UUID_PARAMETER) if type(converter).__name__ == "UUIDConverter" else {"type": "string"}
        if name == "kind":
            schema = {"type": "string", "enum": sorted(LISTED_MODELS)}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _security(endpoint: str) -> list[dict]:
    if endpoint == "attendance_api.enrol_kiosk":
        return []  # the one-time code in the body is the credential
    return [{"kiosk": []}] if endpoint in KIOSK_ENDPOINTS else [{"session": [], "csrf": []}]


def _operation(endpoint: str, rule) -> dict:
    summary, body, status, response = OPERATIONS[endpoint]
    errors = {str(s): {"description": "error", "content": {_JSON: {"schema": _ref("Error")}}}
              for s in ERROR_STATUSES}
    if response == "Attempt":  # a refused check answers 409/423 with the attempt and its reason
        errors["409"] = errors["423"] = {"description": "refused",
                                         "content": {_JSON: {"schema": _ref("Refusal")}}}
    operation = {"summary": summary, "operationId": endpoint, "parameters": _parameters(rule),
                 "responses": {str(status): {"description": "done",
                                             "content": {_JSON: {"schema": _ref(response)}}}, **errors},
                 "security": _security(endpoint)}
    if body:
        operation["requestBody"] = _request_body(body)
    return operation


def build_spec(app) -> dict:
    """The OpenAPI document of every `/api/` route of ``app`` that is described in OPERATIONS."""
    spec = APISpec(title="SkillTrace API", version="1", openapi_version="3.1.0", plugins=[FlaskPlugin()],
                   info={"description": "Sign in through /login; send the CSRF token as X-CSRFToken."})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    spec.components.security_scheme("csrf", {"type": "apiKey", "in": "header", "name": "X-CSRFToken"})
    spec.components.security_scheme("kiosk", {
        "type": "apiKey", "in": "header", "name": "X-Kiosk-Signature",
        "description": "ECDSA P-256 over METHOD, path, X-Kiosk-Time, X-Kiosk-Nonce and the body's SHA-256, "
                       "with X-Kiosk-Key; see app/services/kiosks.py"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPERATIONS and rule.rule.startswith("/api/"):
            method = next(iter(rule.methods - {"HEAD", "OPTIONS"})).lower()
            spec.path(view=app.view_functions[rule.endpoint], app=app,
                      operations={method: _operation(rule.endpoint, rule)})
    return spec.to_dict()


@bp.get("/openapi.json")
@limiter.exempt
def openapi_document():
    """200: the OpenAPI 3.1 document of the JSON API (public: it holds no data)."""
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = current_app.extensions["openapi_document"] = build_spec(current_app)
    return document
