"""Who may use each id-bearing route on an object of institution A: one line per `METHOD rule`
of `app.url_map` whose rule carries an id (``<uuid:…>``).

A route with an id missing from this table fails `test_object_scope.py`; add one line when you
add such a route. Values: the province-wide roles (``admin``, ``reviewer``, ``auditor``) that the
route lets through, and ``own`` when A's own instructor (named on A's class) may use it. An
instructor of another institution B is never listed: every route must refuse them on A's objects
(a read 403 or 404, a write 403) and change nothing. `access_table.py` says which roles reach a
route at all; this table says whose objects they reach.
"""
from __future__ import annotations

PROVINCE = frozenset({"admin", "reviewer", "auditor"})
READ_CLASS = frozenset({"admin", "reviewer", "auditor", "own"})
READ_TRAINEE = frozenset({"admin", "auditor", "own"})
ACT = frozenset({"admin", "own"})
ADMIN = frozenset({"admin"})
AUDIT = frozenset({"admin", "auditor"})
DUPLICATE_REVIEW = frozenset({"admin", "reviewer"})

SCOPE: dict[str, frozenset[str]] = {
    # classes, their sessions, attendance and session logs (pages)
    "GET /classes/<uuid:class_id>": READ_CLASS,
    "POST /classes/<uuid:class_id>/submit": ACT,
    "POST /classes/<uuid:class_id>/review": frozenset({"reviewer"}),
    "POST /classes/<uuid:class_id>/roster": ACT,
    "POST /classes/<uuid:class_id>/complete": ACT,
    "GET /classes/<uuid:class_id>/attendance": READ_CLASS,
    "GET /classes/<uuid:class_id>/sessions/<uuid:session_id>/log": READ_CLASS,
    "POST /classes/<uuid:class_id>/attendance/unlock/<uuid:trainee_id>": ACT,
    "POST /classes/<uuid:class_id>/attendance/reverse/<uuid:entry_id>": ACT,
    "POST /classes/<uuid:class_id>/attendance/alternative/<uuid:trainee_id>": ACT,
    "POST /classes/<uuid:class_id>/attendance/correct/<uuid:interval_id>": ACT,
    "GET /classes/<uuid:class_id>/held": ACT,
    "POST /classes/<uuid:class_id>/held/decide": ACT,
    "GET /classes/<uuid:class_id>/held/<uuid:held_id>/frames/<uuid:verification_id>/<int:n>": frozenset({"own"}),
    "GET /classes/<uuid:class_id>/appeals": ACT,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/decide": ACT,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witness": ACT,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witness/<nonce>/frame": ACT,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witnessed-approval": ACT,
    "GET /classes/<uuid:class_id>/edit": ACT,
    "POST /classes/<uuid:class_id>/edit": ACT,
    "POST /classes/<uuid:class_id>/withdraw": ACT,
    "POST /classes/<uuid:class_id>/activation-slips": ACT,
    "POST /kiosks/<uuid:kiosk_id>/revoke": ACT,
    "GET /classes/<uuid:class_id>/evidence.pdf": READ_CLASS,
    "GET /classes/<uuid:class_id>/evidence.xlsx": READ_CLASS,
    # enrolments and completion certificates (pages)
    "POST /enrolments/<uuid:enrolment_id>/assessment": ACT,
    "POST /enrolments/<uuid:enrolment_id>/certificate": ACT,
    "POST /enrolments/<uuid:enrolment_id>/exemptions": ACT,
    "POST /reviews/exemptions/<uuid:exemption_id>/confirm": frozenset({"reviewer"}),
    "POST /reviews/alternatives/<uuid:arrangement_id>/confirm": frozenset({"reviewer"}),
    "GET /certificates/<uuid:certificate_id>": READ_CLASS,
    # trainees (pages)
    "GET /trainees/<uuid:trainee_id>": READ_TRAINEE,
    "POST /trainees/<uuid:trainee_id>/certificates": ACT,
    "POST /trainees/<uuid:trainee_id>/activation-code": ACT,
    "GET /trainees/<uuid:trainee_id>/biometrics": ACT,
    "GET /trainees/<uuid:trainee_id>/biometrics/enrol": ACT,
    "POST /trainees/<uuid:trainee_id>/biometrics/consent": ACT,
    "POST /trainees/<uuid:trainee_id>/biometrics/withdraw": ACT,
    "POST /trainees/<uuid:trainee_id>/biometrics/alternative": ACT,
    # subsidy claims and their exports
    "GET /subsidy/classes/<uuid:class_id>": READ_CLASS,
    "POST /subsidy/classes/<uuid:class_id>/prepare": ACT,
    "GET /subsidy/claims/<uuid:claim_id>.xlsx": READ_CLASS,
    "GET /subsidy/claims/<uuid:claim_id>.csv": READ_CLASS,
    "GET /subsidy/lines/<uuid:line_id>": READ_CLASS,
    "POST /subsidy/claims/<uuid:claim_id>/submit": ACT,
    "POST /subsidy/claims/<uuid:claim_id>/review": frozenset({"reviewer"}),
    "POST /subsidy/claims/<uuid:claim_id>/paid": frozenset({"reviewer", "admin"}),
    # audit trace, its exports and the statements (province only)
    "GET /audit/trainees/<uuid:trainee_id>": AUDIT,
    "GET /audit/trainees/<uuid:trainee_id>/trace.xlsx": AUDIT,
    "GET /audit/trainees/<uuid:trainee_id>/trace.pdf": AUDIT,
    "GET /audit/statements/<uuid:statement_id>": AUDIT,
    # catalogues, duplicate-face flags and accounts (province objects, administrators)
    "POST /catalogue/<kind>/<uuid:entry_id>/status": ADMIN,
    "POST /catalogue/programmes/<uuid:programme_id>/standards": ADMIN,
    "POST /admin/duplicate-faces/<uuid:flag_id>/resolve": DUPLICATE_REVIEW,
    "GET /admin/users/<uuid:user_id>": ADMIN,
    "POST /admin/users/<uuid:user_id>": ADMIN,
    "POST /admin/users/<uuid:user_id>/password": ADMIN,
    "POST /api/catalogue/<kind>/<uuid:entry_id>/status": ADMIN,
    "POST /api/duplicate-faces/<uuid:flag_id>/resolve": DUPLICATE_REVIEW,
    # JSON API: classes and trainees
    "GET /api/classes/<uuid:class_id>": READ_CLASS,
    "POST /api/classes/<uuid:class_id>/submit": ACT,
    "POST /api/classes/<uuid:class_id>/review": frozenset({"reviewer"}),
    "POST /api/classes/<uuid:class_id>/roster": ACT,
    "GET /api/trainees/<uuid:trainee_id>": READ_TRAINEE,
    "PATCH /api/trainees/<uuid:trainee_id>": ACT,
    # JSON API: biometrics, attendance, hours
    "GET /api/trainees/<uuid:trainee_id>/biometrics": ACT,
    "POST /api/trainees/<uuid:trainee_id>/consent": ACT,
    "DELETE /api/trainees/<uuid:trainee_id>/consent": ACT,
    "POST /api/trainees/<uuid:trainee_id>/alternative-verification": ACT,
    "POST /api/trainees/<uuid:trainee_id>/face": ACT,
    "POST /api/trainees/<uuid:trainee_id>/face/check": ACT,
    "POST /api/trainees/<uuid:trainee_id>/attendance/alternative": ACT,
    "POST /api/trainees/<uuid:trainee_id>/attendance/unlock": ACT,
    "POST /api/hours/<uuid:entry_id>/reversal": ACT,
}
