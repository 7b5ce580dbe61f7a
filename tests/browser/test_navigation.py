"""A real browser signs in as each role and sees that role's navigation, in Chinese."""
import pytest

from app.models import Role
from tests.fixtures.browser import DEMO_PASSWORD

pytestmark = pytest.mark.browser

EXPECTED_NAV = {
    Role.ADMIN: ["首页", "班级", "目录", "学员", "摄像头检测", "签到机", "重复人脸", "人脸数据合规", "补贴申请", "审计日志", "学员轨迹",
                 "统计", "账户管理", "学时规则"],
    Role.REVIEWER: ["首页", "班级", "目录", "重复人脸", "待确认事项", "补贴申请", "统计"],
    Role.INSTRUCTOR: ["首页", "班级", "目录", "学员", "摄像头检测", "签到机"],
    Role.AUDITOR: ["首页", "班级", "目录", "学员", "补贴申请", "审计日志", "学员轨迹", "统计"],
    Role.TRAINEE: ["首页", "人脸识别", "签到", "在线学习", "我的证书", "我的数据", "摄像头检测"],
}


def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_navigation(page, role):
    sign_in(page, role.value)
    page.wait_for_url("**/")
    assert page.locator("#nav a").all_inner_texts() == EXPECTED_NAV[role]
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    assert page.locator("#nav a").count() == 0


def test_wrong_password_shows_message(page):
    sign_in(page, "admin", "not-the-password")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误。"
    assert page.url.endswith("/login")


def test_switch_to_english(page):
    sign_in(page, "auditor")
    page.locator("#language-switch").click()
    assert page.locator("#nav a").all_inner_texts() == ["Home", "Classes", "Catalogues", "Trainees", "Subsidy claims",
                                                         "Audit log", "Learner trace", "Statistics"]
