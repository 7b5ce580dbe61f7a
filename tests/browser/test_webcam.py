"""webcam.js: the front camera, a mirrored preview, and what to do in words when the camera
cannot be opened (insecure context, denied camera, WeChat), with no frame sent then."""
import pytest

from tests.browser.test_attendance import _attendance_app
from tests.browser.test_navigation import sign_in
from tests.fixtures.serving import served

pytestmark = pytest.mark.browser

NO_MEDIA_DEVICES = "Object.defineProperty(Navigator.prototype, 'mediaDevices', {get: () => undefined});"
DENIED = """navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));"""
RECORD_CONSTRAINTS = """(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => {
    document.documentElement.dataset.facing = c.video.facingMode;
    return original(c);
  };
})();"""
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; V2203A) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/110.0 Mobile Safari/537.36 MicroMessenger/8.0.40")


@pytest.fixture(scope="module")
def session_now_server(tmp_path_factory, face_model_dir):
    """The demo with a session running now and the demo trainee's face enrolled: the check-in
    page names no blocker, so its buttons are enabled whatever the time of day."""
    app, _class_id = _attendance_app(tmp_path_factory.mktemp("webcam-live"), face_model_dir)
    with served(app) as url:
        yield url


@pytest.fixture
def tab(browser, live_server):
    def make(script: str, user_agent: str | None = None, base_url: str = live_server):
        context = browser.new_context(base_url=base_url, locale="zh-CN", user_agent=user_agent)
        context.add_init_script(script)
        page = context.new_page()
        page.set_default_timeout(15_000)
        opened.append(context)
        return page
    opened = []
    yield make
    for context in opened:
        context.close()


def test_front_camera_with_a_mirrored_preview(tab):
    page = tab(RECORD_CONSTRAINTS)
    sign_in(page, "trainee")
    page.goto("/camera")
    page.locator("#camera-status[data-state='ok']").wait_for(timeout=20_000)
    assert page.locator("html").get_attribute("data-facing") == "user"
    video = page.locator("#camera-video")
    assert "mirrored" in video.get_attribute("class")
    assert video.evaluate("v => getComputedStyle(v).transform") == "matrix(-1, 0, 0, 1, 0, 0)"


def test_an_insecure_context_is_explained_and_check_in_sends_nothing(tab, session_now_server):
    page = tab(NO_MEDIA_DEVICES, base_url=session_now_server)
    sign_in(page, "trainee")
    page.goto("/camera")
    status = page.locator("#camera-status[data-state='camera-error']")
    status.wait_for()
    assert "https://" in status.inner_text() and "安全连接" in status.inner_text()
    page.goto("/me/attendance")
    page.locator("#checkin-result[data-reason='camera_insecure']").wait_for()
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/api/" in request.url else None)
    page.get_by_role("button", name="签到", exact=True).click()
    page.locator("#checkin-result[data-reason='camera_not_live']").wait_for()
    assert "什么也没有发送" in page.locator("#checkin-result").inner_text()
    assert sent == []


def test_a_denied_camera_in_wechat_says_to_open_the_browser(tab):
    page = tab(DENIED, user_agent=WECHAT_UA)
    sign_in(page, "trainee")
    page.goto("/camera")
    status = page.locator("#camera-status[data-state='camera-error']")
    status.wait_for()
    text = status.inner_text()
    assert "允许使用摄像头" in text and "在浏览器打开" in text and "NotAllowedError" not in text
