"""`/api/…` consent and enrolment on real faces: session auth with the X-CSRFToken header, errors as
`{"error", "message"}` with a 4xx status, and nothing written when a request is refused."""
import io
import uuid

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import AuditEntry, Consent, DuplicateFaceFlag, FaceTemplate, Role, User
from app.services.audit import verify_chain
from tests.conftest import csrf_token_from
from app.services.consent import DEFAULT_CONSENT_VERSION
from tests.factories import PASSWORD, make_catalogue, make_instructor, make_trainee, make_user, on_roster_of

OBAMA = ("obama.jpg", "obama2.jpg", "obama3.jpg")


class Api:
    """Signed-in JSON calls carrying the CSRF token in the header, as the pages' script does."""

    def __init__(self, client, auth, username):
        auth.login(username, PASSWORD)
        self.client = client
        self.token = csrf_token_from(client.get("/").text)

    def _headers(self):
        return {"X-CSRFToken": self.token, "Accept": "application/json"}

    def get(self, path):
        return self.client.get(path, headers=self._headers())

    def post(self, path, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(), **kwargs)

    def delete(self, path):
        return self.client.delete(path, headers=self._headers())

    def upload(self, path, field, blobs):
        # encoded in memory: the test client would spool a large body to a temporary file that
        # nobody closes (a ResourceWarning, an error under filterwarnings=error)
        files = MultiDict([(field, FileStorage(io.BytesIO(blob), f"f{i}.jpg", content_type="image/jpeg"))
                           for i, blob in enumerate(blobs)])
        boundary, body = encode_multipart(files)
        return self.client.post(path, data=body, headers=self._headers(),
                                content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def read(faces_dir):
    return lambda name: (faces_dir / name).read_bytes()


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN)


@pytest.fixture
def trainee(app, admin):
    return make_trainee("赵敏", actor=admin)


@pytest.fixture
def staff_api(client, auth, admin, trainee):
    instructor = make_instructor(trainee)
    api = Api(client, auth, "instructor")
    api.institution_id = instructor.institution_id
    return api


def count(model) -> int:
    db.session.rollback()  # end the test's read snapshot: see what the requests committed
    return db.session.scalar(select(func.count()).select_from(model))


def consent(api, trainee_id, method="paper"):
    version = api.get(f"/api/trainees/{trainee_id}/biometrics").json["consent_text"]["version"]
    response = api.post(f"/api/trainees/{trainee_id}/consent", {"version": version, "method": method,
                                                                "paper_reference": "纸质同意书 2026-001"})
    assert response.status_code == 201, response.json
    return response


def test_signed_out_and_wrong_roles_get_json_errors(client, auth, trainee):
    response = client.get(f"/api/trainees/{trainee.id}/biometrics")
    assert response.status_code == 401 and response.json["error"] == "unauthenticated"
    make_user(Role.AUDITOR)
    api = Api(client, auth, "auditor")
    response = api.get(f"/api/trainees/{trainee.id}/biometrics")
    assert response.status_code == 403 and set(response.json) >= {"error", "message"}
    assert api.get("/api/duplicate-faces").status_code == 403


def test_consent_enrol_withdraw_round_trip(staff_api, trainee, read):
    base = f"/api/trainees/{trainee.id}"
    state = staff_api.get(f"{base}/biometrics").json
    assert state["consent"] is None and state["template"] is None
    assert "人脸" in state["consent_text"]["body"] and state["consent_text"]["retention_days"] > 0
    assert "*" in state["trainee"]["id_number"]  # instructors see the number masked

    given = consent(staff_api, trainee.id).json
    assert (given["method"], given["withdrawn_at"]) == ("paper", None)
    again = staff_api.post(f"{base}/consent", {"version": given["version"], "method": "paper",
                                               "paper_reference": "纸质同意书 2026-002"})
    assert (again.status_code, again.json["error"]) == (409, "consent_exists")

    verdict = staff_api.upload(f"{base}/face/check", "frame", [read("obama.jpg")])
    assert verdict.status_code == 200 and verdict.json["ok"] and verdict.json["quality"]["face_px"] > 100
    refused = staff_api.upload(f"{base}/face/check", "frame", [read("two_people.jpg")]).json
    assert (refused["ok"], refused["reason"]) == (False, "several_faces")
    assert "画面中有多张人脸" in refused["message"]

    enrolled = staff_api.upload(f"{base}/face", "frames", [read(n) for n in OBAMA])
    assert enrolled.status_code == 201, enrolled.json
    assert enrolled.json["captures"] == 3 and not enrolled.json["replaced"]
    assert staff_api.get(f"{base}/biometrics").json["template"]["captures"] == 3

    withdrawn = staff_api.delete(f"{base}/consent?paper_reference=W-1")
    assert withdrawn.status_code == 200 and withdrawn.json == {"templates_deleted": 1}
    assert count(FaceTemplate) == 0
    assert verify_chain(db.session) == []
    assert staff_api.delete(f"{base}/consent?paper_reference=W-1").json["error"] == "no_consent"


