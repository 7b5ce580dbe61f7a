"""Face enrolment in a real browser with Chromium's fake webcam: a real talking face (the session
clip) is enrolled; a still of two people, looped into a second browser's webcam, is refused with
the several-faces message and nothing is enrolled."""
import shutil
import subprocess

import pytest

from tests.browser.test_navigation import sign_in
from tests.fixtures.browser import FACES, _require, open_page, webcam_browser

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_people_clip(tmp_path_factory):
    """One second of two_people.jpg, letterboxed to 640×480, as Y4M (Chromium loops it)."""
    source = FACES / "two_people.jpg"
    _require(f"face photo {source}", source.is_file())
    ffmpeg = shutil.which("ffmpeg")
    _require("ffmpeg", ffmpeg)
    clip = tmp_path_factory.mktemp("webcam") / "two_people.y4m"
    subprocess.run([ffmpeg, "-loglevel", "error", "-loop", "1", "-i", str(source), "-t", "1", "-vf",
                    "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,"
                    "fps=15,format=yuv420p", str(clip)], check=True, timeout=60)
    return clip


@pytest.fixture
def two_people_page(browser, live_server, two_people_clip):
    """A tab of a second Chromium whose webcam shows two people."""
    with webcam_browser(browser, two_people_clip) as second, open_page(second, live_server) as page:
        yield page


def test_trainee_consents_and_enrols_with_the_webcam(page):
    sign_in(page, "trainee")
    page.locator("#nav").get_by_role("link", name="人脸识别").click()
    page.wait_for_url("**/me/biometrics")
    assert "人脸识别知情同意书" in page.locator("h2").first.inner_text()
    page.get_by_label("我已阅读上述内容，同意进行人脸识别").check()
    page.get_by_role("button", name="我同意").click()
    assert "已记录同意" in page.get_by_role("alert").inner_text()

    page.locator("#enrol-link").click()
    page.wait_for_url("**/me/biometrics/enrol")
    page.locator("#enrol-result[data-state='enrolled'], #enrol-result[data-state='refused']").wait_for(
        timeout=30_000)
    result = page.locator("#enrol-result")
    assert result.get_attribute("data-state") == "enrolled", result.inner_text()
    assert "人脸录入成功" in result.inner_text()
    assert page.locator("#enrol-feedback").inner_text() == "画面合格，请保持不动。"

    page.goto("/me/biometrics")
    assert page.locator("#enrolment-state").get_attribute("data-state") == "enrolled"


def test_two_faces_in_view_are_refused_with_the_reason(two_people_page):
    page = two_people_page
    sign_in(page, "instructor_b")  # institution B's trainee 赵强 has not consented yet in the demo
    page.goto("/trainees")
    page.get_by_role("row", name="赵强").get_by_role("link", name="同意与人脸录入").click()
    page.get_by_label("学员已签署纸质同意书").check()  # staff record the signed form only
    page.get_by_label("签字文书编号").fill("纸质同意书 2026-001")
    page.get_by_label("我已阅读上述内容，同意进行人脸识别").check()
    page.get_by_role("button", name="记录同意").click()
    assert "已记录同意" in page.get_by_role("alert").inner_text()

    page.locator("#enrol-link").click()
    page.locator("#enrol-feedback[data-reason='several_faces']").wait_for(timeout=20_000)
    assert "画面中有多张人脸" in page.locator("#enrol-feedback").inner_text()
    assert page.locator("#enrol-feedback").get_attribute("data-state") == "refused"
    assert page.locator("#enrol-result").get_attribute("data-state") == "pending"
    assert "合格画面：0 / 5" in page.locator("#enrol-progress").inner_text()

    page.get_by_role("link", name="返回").click()
    assert page.locator("#enrolment-state").get_attribute("data-state") == "none"
