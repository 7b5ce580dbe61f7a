"""A training office from an empty database to a paid claim, through the pages (issue 19's
"done when"): the first administrator is made with the CLI; then, in Chromium, the administrator
lists two institutions, an occupation, a programme and an evaluation organisation and opens the
second institution's instructor and a reviewer; the instructor provisions a kiosk that a second
browser enrols with its one-time code, registers a trainee who activates the account on a 390-px
phone, consents and enrols their face, and applies for a class with repeating sessions; the
reviewer approves; the trainee checks in on the phone (Chromium's fake webcam); the scheduler's
job closes the forgotten check-out and the instructor corrects it; the result is assessed; the
claim goes from submission through review and public notice to paid; the checkpoint job signs;
and the class evidence pack's PDF is read back.

Only the scheduler's jobs are called directly (as the scheduler would). The clock is not faked:
where a step needs another time, rows are edited in the database and each edit says so.
The phone's webcam plays a looping recording, so the app runs under the test policy of
`tests/browser/test_attendance.py` (RECORDING_POLICY)."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app.clock import LOCAL_TZ, local_today
from app.extensions import db
from app.jobs.registry import RECURRING_JOBS
from app.models import ClassSession, PresenceInterval, SubsidyClaim, Trainee, TrainingClass, User
from app.models.base import utcnow
from app.services.resident_id import check_digit
from tests.browser.test_attendance import RECORDING_POLICY, _press_until_accepted, action_clip  # noqa: F401
from tests.browser.test_navigation import sign_in
from tests.browser.test_phone_layout import PHONE
from tests.fixtures.browser import webcam_browser
from tests.fixtures.serving import served

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "first-admin-pass-1"
STAFF_PASSWORD = "office-pass-2026"
TRAINEE_PASSWORD = "my-own-pass-1"
TRAINEE_ID = "13010219930405152" + check_digit("13010219930405152")
CLASS_CODE = "E2E-2026-01"
CLASS_NAME = "电工初级班（端到端）"


@pytest.fixture(scope="module")
def office(tmp_path_factory, face_model_dir):
    """The app on a migrated, EMPTY SQLite database (no demo seed) whose first administrator is
    created with `flask users create`, served on a free port."""
    from flask_migrate import upgrade

    from tests.conftest import build_app

    instance = tmp_path_factory.mktemp("office")
    app = build_app(f"sqlite:///{instance / 'office.db'}", instance, FACE_MODEL_DIR=str(face_model_dir),
                    **RECORDING_POLICY)
    with app.app_context():
        upgrade()
    made = app.test_cli_runner().invoke(args=["users", "create", "--username", "admin", "--role", "admin",
                                              "--password", ADMIN_PASSWORD, "--name", "省人社厅管理员"])
    assert made.exit_code == 0 and "created admin (admin)" in made.output, made.output
    with served(app) as url:
        yield app, url


@pytest.fixture
def chromium(browser, action_clip):
    """A Chromium whose webcam loops a blink and a turn of a real face."""
    with webcam_browser(browser, action_clip) as second:
        yield second


def _tab(chromium, url: str, viewport=None):
    context = chromium.new_context(base_url=url, locale="zh-CN", viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _flash(page) -> str:
    return page.locator(".flash").first.inner_text()


def _edit_rows(app, *statements) -> None:
    with app.app_context():
        for statement in statements:
            db.session.execute(statement)
        db.session.commit()


def _admin_sets_up_the_office(page) -> None:
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.locator("#nav").get_by_role("link", name="目录").click()
    for kind, code, name in (("institution", "INST-A", "河北第一职业技术学院"), ("institution", "INST-B", "石家庄第二技工学校"),
                             ("occupation", "6-31-01-03", "电工"), ("evaluation_organisation", "EV-1", "省电工评价中心")):
        form = page.locator(f"form[action$='/catalogue/{kind}']")
        form.locator("input[name=code]").fill(code)
        form.locator("input[name=name]").fill(name)
        form.get_by_role("button", name="添加").click()
        assert f"{name}" in _flash(page)
    form = page.locator("form[action$='/catalogue/programmes']")
    form.locator("input[name=code]").fill("ELEC-5")
    form.locator("input[name=name]").fill("电工（五级/初级工）")
    form.locator("select[name=occupation_id]").select_option(label="电工")
    form.locator("input[name=theory_hours]").fill("1")     # 2 h in all: one corrected day completes it
    form.locator("input[name=practice_hours]").fill("1")
    form.locator("input[name=subsidy_amount]").fill("1200")
    form.locator("input[name=subsidy_from]").fill("2020-01-01")
    form.locator("button[type=submit]").click()
    assert "电工（五级/初级工）" in page.locator("#programmes").inner_text()
    assert "河北第一职业技术学院" in page.locator("#institutions").inner_text()

    page.locator("#nav").get_by_role("link", name="账户管理").click()
    for username, name, role, institution in (("teacher_b", "李老师", "instructor", "石家庄第二技工学校 (INST-B)"),
                                              ("bureau", "人社局审核员", "reviewer", None)):
        form = page.locator("#new-account")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=display_name]").fill(name)
        form.locator("select[name=role]").select_option(role)
        if institution:
            form.locator("select[name=institution_id]").select_option(label=institution)
        form.locator("input[name=password]").fill(STAFF_PASSWORD)
        form.get_by_role("button", name="创建账号").click()
        assert username in _flash(page)
    assert "石家庄第二技工学校" in page.get_by_role("row", name=re.compile("teacher_b")).inner_text()


def _instructor_provisions_a_kiosk(page, chromium, url: str) -> None:
    page.locator("#nav").get_by_role("link", name="签到机").click()
    form = page.locator("#new-kiosk")
    form.locator("input[name=name]").fill("乙校实训楼签到机")
    form.locator("input[name=site]").fill("实训楼301")
    form.get_by_role("button", name="创建签到机").click()
    code = page.locator("#kiosk-new-code").inner_text()
    kiosk = _tab(chromium, url)                     # the kiosk device: its own browser profile
    try:
        kiosk.goto("/kiosk")
        kiosk.locator("#kiosk-code").fill(code)
        kiosk.get_by_role("button", name="注册此签到机").click()
        kiosk.locator("#kiosk-identity[data-key^='k-']").wait_for()
        assert "乙校实训楼签到机" in kiosk.locator("#kiosk-identity").inner_text()
    finally:
        kiosk.context.close()
    page.reload()
    assert "乙校实训楼签到机" in page.locator("#kiosk-list").inner_text()


def _instructor_registers_the_trainee(page) -> tuple[str, str]:
    """Returns the slip's user name and one-time code."""
    page.goto("/trainees/new")
    page.locator("input[name=name]").fill("周小明")
    page.locator("input[name=id_number]").fill(TRAINEE_ID)
    page.locator("input[name=phone]").fill("13900001234")
    page.locator("select[name=category]").select_option("高校毕业生")
    page.get_by_role("button", name="登记").click()
    slip = page.locator(".slip")
    assert "周小明" in slip.inner_text() and TRAINEE_ID not in slip.inner_text()  # masked on the slip
    return slip.locator(".slip-username").inner_text(), slip.locator(".slip-code").inner_text()


