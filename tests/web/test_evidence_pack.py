"""The class evidence pack: one PDF read back (pages, 花名册, a 考勤表 row, the embedded Chinese
font, page numbers) and one workbook with the same tables; only the bureau and the class's
institution may download it, and each download is audited."""
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Role
from app.services import completion
from app.services.catalogue import create_listed_entry
from app.services.checkpoints import create_checkpoint
from app.services.document_stamps import check_document
from tests.factories import PASSWORD, make_trainee, make_user
from tests.subsidy_helpers import attend, class_on, complete_enrolment, enrolment_of, make_world


@pytest.fixture
def klass(app):
    world = make_world()
    done, short = make_trainee("李雷", actor=world.admin), make_trainee("韩梅梅", actor=world.admin)
    klass = class_on(world, date(2026, 3, 2), [done, short])
    complete_enrolment(world, enrolment_of(klass, done))
    completion.issue_certificate(world.instructor, enrolment_of(klass, done).id)
    attend(enrolment_of(klass, short), 90)
    other = create_listed_entry(world.admin, "institution", "OTHER-EV", "别的学校")
    make_user(Role.INSTRUCTOR, "stranger", institution=other)
    make_user(Role.AUDITOR)
    return klass


def test_the_pdf_reads_back_with_roster_attendance_and_page_numbers(client, auth, klass):
    checkpoint = create_checkpoint()
    auth.login("instructor", PASSWORD)
    answer = client.get(f"/classes/{klass.id}/evidence.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.data))
    assert len(reader.pages) >= 5  # roster, one 考勤表, ledger, face checks, assessments
    text = "\n".join(page.extract_text() for page in reader.pages)
    for words in ("花名册", "李雷", "韩梅梅", "考勤表 2026-03-02 09:00", "学员学时台账", "人脸核验证据索引",
                  "结业考核与证书", "第 1 页", "生成时间", klass.code):
        assert words in text, words
    assert "09:00" in reader.pages[1].extract_text()  # a 考勤表 row: 李雷 checked in at 09:00
    assert f"SkillTrace checkpoint {checkpoint.digest}" in text  # the latest signed checkpoint, every page
    # verify-document finds the stamp (this fixture's hours are written without statements, so
    # the integrity part of the check is not what is asserted here)
    assert check_document(db.session, answer.data).digest == checkpoint.digest
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert any("/FontFile2" in f["/FontDescriptor"] for f in fonts if "/FontDescriptor" in f)  # embedded TrueType


def test_the_workbook_has_the_same_tables(client, auth, klass):
    auth.login("auditor", PASSWORD)
    answer = client.get(f"/classes/{klass.id}/evidence.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.data))
    titles = book.sheetnames
    assert titles[0] == "封面" and "花名册" in titles and any(t.startswith("考勤表") for t in titles)
    roster = book["花名册"]
    assert {roster.cell(row=r, column=2).value for r in range(3, 5)} == {"李雷", "韩梅梅"}
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.payload).where(AuditEntry.action == "evidence_pack.viewed"))[
        "document"] == "xlsx"


def test_another_institution_is_refused(client, auth, klass):
    auth.login("stranger", PASSWORD)
    assert client.get(f"/classes/{klass.id}/evidence.pdf").status_code == 403
    assert client.get(f"/classes/{klass.id}/evidence.xlsx").status_code == 403
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "evidence_pack.viewed")) is None