def test_enrolment_without_consent_is_refused(staff_api, trainee, read):
    response = staff_api.upload(f"/api/trainees/{trainee.id}/face", "frames", [read(n) for n in OBAMA])
    assert (response.status_code, response.json["error"]) == (409, "no_consent")
    check = staff_api.upload(f"/api/trainees/{trainee.id}/face/check", "frame", [read("obama.jpg")])
    assert (check.status_code, check.json["error"]) == (409, "no_consent")
    assert count(FaceTemplate) == 0


@pytest.mark.parametrize("bad, status, error", [
    (b"this is a text file saved as photo.jpg\n", 400, "unsupported_format"),
    ("truncated", 400, "corrupt"),
    (b"\xff\xd8\xff" + b"\x00" * (4 * 1024 * 1024 + 10), 400, "too_large"),
    ("two_people.jpg", 400, "several_faces"),
])
def test_bad_uploads_are_refused_with_their_reason_and_nothing_written(staff_api, trainee, read, bad, status, error):
    consent(staff_api, trainee.id)
    entries = count(AuditEntry)
    if bad == "truncated":
        bad = read("obama3.jpg")[:50_000]
    elif isinstance(bad, str):
        bad = read(bad)
    response = staff_api.upload(f"/api/trainees/{trainee.id}/face", "frames",
                                [read("obama.jpg"), read("obama2.jpg"), bad])
    assert response.status_code == status
    assert response.json["error"] == error and response.json["errors"] == {"frame": 2}
    assert response.json["message"].startswith("第 3 张画面")
    assert count(FaceTemplate) == 0 and count(AuditEntry) == entries


def test_upload_larger_than_the_frames_allowed_is_413(staff_api, trainee, app):
    consent(staff_api, trainee.id)
    huge = b"\xff\xd8\xff" + b"\x00" * (app.config["FACE_MAX_FRAME_BYTES"] + 100 * 1024)
    response = staff_api.upload(f"/api/trainees/{trainee.id}/face/check", "frame", [huge])
    assert response.status_code == 413 and "error" in response.json
    assert count(FaceTemplate) == 0


def test_frames_without_csrf_token_are_refused(staff_api, trainee, read):
    consent(staff_api, trainee.id)
    staff_api.token = "forged"
    response = staff_api.upload(f"/api/trainees/{trainee.id}/face", "frames", [read(n) for n in OBAMA])
    assert (response.status_code, response.json["error"]) == (400, "csrf")
    response = staff_api.post(f"/api/trainees/{trainee.id}/consent", {"version": "x", "method": "paper"})
    assert (response.status_code, response.json["error"]) == (400, "csrf")
    assert count(FaceTemplate) == 0


@pytest.mark.parametrize("body, error", [
    ("not json", "invalid_json"),
    ({"version": "1999-01", "method": "paper"}, "invalid"),
    ({"version": None, "method": "telepathy"}, "invalid"),
])
def test_bad_consent_bodies_are_400(staff_api, trainee, body, error):
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    response = staff_api.client.post(f"/api/trainees/{trainee.id}/consent", headers=staff_api._headers(), **kwargs)
    assert (response.status_code, response.json["error"]) == (400, error)
    assert response.json["message"]


def test_unknown_trainee_is_404(staff_api):
    response = staff_api.get(f"/api/trainees/{uuid.uuid4()}/biometrics")
    assert (response.status_code, response.json["error"]) == (404, "not_found")
    assert staff_api.get("/api/trainees/not-a-uuid/biometrics").status_code == 404


