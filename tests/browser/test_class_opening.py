"""In a real browser: an instructor applies to open a class, a reviewer approves it."""
from datetime import date, timedelta

import pytest

from app.services.demo import DEMO_TRAINEES
from app.services.resident_id import check_digit
from tests.browser.test_navigation import sign_in

pytestmark = pytest.mark.browser


def test_application_to_approval(page):
    sign_in(page, "instructor")
    page.goto("/classes")
    page.get_by_role("link", name="新建开班申请").click()
    day = date.today() + timedelta(days=20)
    monday = day - timedelta(days=day.weekday())
    page.get_by_label("班级编号").fill("BROWSER-1")
    page.get_by_label("班级名称").fill("浏览器测试班")
    page.locator("input[name=s_day]").first.fill(str(day))          # one row typed with the pickers
    page.locator("input[name=s_start]").first.fill("14:00")
    page.locator("input[name=s_end]").first.fill("17:00")
    page.locator("select[name=s_kind]").first.select_option("practice")
    page.locator("input[name=s_place]").first.fill("电工实训车间")
    page.locator("#repeat-rule summary").click()                    # and a week of mornings by rule
    page.locator("input[name=repeat_first]").fill(str(monday))
    page.locator("input[name=repeat_last]").fill(str(monday + timedelta(days=6)))
    page.locator("input[name=repeat_times]").fill("09：00－12：00")
    page.locator("input[name=repeat_place]").fill("实训楼201")
    page.get_by_role("button", name="生成课次供核对").click()
    assert "已在下方加入 5 节课" in page.locator("#repeat-notice").inner_text()
    assert page.locator("input[name=s_day]").count() == 8               # 1 + 5, and 2 empty rows
    page.get_by_label("授课师资").select_option(label="王老师（instructor）")
    id17 = DEMO_TRAINEES[1][1]
    page.get_by_label("学员名册：已登记学员的身份证号（也可保存后导入名册文件）").fill(id17 + check_digit(id17))
    page.get_by_label("教学计划").fill("理论 + 实操")
    page.get_by_label("考核方案").fill("笔试 + 实操考核")
    page.get_by_role("button", name="保存草稿").click()
    assert page.locator("#class-status").inner_text() == "草稿"
    assert "= 18 学时" in page.locator("#planned-hours").inner_text()  # 5 × 3 h + 3 h
    page.get_by_role("button", name="提交审核").click()
    assert page.get_by_role("alert").inner_text() == "已提交审核。"
    class_url = page.url
    page.get_by_role("button", name="退出登录").click()

    sign_in(page, "reviewer")
    page.goto("/classes?status=submitted")
    page.get_by_role("link", name="浏览器测试班").click()
    assert page.url == class_url
    page.get_by_label("审核意见（驳回时必填）").fill("材料齐全，同意开班")
    page.get_by_role("button", name="批准").click()
    assert page.locator("#class-status").inner_text() == "已批准"
    assert page.locator("#review-comment").inner_text() == "材料齐全，同意开班"
