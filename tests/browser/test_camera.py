"""The camera check page opens Chromium's fake webcam (a real face clip) and receives frames."""
import pytest

from tests.browser.test_navigation import sign_in

pytestmark = pytest.mark.browser


def test_camera_page_receives_frames_with_detail(page):
    sign_in(page, "trainee")
    page.goto("/camera")
    status = page.locator("#camera-status")
    page.locator("#camera-status:not([data-state='waiting'])").wait_for(timeout=20_000)
    assert status.get_attribute("data-state") == "ok", status.inner_text()
    assert int(status.get_attribute("data-frames")) >= 10
    assert float(status.get_attribute("data-variance")) > 50
    assert "摄像头正常" in status.inner_text()
