"""The witnessed face check from the instructor's appeals page, as face_check.js drives it: start
the check (JSON), stream the trainee's frames, approve with the nonce and a note; an approval
without a passed check is a 4xx in Chinese with nothing credited."""
import io

from sqlalchemy import func, select

from app.extensions import db
from app.models import Appeal, AppealStatus, HoursEntry
from tests.attendance_helpers import respond
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD
from tests.services.test_appeal_witness import world  # noqa: F401 (the fixture)


def test_the_witnessed_check_through_the_page_approves_the_appeal(client, auth, world):  # noqa: F811
    auth.login("instructor", PASSWORD)
    klass_id = world["appeal"].class_id
    base = f"/classes/{klass_id}/appeals/{world['appeal'].id}"
    page = client.get(f"/classes/{klass_id}/appeals")
    assert page.status_code == 200 and "当面人脸核验后批准" in page.text and "witness.js" in page.text
    headers = {"X-CSRFToken": csrf_token_from(page.text), "Accept": "application/json"}
    unchecked = client.post(f"{base}/witnessed-approval", headers=headers, data={"note": "看过了"})
    assert unchecked.status_code == 400 and "请先让学员在您面前完成当面人脸核验" in unchecked.json["message"]
    started = client.post(f"{base}/witness", headers=headers, json={"purpose": "witness"})
    assert started.status_code == 201, started.json
    nonce = started.json["nonce"]

    def send(data):
        answer = client.post(f"{base}/witness/{nonce}/frame", headers=headers,
                             content_type="multipart/form-data", data={"frame": (io.BytesIO(data), "f.jpg")})
        assert answer.status_code == 200, answer.json
        return answer.json
    assert respond(send)["phase"] == "done"
    approved = client.post(f"{base}/witnessed-approval", headers=headers,
                           data={"nonce": nonce, "note": "学员本人在场，当面核验", "device": "pytest"})
    assert approved.status_code == 200 and approved.json["accepted"] is True, approved.json
    db.session.rollback()
    assert db.session.scalar(select(Appeal.status)) == AppealStatus.APPROVED
    assert db.session.scalar(select(func.sum(HoursEntry.minutes))) == 60