def test_alternative_verification_needs_a_reason(staff_api, admin, trainee):
    on_roster_of(admin, db.session.scalar(select(User).where(User.username == "instructor")), trainee)
    path = f"/api/trainees/{trainee.id}/alternative-verification"
    assert staff_api.post(path, {"reason": "  "}).status_code == 400
    arranged = staff_api.post(path, {"reason": "本人拒绝人脸识别，由教师核验身份证"})
    assert arranged.status_code == 201
    assert staff_api.get(f"/api/trainees/{trainee.id}/biometrics").json["alternative_verification"]["reason"]
    assert staff_api.post(path, {"reason": "again"}).status_code == 409


def test_duplicate_face_is_409_and_listed_for_admins(client, auth, staff_api, admin, read):
    first, second = make_trainee("张一", actor=admin), make_trainee("张二", actor=admin)
    first.registered_by_institution_id = second.registered_by_institution_id = staff_api.institution_id
    db.session.commit()
    for person in (first, second):
        consent(staff_api, person.id)
    assert staff_api.upload(f"/api/trainees/{first.id}/face", "frames",
                            [read(n) for n in OBAMA]).status_code == 201
    response = staff_api.upload(f"/api/trainees/{second.id}/face", "frames",
                                [read("obama-480p.jpg"), read("obama_small.jpg"), read("obama.jpg")])
    assert (response.status_code, response.json["error"]) == (409, "duplicate_face")
    assert count(FaceTemplate) == 1 and count(DuplicateFaceFlag) == 1

    client.post("/logout", data={"csrf_token": staff_api.token})
    admin_api = Api(client, auth, "admin")
    flags = admin_api.get("/api/duplicate-faces").json["flags"]
    assert [(f["trainee"]["name"], f["matched_trainee"]["name"]) for f in flags] == [("张二", "张一")]
    resolved = admin_api.post(f"/api/duplicate-faces/{flags[0]['id']}/resolve", {"note": "已核实"})
    assert resolved.status_code == 200
    assert admin_api.get("/api/duplicate-faces").json["flags"] == []
    assert verify_chain(db.session) == []


def test_trainee_manages_own_face_through_me(client, auth, admin, trainee, read):
    user = make_user(Role.TRAINEE)
    trainee.user_id = user.id
    db.session.commit()
    other = make_trainee("李四", actor=admin)
    api = Api(client, auth, "trainee")
    state = api.get("/api/me/biometrics").json
    assert state["trainee"]["id"] == str(trainee.id)
    assert api.post("/api/me/consent", {"version": state["consent_text"]["version"]}).json["method"] == "on_screen"
    assert api.upload("/api/me/face", "frames", [read(n) for n in OBAMA]).status_code == 201
    # staff routes stay closed to trainees, whoever the trainee in the URL
    assert api.get(f"/api/trainees/{other.id}/biometrics").status_code == 403
    assert api.upload(f"/api/trainees/{trainee.id}/face", "frames", [read("obama.jpg")]).status_code == 403
    assert api.delete("/api/me/consent").json == {"templates_deleted": 1}


def test_account_without_trainee_record_gets_404(client, auth, app):
    make_user(Role.TRAINEE)
    api = Api(client, auth, "trainee")
    response = api.get("/api/me/biometrics")
    assert (response.status_code, response.json["error"]) == (404, "no_trainee_record")


def test_other_institutions_staff_cannot_record_or_withdraw_consent(client, auth, admin, trainee):
    """Instructor of B against A's trainee: no paper consent, no withdrawal, nothing changed."""
    on_roster_of(admin, make_user(Role.INSTRUCTOR, username="own"), trainee)
    make_catalogue(admin)
    outsider = Api(client, auth, make_user(Role.INSTRUCTOR, username="outsider").username)
    base = f"/api/trainees/{trainee.id}"
    assert outsider.get(f"{base}/biometrics").status_code == 403
    version = DEFAULT_CONSENT_VERSION
    before = count(AuditEntry)
    refused = outsider.post(f"{base}/consent", {"version": version, "method": "paper", "paper_reference": "伪造"})
    assert refused.status_code == 403 and count(AuditEntry) == before
    client.post("/logout", data={"csrf_token": outsider.token})
    own = Api(client, auth, "own")
    assert own.post(f"{base}/consent", {"version": version, "method": "on_screen"}).status_code == 403
    assert consent(own, trainee.id).status_code == 201
    client.post("/logout", data={"csrf_token": own.token})
    outsider = Api(client, auth, "outsider")
    assert outsider.delete(f"{base}/consent?paper_reference=W-9").status_code == 403
    assert count(Consent) == 1 and db.session.scalar(select(Consent.withdrawn_at)) is None
