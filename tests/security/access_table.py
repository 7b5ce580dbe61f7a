"""Who may use each route: one line per `METHOD rule` of `app.url_map`.

A route missing from this table fails `test_access.py`; add one line when you add a route.
Values are the principals let through: roles, ``anonymous``, ``kiosk`` (requests signed with a kiosk's
device key) and ``lrs:<scope>`` (an xAPI credential with that one scope). HEAD and OPTIONS are left out
(HEAD mirrors GET; OPTIONS is the CORS preflight).
"""
from __future__ import annotations

ANONYMOUS = "anonymous"
ROLES = ("trainee", "instructor", "reviewer", "auditor", "admin")
LRS_SCOPES = ("statements/write", "statements/read", "statements/read/mine", "state", "define",
              "profile", "all/read", "all")
PRINCIPALS = (ANONYMOUS, *ROLES, "kiosk", *(f"lrs:{s}" for s in LRS_SCOPES))

EVERYONE = frozenset(PRINCIPALS)
SIGNED_IN = frozenset(ROLES)
STAFF = frozenset({"admin", "reviewer", "instructor", "auditor"})
READERS = frozenset({"admin", "instructor", "auditor"})
ACTORS = frozenset({"admin", "instructor"})
ADMIN = frozenset({"admin"})
TRAINEE = frozenset({"trainee"})
KIOSK = frozenset({"kiosk"})
DUPLICATE_REVIEW = frozenset({"admin", "reviewer"})
NOBODY: frozenset[str] = frozenset()


def lrs(*scopes: str) -> frozenset[str]:
    return frozenset(f"lrs:{s}" for s in scopes)


LRS_READ_STATEMENTS = lrs("statements/read", "statements/read/mine", "all/read", "all")
LRS_READ_ANY = lrs("all/read", "statements/read", "state", "profile", "define", "all")