def _trainee_activates_consents_and_enrols(phone, username: str, code: str) -> None:
    phone.goto("/login")
    phone.locator("#activate-link").get_by_role("link").click()
    phone.locator("input[name=id_number]").fill(TRAINEE_ID)
    phone.locator("input[name=code]").fill(code)
    phone.locator("input[name=password]").fill(TRAINEE_PASSWORD)
    phone.locator("input[name=confirm]").fill(TRAINEE_PASSWORD)
    phone.get_by_role("button", name="激活").click()
    assert "账户已激活" in _flash(phone) and username in _flash(phone)
    phone.locator("#nav").get_by_role("link", name="人脸识别").click()
    phone.get_by_label("我已阅读上述内容，同意进行人脸识别").check()
    phone.get_by_role("button", name="我同意").click()
    assert "已记录同意" in phone.get_by_role("alert").inner_text()
    phone.locator("#enrol-link").click()
    phone.locator("#enrol-result[data-state='enrolled'], #enrol-result[data-state='refused']").wait_for(timeout=60_000)
    assert "人脸录入成功" in phone.locator("#enrol-result").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _instructor_applies_for_the_class(page) -> str:
    """A theory afternoon typed with the pickers and practice mornings by a repeat rule, the
    trainee picked from the registered ones; returns the class page's URL."""
    page.goto("/classes/new")
    first = local_today() + timedelta(days=1)
    page.get_by_label("班级编号").fill(CLASS_CODE)
    page.get_by_label("班级名称").fill(CLASS_NAME)
    page.locator("input[name=s_day]").first.fill(str(first))
    page.locator("input[name=s_start]").first.fill("14:00")
    page.locator("input[name=s_end]").first.fill("17:00")
    page.locator("input[name=s_place]").first.fill("实训楼301")
    page.locator("#repeat-rule summary").click()
    page.locator("input[name=repeat_first]").fill(str(first + timedelta(days=1)))
    page.locator("input[name=repeat_last]").fill(str(first + timedelta(days=7)))
    page.locator("input[name=repeat_times]").fill("09:00-12:00")
    page.locator("select[name=repeat_kind]").select_option("practice")
    page.locator("input[name=repeat_place]").fill("实训楼301")
    page.get_by_role("button", name="生成课次供核对").click()
    assert "已在下方加入 5 节课" in page.locator("#repeat-notice").inner_text()   # every weekday of a week
    page.get_by_label("授课师资").select_option(label="李老师（teacher_b）")
    page.locator("input[name=roster_query]").fill("周小明")
    page.locator("#roster-search").click()
    page.locator("#roster-found").get_by_label(re.compile("周小明")).check()
    page.get_by_label("教学计划").fill("安全用电、照明线路安装")
    page.get_by_label("考核方案").fill("理论笔试 + 实操考核")
    page.get_by_role("button", name="保存草稿").click()
    assert page.locator("#class-status").inner_text() == "草稿"
    assert "= 18 学时" in page.locator("#planned-hours").inner_text()          # 3 h + 5 × 3 h
    assert "周小明" in page.locator("body").inner_text()
    page.get_by_role("button", name="提交审核").click()
    assert page.get_by_role("alert").inner_text() == "已提交审核。"
    return page.url


