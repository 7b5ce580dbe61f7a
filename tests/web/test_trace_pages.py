"""The auditor's learner trace: search by full ID or name (IDs masked), the whole history as one
timeline with hours per day and the integrity result, Excel and PDF exports, access audited."""
from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from app.extensions import db
from app.models import (AuditEntry, Enrolment, FaceVerification, HoursEntry, Purpose, Role,
                        StudyState, User)
from app.models.base import utcnow
from app.queries.trace import Subject, TraceEvent
from app.services import attendance, hours, study
from app.services._tx import transaction
from app.services.certificates import add_certificate, grant_exemption
from app.services.consent import withdraw_consent
from app.services.resident_id import mask_resident_id
from app.services.trace import LearnerTrace
from app.web.audit.exports import trace_pdf
from tests.attendance_helpers import (answer_paced, backdate_check_in, blind_check, running_class, still_photo,
                                     trainee_with_face)
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, arrange_confirmed_alternative, make_catalogue, make_trainee, make_user
from tests.tamper import behind_the_back


@pytest.fixture
def history(app):
    """A trainee with consent and an enrolled face, a certificate and exemption, one refused
    ID-card check, then an arranged ID-card check-in and check-out, and a reversed credit; and
    a second trainee in the same class with a credit of their own."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    make_user(Role.AUDITOR)
    _user, trainee = trainee_with_face(admin, "zhangjia", "张甲")
    other = make_trainee("李乙", actor=admin)
    institution, occupation, programme = make_catalogue(admin)
    klass = running_class(admin, instructor, [trainee, other], institution=institution, programme=programme)
    certificate = add_certificate(admin, trainee.id, occupation.id, "level_5", "S000044000001213000001", date(2025, 3, 1), "人社局")
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.trainee_id == trainee.id))
    grant_exemption(admin, enrolment.id, certificate.id, 8, "持初级证书免修安全课")
    assert not attendance.check_alternative(instructor, trainee.id, "check_in").accepted
    credits = {}
    for person in (trainee, other):
        arrange_confirmed_alternative(admin, person.id, "本人拒绝人脸识别")
        assert attendance.check_alternative(instructor, person.id, "check_in").accepted
        backdate_check_in(25, person.id)
        out = attendance.check_alternative(instructor, person.id, "check_out")
        assert out.accepted, out
        db.session.rollback()
        credits[person.name] = db.session.scalar(select(HoursEntry).where(HoursEntry.interval_id == out.interval_id))
    reversal = hours.reverse_entry(instructor, credits["张甲"].id, "代签嫌疑")
    db.session.rollback()
    return {"trainee": trainee, "other": other, "klass": klass, "credit": credits["张甲"],
            "other_credit": credits["李乙"], "reversal": reversal}


def test_search_by_full_id_or_name_shows_masked_ids(client, auth, history):
    trainee = history["trainee"]
    auth.login("auditor", PASSWORD)
    form = client.get("/audit/trainees").text
    token = csrf_token_from(form)

    def search(q):
        return client.post("/audit/trainees", data={"q": q, "csrf_token": token}).text

    assert 'method="post"' in form
    page = search(trainee.id_number)
    assert "张甲" in page and mask_resident_id(trainee.id_number) in page
    results = page[page.index('id="trace-results"'):]
    assert trainee.id_number not in results
    assert "李乙" not in page
    assert search(trainee.id_number[:10]).count("/audit/trainees/") == 0
    page = search("乙")
    assert "李乙" in page and "张甲" not in page
    full_width = trainee.id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert "张甲" in search(full_width)


def test_full_id_numbers_are_not_searched_from_the_url(client, auth, history):
    """A ?q= in the address would put the full number in logs and history: it is ignored."""
    auth.login("auditor", PASSWORD)
    page = client.get("/audit/trainees", query_string={"q": history["trainee"].id_number}).text
    assert 'id="trace-results"' not in page and "张甲" not in page


def test_trace_shows_the_whole_history_newest_last(client, auth, history):
    trainee, credit = history["trainee"], history["credit"]
    auth.login("auditor", PASSWORD)
    response = client.get(f"/audit/trainees/{trainee.id}")
    assert response.status_code == 200
    page = response.text
    kinds = ["registration", "consent", "face_enrolment", "enrolment", "certificate", "exemption",
             "verification", "alternative", "interval", "credit", "reversal"]
    for kind in kinds:
        assert f'data-kind="{kind}"' in page, kind
    assert page.index('data-kind="registration"') < page.index('data-kind="credit"') < page.index('data-kind="reversal"')
    assert "代签嫌疑" in page and str(credit.statement_id) in page and "持初级证书免修安全课" in page
    assert "五级/初级工" in page and "level_5" not in page  # stored codes in words
    assert str(history["other_credit"].id) not in page
    assert 'id="trace-hours-chart"' in page and 'class="day-bar"' in page
    assert "条审计记录校验通过" in page and 'id="trace-records"' in page and "flash-error" not in page
    db.session.rollback()  # see what the request committed
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "trace.viewed"))
    assert audit.object_id == str(trainee.id) and audit.actor == "auditor" and audit.payload == {"purpose": "view"}


def test_trace_names_only_this_learners_record_problems(app, client, auth, history):
    credit, other_credit = history["credit"], history["other_credit"]
    credit_id, other_id = credit.id, other_credit.id
    for entry_id in (credit_id, other_id):
        behind_the_back(app, "UPDATE hours_ledger SET minutes = minutes - 1 WHERE id = :id", id=entry_id)
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{history['trainee'].id}").text
    assert f'data-row="{credit_id}"' in page and f'data-row="{other_id}"' not in page
    assert f"学时台账记录 {credit_id}：" in page and "ledger entry" not in page      # said in Chinese


def test_trace_names_only_this_learners_audit_entries(app, client, auth, history):
    trainee, other = history["trainee"], history["other"]
    mine = db.session.scalar(select(AuditEntry.seq).where(AuditEntry.action == "face.enrolled"))
    theirs = db.session.scalar(select(AuditEntry.seq).where(AuditEntry.object_id == str(other.id)))
    for seq in (mine, theirs):
        behind_the_back(app, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = :seq", seq=seq)
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{trainee.id}").text
    assert f"审计条目第 {mine} 条：哈希不符" in page and f"审计条目第 {theirs} 条" not in page


def test_exports_open_as_excel_and_pdf(client, auth, history):
    trainee = history["trainee"]
    auth.login("auditor", PASSWORD)
    response = client.get(f"/audit/trainees/{trainee.id}/trace.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    timeline = book.worksheets[0]
    assert "张甲" in timeline["A1"].value and trainee.id_number not in timeline["A1"].value
    events = [row for row in timeline.iter_rows(min_row=3, values_only=True)]
    assert "registration" in [e[1] for e in events] and any("代签嫌疑" in e[3] for e in events)
    assert [e[0] for e in events] == sorted(e[0] for e in events)  # Beijing time, oldest first
    day_rows = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(day_rows) == 1 and day_rows[0][1] == 0  # credited, then reversed
    response = client.get(f"/audit/trainees/{trainee.id}/trace.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    reader = PdfReader(BytesIO(response.data))
    assert len(reader.pages) >= 1 and reader.metadata.title.startswith("学员轨迹")
    text = "".join(page.extract_text() for page in reader.pages)
    assert str(history["credit"].statement_id) in text
    assert "学员轨迹" in text and "张甲" in text  # the font's Chinese is real text
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert any("/FontFile2" in f["/FontDescriptor"] for f in fonts if "/FontDescriptor" in f)  # embedded
    db.session.rollback()
    purposes = db.session.scalars(select(AuditEntry.payload).where(AuditEntry.action == "trace.viewed")).all()
    assert sorted(p["purpose"] for p in purposes) == ["pdf", "xlsx"]


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.REVIEWER, Role.TRAINEE])
def test_only_auditors_and_admins_trace(client, auth, app, role):
    make_user(role)
    trainee = make_trainee("王五")
    auth.login(role.value, PASSWORD)
    assert client.get("/audit/trainees?q=王").status_code == 403
    assert client.get(f"/audit/trainees/{trainee.id}").status_code == 403


def test_unknown_trainee_is_404(client, auth, app):
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    assert client.get("/audit/trainees/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_long_trace_runs_over_several_pdf_pages(app):
    trainee = make_trainee("赵多页")
    subject = Subject(trainee, [], {})
    events = [TraceEvent(utcnow() + timedelta(minutes=i), "verification", f"核验 {i}", {"序号": i})
              for i in range(150)]
    with app.test_request_context():
        body = trace_pdf(LearnerTrace(trainee, subject, events, [(date(2026, 5, 1), 90)], 1, [], []))
    reader = PdfReader(BytesIO(body))
    assert len(reader.pages) >= 3
    assert "核验 149" in reader.pages[-1].extract_text()


def test_withdrawn_consent_keeps_the_face_enrolment_in_the_trace(client, auth, history):
    trainee = history["trainee"]
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    assert withdraw_consent(admin, trainee.id, "撤回书 2026-001") == 1  # the template is deleted
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{trainee.id}").text
    assert 'data-kind="face_enrolment"' in page and 'data-kind="consent_withdrawn"' in page
    assert page.index('data-kind="face_enrolment"') < page.index('data-kind="consent_withdrawn"')


def test_online_study_with_a_roll_call_shows_face_evidence(app, client, auth):
    """A real face opens online study and answers a roll-call: the trace shows the roll-call and
    each verification's evidence (distance, liveness, device, statement)."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    make_user(Role.AUDITOR)
    user, trainee = trainee_with_face(admin, "student1", "孙学")
    running_class(admin, instructor, [trainee], start=utcnow() - timedelta(minutes=120), minutes=240, online=True)
    assert attendance.check_personal(user, "check_in", answer_paced(user), [], "pytest-browser", online=True).accepted
    with transaction() as session:
        session.execute(update(StudyState).values(next_roll_call_at=utcnow() - timedelta(seconds=1),
                                                  last_heartbeat_at=utcnow() - timedelta(seconds=30)))
    assert study.heartbeat(user)["roll_call"] is not None
    assert study.answer_roll_call(user, answer_paced(user, "roll_call", mirrored=True), "pytest-browser").accepted
    db.session.rollback()
    verification = db.session.scalar(select(FaceVerification).where(FaceVerification.purpose == Purpose.ROLL_CALL))
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{trainee.id}").text
    assert 'data-kind="roll_call"' in page and "人脸点名：通过" in page
    assert f"{verification.distance:.4f}" in page and "pytest-browser" in page
    assert verification.liveness_passed and str(verification.statement_id) in page