ACCESS: dict[str, frozenset[str]] = {
    # main, auth
    "GET /": SIGNED_IN,
    "GET /healthz": EVERYONE,
    "GET /language/<code>": EVERYONE,
    "GET /static/<path:filename>": EVERYONE,
    "GET /camera": frozenset({"trainee", "instructor", "admin"}),
    "GET /login": EVERYONE,
    "POST /login": EVERYONE,
    "GET /activate": EVERYONE,
    "POST /activate": EVERYONE - SIGNED_IN,  # signed-in accounts are told to sign out first
    "POST /logout": SIGNED_IN,
    "GET /account/password": SIGNED_IN,
    "POST /account/password": SIGNED_IN,
    # administration
    "GET /admin/users": ADMIN,
    "POST /admin/users": ADMIN,
    "GET /admin/hour-rules": ADMIN,
    "POST /admin/hour-rules": ADMIN,
    "GET /admin/users/<uuid:user_id>": ADMIN,
    "POST /admin/users/<uuid:user_id>": ADMIN,
    "POST /admin/users/<uuid:user_id>/password": ADMIN,
    "GET /admin/duplicate-faces": DUPLICATE_REVIEW,
    "POST /admin/duplicate-faces/<uuid:flag_id>/resolve": DUPLICATE_REVIEW,
    "GET /admin/pipl": ADMIN,
    "GET /admin/pipl/record.csv": ADMIN,
    "GET /admin/pipl/record.xlsx": ADMIN,
    "GET /audit/": frozenset({"auditor", "admin"}),
    "GET /audit/statistics": frozenset({"auditor", "reviewer", "admin"}),
    "GET /audit/trainees": frozenset({"auditor", "admin"}),
    "POST /audit/trainees": frozenset({"auditor", "admin"}),
    "GET /audit/trainees/<uuid:trainee_id>": frozenset({"auditor", "admin"}),
    "GET /audit/trainees/<uuid:trainee_id>/trace.xlsx": frozenset({"auditor", "admin"}),
    "GET /audit/trainees/<uuid:trainee_id>/trace.pdf": frozenset({"auditor", "admin"}),
    "GET /audit/statements/<uuid:statement_id>": frozenset({"auditor", "admin"}),
    # subsidy claims
    "GET /subsidy/": frozenset({"admin", "reviewer", "auditor"}),
    "GET /subsidy/classes/<uuid:class_id>": STAFF,
    "POST /subsidy/classes/<uuid:class_id>/prepare": ACTORS,
    "GET /subsidy/claims/<uuid:claim_id>.xlsx": STAFF,
    "GET /subsidy/claims/<uuid:claim_id>.csv": STAFF,
    "POST /subsidy/claims/<uuid:claim_id>/submit": ACTORS,
    "POST /subsidy/claims/<uuid:claim_id>/review": frozenset({"reviewer"}),
    "POST /subsidy/claims/<uuid:claim_id>/paid": frozenset({"reviewer", "admin"}),
    "GET /subsidy/notices": EVERYONE,
    "GET /subsidy/lines/<uuid:line_id>": STAFF,
    # catalogues
    "GET /catalogue/": STAFF,
    "POST /catalogue/<kind>": ADMIN,
    "POST /catalogue/<kind>/<uuid:entry_id>/status": ADMIN,
    "POST /catalogue/programmes": ADMIN,
    "POST /catalogue/programmes/<uuid:programme_id>/standards": ADMIN,
    "POST /catalogue/shortage": ADMIN,
    # classes and trainees (pages)
    "GET /classes": STAFF,
    "GET /classes/new": ACTORS,
    "POST /classes/new": ACTORS,
    "GET /classes/<uuid:class_id>": STAFF,
    "POST /classes/<uuid:class_id>/complete": ACTORS,
    "POST /enrolments/<uuid:enrolment_id>/assessment": ACTORS,
    "POST /enrolments/<uuid:enrolment_id>/certificate": ACTORS,
    "GET /certificates/<uuid:certificate_id>": STAFF,
    "GET /me/certificates": TRAINEE,
    "POST /classes/<uuid:class_id>/submit": ACTORS,
    "POST /classes/<uuid:class_id>/review": frozenset({"reviewer"}),
    "GET /reviews": frozenset({"reviewer"}),
    "POST /reviews/exemptions/<uuid:exemption_id>/confirm": frozenset({"reviewer"}),
    "POST /reviews/alternatives/<uuid:arrangement_id>/confirm": frozenset({"reviewer"}),
    "POST /classes/<uuid:class_id>/roster": ACTORS,
    "GET /classes/roster-template.xlsx": ACTORS,
    "POST /enrolments/<uuid:enrolment_id>/exemptions": ACTORS,
    "GET /trainees": READERS,
    "GET /trainees/new": ACTORS,
    "POST /trainees/new": ACTORS,
    "GET /trainees/<uuid:trainee_id>": READERS,
    "POST /trainees/<uuid:trainee_id>/certificates": ACTORS,
    "POST /trainees/<uuid:trainee_id>/activation-code": ACTORS,
    "POST /classes/<uuid:class_id>/activation-slips": ACTORS,
    "GET /classes/<uuid:class_id>/edit": ACTORS,
    "POST /classes/<uuid:class_id>/edit": ACTORS,
    "POST /classes/<uuid:class_id>/withdraw": ACTORS,
    "GET /classes/<uuid:class_id>/evidence.pdf": STAFF,
    "GET /classes/<uuid:class_id>/evidence.xlsx": STAFF,
    # attendance (pages)
    "GET /me/attendance": TRAINEE,
    "GET /me/study": TRAINEE,
    "GET /kiosk": EVERYONE,
    "GET /kiosks": ACTORS,
    "POST /kiosks": ACTORS,
    "POST /kiosks/<uuid:kiosk_id>/revoke": ACTORS,
    "GET /classes/<uuid:class_id>/attendance": STAFF,
    "GET /classes/<uuid:class_id>/sessions/<uuid:session_id>/log": STAFF,
    "POST /classes/<uuid:class_id>/attendance/unlock/<uuid:trainee_id>": ACTORS,
    "GET /classes/<uuid:class_id>/held": ACTORS,
    "GET /classes/<uuid:class_id>/appeals": ACTORS,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/decide": ACTORS,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witness": ACTORS,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witness/<nonce>/frame": ACTORS,
    "POST /classes/<uuid:class_id>/appeals/<uuid:appeal_id>/witnessed-approval": ACTORS,
    "GET /me/appeals": TRAINEE,
    "GET /me/makeup": TRAINEE,
    "POST /me/makeup": TRAINEE,
    "POST /me/appeals": TRAINEE,
    "POST /classes/<uuid:class_id>/held/decide": ACTORS,
    "GET /classes/<uuid:class_id>/held/<uuid:held_id>/frames/<uuid:verification_id>/<int:n>": frozenset({"instructor"}),
    "POST /classes/<uuid:class_id>/attendance/reverse/<uuid:entry_id>": ACTORS,
    "POST /classes/<uuid:class_id>/attendance/correct/<uuid:interval_id>": ACTORS,
    "POST /classes/<uuid:class_id>/attendance/alternative/<uuid:trainee_id>": ACTORS,
    # biometrics (pages)
    "GET /me/biometrics": TRAINEE,
    "GET /me/data": TRAINEE,
    "GET /me/data.json": TRAINEE,
    "GET /me/biometrics/enrol": TRAINEE,
    "POST /me/biometrics/consent": TRAINEE,
    "POST /me/biometrics/withdraw": TRAINEE,
    "GET /trainees/<uuid:trainee_id>/biometrics": ACTORS,
    "GET /trainees/<uuid:trainee_id>/biometrics/enrol": ACTORS,
    "POST /trainees/<uuid:trainee_id>/biometrics/consent": ACTORS,
    "POST /trainees/<uuid:trainee_id>/biometrics/withdraw": ACTORS,
    "POST /trainees/<uuid:trainee_id>/biometrics/alternative": ACTORS,
    # JSON API: catalogues, classes, trainees
    "GET /api/openapi.json": EVERYONE,
    "GET /api/catalogue/<kind>": STAFF,
    "POST /api/catalogue/<kind>": ADMIN,
    "POST /api/catalogue/<kind>/<uuid:entry_id>/status": ADMIN,
    "POST /api/programmes": ADMIN,
    "GET /api/classes": STAFF,
    "POST /api/classes": ACTORS,
    "GET /api/classes/<uuid:class_id>": STAFF,
    "POST /api/classes/<uuid:class_id>/submit": ACTORS,
    "POST /api/classes/<uuid:class_id>/review": frozenset({"reviewer"}),
    "POST /api/classes/<uuid:class_id>/roster": ACTORS,
    "GET /api/trainees": READERS,
    "POST /api/trainees": ACTORS,
    "GET /api/trainees/<uuid:trainee_id>": READERS,
    "PATCH /api/trainees/<uuid:trainee_id>": ACTORS,
    # JSON API: biometrics
    "GET /api/me/biometrics": TRAINEE,
    "POST /api/me/consent": TRAINEE,
    "DELETE /api/me/consent": TRAINEE,
    "POST /api/me/face": TRAINEE,
    "POST /api/me/face/check": TRAINEE,
    "GET /api/trainees/<uuid:trainee_id>/biometrics": ACTORS,
    "POST /api/trainees/<uuid:trainee_id>/consent": ACTORS,
    "DELETE /api/trainees/<uuid:trainee_id>/consent": ACTORS,
    "POST /api/trainees/<uuid:trainee_id>/alternative-verification": ACTORS,
    "POST /api/trainees/<uuid:trainee_id>/face": ACTORS,
    "POST /api/trainees/<uuid:trainee_id>/face/check": ACTORS,
    "GET /api/duplicate-faces": DUPLICATE_REVIEW,
    "POST /api/duplicate-faces/<uuid:flag_id>/resolve": DUPLICATE_REVIEW,
    # JSON API: attendance and study
    "POST /api/attendance/conversation": TRAINEE,
    "POST /api/attendance/conversation/<nonce>/frame": TRAINEE,
    "POST /api/attendance/check-in": TRAINEE,
    "POST /api/attendance/check-out": TRAINEE,
    "POST /api/kiosk/enrol": EVERYONE - SIGNED_IN,  # the one-time code is the credential; no account
    "POST /api/kiosk/conversation": KIOSK,
    "POST /api/kiosk/conversation/<nonce>/frame": KIOSK,
    "POST /api/kiosk/check-in": KIOSK,
    "POST /api/kiosk/check-out": KIOSK,
    "POST /api/trainees/<uuid:trainee_id>/attendance/alternative": ACTORS,
    "POST /api/trainees/<uuid:trainee_id>/attendance/unlock": ACTORS,
    "POST /api/hours/<uuid:entry_id>/reversal": ACTORS,
    "GET /api/study": TRAINEE,
    "POST /api/study/start": TRAINEE,
    "POST /api/study/end": TRAINEE,
    "POST /api/study/heartbeat": TRAINEE,
    "POST /api/study/roll-call": TRAINEE,
    "GET /api/study/token": TRAINEE,
    # xAPI LRS: credentials and their scopes only
    "GET /xapi/about": EVERYONE,
    "GET /xapi/statements": LRS_READ_STATEMENTS,
    "PUT /xapi/statements": lrs("statements/write", "all"),
    "POST /xapi/statements": lrs("statements/write", "all"),
    "DELETE /xapi/statements": NOBODY,
    "GET /xapi/activities/state": lrs("state", "all/read", "all"),
    "PUT /xapi/activities/state": lrs("state", "all"),
    "POST /xapi/activities/state": lrs("state", "all"),
    "DELETE /xapi/activities/state": lrs("state", "all"),
    "GET /xapi/activities/profile": lrs("profile", "all/read", "all"),
    "PUT /xapi/activities/profile": lrs("profile", "all"),
    "POST /xapi/activities/profile": lrs("profile", "all"),
    "DELETE /xapi/activities/profile": lrs("profile", "all"),
    "GET /xapi/agents/profile": lrs("profile", "all/read", "all"),
    "PUT /xapi/agents/profile": lrs("profile", "all"),
    "POST /xapi/agents/profile": lrs("profile", "all"),
    "DELETE /xapi/agents/profile": lrs("profile", "all"),
    "GET /xapi/activities": LRS_READ_ANY,
    "POST /xapi/activities": NOBODY,
    "GET /xapi/agents": LRS_READ_ANY,
    "POST /xapi/agents": NOBODY,
}

#: Requests that change nothing although their method is POST (an auditor may send them).
#: POSTs that change no records of the system: signing in and out, the auditor's search (by POST
#: to keep full ID numbers out of URLs), and changing one's own password.
NON_MUTATING = frozenset({"POST /login", "POST /logout", "POST /audit/trainees", "POST /account/password"})
#: Browser-free POSTs authenticated by HTTP Basic, not a cookie: CSRF does not apply.
CSRF_EXEMPT = frozenset({"POST /api/kiosk/enrol", "POST /api/kiosk/check-in",
                         "POST /api/kiosk/check-out", "POST /api/kiosk/conversation",
                         "POST /api/kiosk/conversation/<nonce>/frame"})
