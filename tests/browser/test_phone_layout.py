"""Pages on a 390-px phone: no instructor or trainee page is wider than the screen (wide tables
scroll in their own box). Screenshots of each role's home page at 1280 px and 390 px are written
to build/screenshots/ (not committed) for a look by eye."""
from pathlib import Path

import pytest

from app.models import Role
from tests.browser.test_navigation import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def _widths(browser, live_server, username: str, urls) -> dict:
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, username)
        page.wait_for_url("**/")
        widths = {}
        for url in urls(page):
            page.goto(url)
            widths[url] = page.evaluate("document.documentElement.scrollWidth")
        return widths
    finally:
        context.close()


def _instructor_urls(page):
    page.goto("/classes")
    class_url = page.locator("table a[href^='/classes/']").first.get_attribute("href")
    return ["/", "/classes", "/classes/new", class_url, class_url + "/attendance", "/trainees", "/camera"]


def test_instructor_and_trainee_pages_fit_a_phone(browser, live_server):
    for username, urls in (("instructor", _instructor_urls),
                           ("trainee", lambda _page: ["/", "/me/attendance", "/me/certificates", "/camera"])):
        widths = _widths(browser, live_server, username, urls)
        assert all(w <= PHONE["width"] for w in widths.values()), (username, widths)


@pytest.mark.parametrize("role", list(Role))
def test_home_page_screenshots(browser, live_server, role):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("390", PHONE), ("1280", DESKTOP)):
        context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=viewport)
        page = context.new_page()
        try:
            sign_in(page, role.value)
            page.wait_for_url("**/")
            page.screenshot(path=str(SCREENSHOTS / f"home-{role.value}-{name}.png"), full_page=True)
        finally:
            context.close()
        assert (SCREENSHOTS / f"home-{role.value}-{name}.png").stat().st_size > 0