def test_lock_out_and_unlock_are_in_the_trace(app, client, auth):
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    make_user(Role.AUDITOR)
    user, trainee = trainee_with_face(admin, "student2", "周锁")
    running_class(admin, instructor, [trainee])
    for _ in range(app.config["CHECK_IN_LOCK_FAILURES"]):
        assert not blind_check(user, still_photo()).accepted
    attendance.unlock_trainee(instructor, trainee.id, "本人到场核实")
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{trainee.id}").text
    assert 'data-kind="locked_out"' in page and 'data-kind="unlocked"' in page and "本人到场核实" in page
    assert "未通过 （画面无变化：疑似照片）" in page  # the liveness reason in words
    assert page.index('data-kind="locked_out"') < page.index('data-kind="unlocked"')


def test_assessment_certificate_and_subsidy_line_are_in_the_trace(client, auth, app):
    from app.services import subsidy
    from app.services.completion import issue_certificate
    from tests.subsidy_helpers import class_on, complete_enrolment, enrolment_of, make_world
    world = make_world()
    make_user(Role.AUDITOR)
    trainee = make_trainee("王丙", actor=world.admin)
    enrolment = enrolment_of(class_on(world, date(2026, 3, 10), [trainee]), trainee)
    complete_enrolment(world, enrolment)
    certificate = issue_certificate(world.admin, enrolment.id)
    line = subsidy.prepare_claim(world.admin, enrolment.class_id).lines[0]
    auth.login("auditor", PASSWORD)
    page = client.get(f"/audit/trainees/{trainee.id}").text
    for kind in ("assessment", "completion", "subsidy"):
        assert f'data-kind="{kind}"' in page, kind
    assert "结业考核合格" in page and certificate.serial in page
    assert "补贴明细：1200.00 元" in page and line.trace_id in page and f"/subsidy/lines/{line.id}" in page


def test_trace_workbook_runs_no_formula(app):
    from app.web.audit.exports import trace_xlsx
    trainee = make_trainee("赵公式")
    subject = Subject(trainee, [], {})
    events = [TraceEvent(utcnow(), "verification", '=HYPERLINK("http://e.cn","x")', {"a": 1}),
              TraceEvent(utcnow(), "verification", "+1", {})]
    with app.test_request_context():
        body = trace_xlsx(LearnerTrace(trainee, subject, events, [(date(2026, 5, 1), 90)], 1, [], []))
    book = load_workbook(BytesIO(body))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert "'+1" in [cell.value for cell in cells]