def _reviewer_approves(page, class_url: str) -> None:
    sign_in(page, "bureau", STAFF_PASSWORD)
    page.goto("/classes?status=submitted")
    page.get_by_role("link", name=CLASS_NAME).click()
    assert page.url == class_url
    page.get_by_label("审核意见（驳回时必填）").fill("材料齐全，同意开班")
    page.get_by_role("button", name="批准").click()
    assert page.locator("#class-status").inner_text() == "已批准"


def _first_session_runs_now(app) -> None:
    """DB edit: the first session (tomorrow 14:00) starts 10 minutes ago, and the class's first
    day is today; then the scheduler's job opens the class."""
    with app.app_context():
        klass = db.session.scalar(select(TrainingClass).where(TrainingClass.code == CLASS_CODE))
        first = min(klass.sessions, key=lambda s: s.starts_at)
        now = utcnow()
        first.starts_at, first.ends_at = now - timedelta(minutes=10), now + timedelta(minutes=110)
        klass.start_date = local_today()
        db.session.commit()
        assert "1 classes started" in RECURRING_JOBS["start_due_classes"].func()


def _the_session_was_yesterday_morning(app) -> tuple[datetime, datetime]:
    """DB edit: the session ran yesterday 09:00–12:00 (Beijing) and the trainee's check-in was at
    09:02; returns the session's start and end."""
    yesterday = local_today() - timedelta(days=1)
    start = datetime.combine(yesterday, time(9), LOCAL_TZ)
    end = start + timedelta(hours=3)
    with app.app_context():
        interval = db.session.scalar(select(PresenceInterval))
        session_id = interval.session_id
    _edit_rows(app,
               update(ClassSession).where(ClassSession.id == session_id).values(starts_at=start, ends_at=end),
               update(TrainingClass).where(TrainingClass.code == CLASS_CODE).values(start_date=yesterday),
               update(PresenceInterval).values(opened_at=start + timedelta(minutes=2),
                                               last_verified_at=start + timedelta(minutes=2)))
    return start, end


def _instructor_corrects_the_missed_check_out(page, class_url: str) -> None:
    page.goto(class_url)
    page.locator("#attendance-link").click()
    assert "未签退：课程结束后由系统关闭" in page.locator("#ledger").inner_text()
    form = page.locator("form.missed-check-out")
    assert "周小明" in form.inner_text() and "09:02" in form.inner_text()
    form.locator("input[name=left_at]").fill("11:50")
    form.locator("input[name=reason]").fill("忘记签退")
    form.locator("input[name=evidence]").fill("纸质签到表第 1 页")
    form.get_by_role("button", name="更正签退").click()
    assert "漏签退已更正" in _flash(page)
    row = page.locator("#attendance-grid tr[data-trainee='周小明']")
    assert row.locator(".corrected-minutes").inner_text() == "168"                # 09:02–11:50
    assert "漏签退已由教师更正" in page.locator("#ledger").inner_text()


def _instructor_records_the_assessment(page, class_url: str) -> None:
    page.goto(class_url)
    page.locator(".assessment-details summary").click()
    form = page.locator(".assessment-form")
    form.locator("input[name=theory_score]").fill("82")
    form.locator("input[name=practical_score]").fill("76")
    form.locator("select[name=evaluation_organisation_id]").select_option(label="省电工评价中心")
    form.locator("button[type=submit]").click()
    assert page.locator("#assessments .assessment-result").inner_text() == "通过"


