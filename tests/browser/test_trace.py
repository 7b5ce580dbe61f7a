"""In the browser, under the app's strict CSP, an auditor finds a demo trainee by name, opens the
learner trace (timeline, integrity, chart) and downloads it as Excel and PDF; the statistics page
shows the demo class against the targets."""
import pytest
from openpyxl import load_workbook

from tests.browser.test_navigation import sign_in

pytestmark = pytest.mark.browser


def test_auditor_traces_a_learner_and_exports(page, tmp_path):
    sign_in(page, "auditor")
    page.locator("#nav").get_by_role("link", name="学员轨迹").click()
    page.get_by_label("完整身份证号或姓名").fill("张")
    page.get_by_role("button", name="查询").click()
    results = page.locator("#trace-results tbody tr")
    assert results.count() >= 1 and "********" in results.first.inner_text()
    results.first.get_by_role("link").click()
    page.locator("#trace-timeline tr[data-kind='registration']").wait_for()
    assert page.locator("#trace-timeline tr[data-kind='enrolment']").count() >= 1
    assert "审计记录校验通过" in page.locator("#trace-chain").inner_text()
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    path = tmp_path / "trace.xlsx"
    download.value.save_as(path)
    assert load_workbook(path).worksheets[0]["A1"].value.startswith("学员轨迹")
    with page.expect_download() as download:
        page.locator("#export-pdf").click()
    path = tmp_path / "trace.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")


def test_reviewer_sees_statistics_chart(page):
    sign_in(page, "reviewer")
    page.locator("#nav").get_by_role("link", name="统计").click()
    page.locator("#targets-chart").wait_for()
    assert page.locator("#targets-chart .category-bar").count() == 5
    assert page.locator("#categories tr[data-category='employment'] td").nth(2).inner_text() == "150000"
