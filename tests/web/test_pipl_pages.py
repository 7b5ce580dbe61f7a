"""The PIPL pages: the administrator's view (template holders against the filing threshold,
the warning, consent versions, the processing record as CSV and Excel) and a trainee's own
"my data" page and JSON download (masked numbers, Chinese kept, withdrawal offered); other
roles are refused."""
import csv
import io
import json

from openpyxl import load_workbook

from app.models import Role
from app.services.registry import update_trainee
from tests.attendance_helpers import trainee_with_face
from tests.factories import PASSWORD, make_user


def test_admin_sees_the_count_the_warning_and_the_consent_versions(client, auth, app):
    app.config["FACE_FILING_THRESHOLD"] = 1
    admin = make_user(Role.ADMIN)
    trainee_with_face(admin, "trainee1", "张甲")
    auth.login("admin", PASSWORD)
    page = client.get("/admin/pipl").text
    assert 'id="template-holders">1<' in page and 'data-level="over"' in page
    assert "须在 30 个工作日内向省级网信部门备案" in page
    assert 'id="consent-versions"' in page and "<td>1</td>" in page  # one consent in force
    assert "尚未因保存期满删除过模板" in page


def test_the_processing_record_downloads(client, auth, app):
    make_user(Role.ADMIN)
    auth.login("admin", PASSWORD)
    rows = list(csv.reader(io.StringIO(client.get("/admin/pipl/record.csv").data.decode("utf-8-sig"))))
    assert rows[0][0] == "处理活动" and {r[0] for r in rows[1:]} >= {"人脸特征模板", "同意记录"}
    sheet = load_workbook(io.BytesIO(client.get("/admin/pipl/record.xlsx").data)).active
    assert sheet["A1"].value == "处理活动" and sheet.max_row == len(rows)


def test_others_may_not_see_the_pipl_view(client, auth, app):
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    assert client.get("/admin/pipl").status_code == 403
    assert client.get("/admin/pipl/record.csv").status_code == 403


def test_a_trainee_sees_and_downloads_their_own_data(client, auth, app):
    admin = make_user(Role.ADMIN)
    _user, trainee = trainee_with_face(admin, "trainee1", "张甲")
    update_trainee(admin, trainee.id, trainee.phone, trainee.category, "", ("中国银行", "6013820012345678901"))
    auth.login("trainee1", PASSWORD)
    page = client.get("/me/data").text
    assert "张甲" in page and trainee.id_number not in page and "6013820012345678901" not in page
    assert 'id="withdraw-form"' in page and "/me/biometrics/withdraw" in page
    download = client.get("/me/data.json")
    assert "attachment" in download.headers["Content-Disposition"] and download.headers["Cache-Control"] == "no-store"
    text = download.data.decode("utf-8")
    assert "张甲" in text and "\\u" not in text and trainee.id_number not in text
    data = json.loads(text)
    assert data["identity"]["payee_account"].endswith("8901") and data["face_template"]["captures"] > 0
    assert data["consent"]["version"]


def test_staff_have_no_my_data_page(client, auth, app):
    make_user(Role.INSTRUCTOR)
    auth.login("instructor", PASSWORD)
    assert client.get("/me/data").status_code == 403