def _claim_from_submission_to_paid(page, app, class_url: str) -> None:
    page.goto(class_url)
    page.locator("#claim-link").click()
    page.locator("#prepare-claim").click()
    assert "1 名符合条件" in page.locator("#claim-totals").inner_text()
    assert "1200.00" in page.locator("#claim-lines tr[data-trainee='周小明']").inner_text()
    page.locator("#submit-claim").click()
    assert "申报已提交人社局" in _flash(page)
    assert page.locator("#claim-status").inner_text() == "已提交，审核中"
    claim_url = page.url
    page.context.clear_cookies()

    sign_in(page, "bureau", STAFF_PASSWORD)
    page.goto(claim_url)
    page.locator("#claim-lines tr[data-trainee='周小明']").get_by_label("通过").check()
    page.locator("#send-review").click()
    assert "申报已审核" in _flash(page)
    assert page.locator("#claim-status").inner_text() == "已通过，公示中"
    page.goto("/subsidy/notices")
    assert "周*" in page.locator("body").inner_text() and "周小明" not in page.locator("body").inner_text()
    page.goto(claim_url)
    page.locator("#pay-form input[name=reference]").fill("BANK-2026-0001")
    page.locator("#pay-form button").click()
    assert "公示期到" in page.get_by_role("alert").first.inner_text()             # not during the notice
    # DB edit: the public notice ran from ten days ago until yesterday
    today = local_today()
    _edit_rows(app, update(SubsidyClaim).values(notice_from=today - timedelta(days=10),
                                                notice_until=today - timedelta(days=1)))
    page.goto(claim_url)
    page.locator("#pay-form input[name=reference]").fill("BANK-2026-0001")
    page.locator("#pay-form button").click()
    assert page.locator("#claim-status").inner_text() == "已拨付"
    assert "BANK-2026-0001" in page.locator("#payment").inner_text()


def _evidence_pack_reads_back(page, class_url: str, digest: str, day: date) -> None:
    from pypdf import PdfReader
    page.goto(class_url)
    href = page.locator("#evidence-pdf").get_attribute("href")
    answer = page.context.request.get(href)    # the signed-in browser's own download
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.body()))
    assert len(reader.pages) >= 5
    text = "\n".join(p.extract_text() for p in reader.pages)
    for words in ("花名册", "周小明", CLASS_CODE, f"考勤表 {day} 09:00", "学员学时台账", "人脸核验证据索引",
                  "结业考核与证书", "第 1 页", f"SkillTrace checkpoint {digest}"):
        assert words in text, words
    attendance = next(p.extract_text() for p in reader.pages if f"考勤表 {day} 09:00" in p.extract_text())
    assert re.search(r"周小明.*09:02", attendance.replace("\n", " ")), attendance


def test_a_training_office_from_an_empty_database_to_a_paid_claim(office, chromium):
    app, url = office
    page = _tab(chromium, url)
    phone = _tab(chromium, url, PHONE)
    try:
        _admin_sets_up_the_office(page)
        page.context.clear_cookies()

        sign_in(page, "teacher_b", STAFF_PASSWORD)
        _instructor_provisions_a_kiosk(page, chromium, url)
        username, code = _instructor_registers_the_trainee(page)
        _trainee_activates_consents_and_enrols(phone, username, code)
        class_url = _instructor_applies_for_the_class(page)
        page.context.clear_cookies()
        _reviewer_approves(page, class_url)
        page.context.clear_cookies()

        _first_session_runs_now(app)
        phone.locator("#nav").get_by_role("link", name="签到").click()
        assert "实训楼301" in phone.locator("#today-sessions").inner_text()
        assert "签到成功" in _press_until_accepted(phone, "签到")
        phone.reload()
        assert "实训楼301" in phone.locator("#check-state").inner_text()              # "已于 HH:MM 在 实训楼301 签到"
        assert phone.locator("#check-in-button").is_disabled() and phone.locator("#check-out-button").is_enabled()
        assert "已在本课次签到" in phone.locator("#check-buttons-reason").inner_text()
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        start, _end = _the_session_was_yesterday_morning(app)
        with app.app_context():                       # the scheduler's job closes the forgotten check-out
            assert RECURRING_JOBS["close_stale_intervals"].func() == "1 presence intervals closed"
        sign_in(page, "teacher_b", STAFF_PASSWORD)
        _instructor_corrects_the_missed_check_out(page, class_url)
        _instructor_records_the_assessment(page, class_url)
        _claim_from_submission_to_paid(page, app, class_url)

        with app.app_context():                       # the scheduler's job signs the audit chain
            signed = RECURRING_JOBS["sign_checkpoint"].func()
        digest = re.search(r"digest (\S+)", signed).group(1)
        _evidence_pack_reads_back(page, class_url, digest, start.date())
        with app.app_context():                       # the account the trainee activated is theirs
            linked = db.session.scalar(select(User.username).join(Trainee, Trainee.user_id == User.id)
                                       .where(Trainee.id_number == TRAINEE_ID))
            assert linked == username
    finally:
        page.context.close()
        phone.context.close()
