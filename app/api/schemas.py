"""JSON Schemas of the API's bodies and answers, for the OpenAPI document (`app/api/openapi.py`).

They describe what `app/api/serializers.py` and the views produce; the schemathesis test checks
every answer against them.
"""
from __future__ import annotations

_S = {"type": "string"}
_NS = {"type": ["string", "null"]}
_ID = {"type": "string", "format": "uuid"}
_NID = {"type": ["string", "null"], "format": "uuid"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}


def _obj(required: dict, optional: dict | None = None) -> dict:
    return {"type": "object", "properties": {**required, **(optional or {})}, "required": list(required)}


def _list_of(key: str, item: dict) -> dict:
    return _obj({key: {"type": "array", "items": item}})


ENTRY = _obj({"id": _ID, "code": _S, "name": _S, "status": _S, "status_reason": _NS},
             {"category": _S, "level": _NS, "theory_hours": _INT, "practice_hours": _INT,
              "delivery_mode": _S, "standards": {"type": "array", "items": _obj(
                  {"amount": _S, "effective_from": {"type": "string", "format": "date"}})}})
TRAINEE = _obj({"id": _ID, "name": _S, "id_number": _S, "birth_year": _INT,
                "sex": _S, "phone": _S, "category": _S, "employer": _NS},
               {"birth_date": {"type": "string", "format": "date"}})  # only beside the full number
CLASS = _obj({"id": _ID, "code": _S, "name": _S, "status": _S, "institution_id": _ID, "programme_id": _ID,
              "start_date": _S, "end_date": _S},
             {"roster_size": _INT, "teaching_plan": _NS, "resources": _NS, "assessment_plan": _NS,
              "review_comment": _NS, "sessions": {"type": "array"}, "instructors": {"type": "array"},
              "roster": {"type": "array"}})
CONSENT = _obj({"id": _ID, "version": _S, "method": _S, "given_at": _NS, "withdrawn_at": _NS,
                "recorded_by": _NS})
ATTEMPT = _obj({"accepted": _BOOL, "purpose": _NS, "message": _NS, "verification_id": _NID,
                "interval_id": _NID, "minutes_credited": {"type": ["integer", "null"]},
                "distance": {"type": ["number", "null"]}})
_SESSION = _obj({"starts_at": {"type": "string", "format": "date-time"},
                 "ends_at": {"type": "string", "format": "date-time"}, "kind": _S},
                {"place": _S, "online": _BOOL})

SCHEMAS: dict[str, dict] = {
    "Error": _obj({"error": _S, "message": _S}, {"status": _INT, "errors": {"type": "object"}}),
    "Entry": ENTRY,
    "EntryList": _list_of("entries", ENTRY),
    "NewEntry": _obj({"code": _S, "name": _S}),
    "ListingStatus": _obj({"listed": _BOOL, "reason": _S}),
    "NewProgramme": _obj({"code": _S, "name": _S, "occupation_id": _ID, "level": _S, "category": _S,
                          "delivery_mode": _S, "theory_hours": _INT, "practice_hours": _INT,
                          "subsidy_amount": _S, "subsidy_from": {"type": "string", "format": "date"}}),
    "Class": CLASS,
    "ClassList": _list_of("classes", CLASS),
    "NewClass": _obj({"code": _S, "name": _S, "institution_id": _ID, "programme_id": _ID,
                      "sessions": {"type": "array", "items": _SESSION}},
                     {"instructor_ids": {"type": "array", "items": _ID},
                      "trainee_ids": {"type": "array", "items": _ID}, "teaching_plan": _S,
                      "resources": _S, "assessment_plan": _S}),
    "Review": _obj({"approve": _BOOL}, {"comment": _S}),
    "RosterReport": _obj({"rows": _INT, "registered": _INT, "enrolled": _INT, "already_enrolled": _INT,
                          "refused": {"type": "array", "items": _obj({"line": _INT, "reason": _S})}}),
    "Trainee": TRAINEE,
    "TraineeList": _list_of("trainees", TRAINEE),
    "NewTrainee": _obj({"name": _S, "id_number": _S, "phone": _S, "category": _S}, {"employer": _S}),
    "TraineePatch": _obj({}, {"phone": _S, "category": _S, "employer": _S}),
    "Biometrics": _obj({"trainee": _obj({"id": _ID, "name": _S, "id_number": _S}),
                        "consent_text": _obj({"version": _S, "body": _S, "retention_days": _INT}),
                        "consent": {"anyOf": [CONSENT, {"type": "null"}]},
                        "template": {"type": ["object", "null"]},
                        "alternative_verification": {"type": ["object", "null"]}}),
    "Consent": CONSENT,
    "ConsentInput": _obj({"version": _S}, {"method": {"type": "string", "enum": ["on_screen", "paper"]}}),
    "Withdrawal": _obj({"templates_deleted": _INT}),
    "Reason": _obj({"reason": _S}),
    "Alternative": _obj({"id": _ID, "reason": _S, "arranged_at": _NS}),
    "FrameCheck": _obj({"ok": _BOOL, "reason": _NS, "message": _NS}, {"quality": {"type": ["object", "null"]}}),
    "Enrolled": _obj({"template_id": _ID, "trainee_id": _ID, "encoder": _S, "captures": _INT,
                      "replaced": _BOOL, "message": _S}),
    "FlagList": _list_of("flags", {"type": "object"}),
    "Note": _obj({}, {"note": _S}),
    "Resolved": _obj({"id": _ID, "resolved_at": _NS}),
    "Purpose": _obj({"purpose": {"type": "string", "enum": ["check_in", "check_out", "roll_call"]}}),
    "Conversation": _obj({"nonce": _S, "purpose": _S, "expires_at": _S}),
    "FrameAnswer": _obj({"phase": {"type": "string", "enum": ["waiting", "acting", "done", "failed", "expired"]},
                         "face": _BOOL, "hint": _S},
                        {"prompt": _obj({"step": _INT, "action": _S, "text": _S}), "reason": _S, "message": _S}),
    "Attempt": ATTEMPT,
    "Refusal": {"allOf": [ATTEMPT, _obj({"error": _S, "message": _NS})]},
    "AlternativeCheck": _obj({"purpose": {"type": "string", "enum": ["check_in", "check_out"]}},
                             {"note": _S}),
    "Unlocked": _obj({"unlocked_at": _S}),
    "KioskEnrolment": _obj({"code": _S, "public_key": _S}),
    "KioskBound": _obj({"key": _S, "name": _S, "site": _S}),
    "Reversal": _obj({"id": _ID, "minutes": _INT, "reverses_id": _ID, "statement_id": _ID}),
    "Heartbeat": _obj({}, {"visible": _BOOL, "active": _BOOL, "interactions": _INT}),
    "StudyStatus": _obj({}, {"studying": _BOOL}),
    "CsrfToken": _obj({"csrf_token": _S, "lifetime_seconds": _INT}),
}
