"""`/admin/hour-rules`: administrators see each programme's rule in force and its versions, and add
a version from an effective date; a bad field is a 400 in Chinese naming the field, a version
back-dated into a credited day a 409; nothing is stored either way. Others are refused."""
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import HourRule, Role
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_catalogue, make_user
from tests.hour_rule_helpers import set_rule

FIELDS = {"effective_from": "2030-01-01", "hour_length": "45", "unit": "45", "daily_cap": "300",
          "tolerance": "10", "practical_percent": "40", "roll_calls_per_hour": "4"}


def _post(client, data: dict):
    token = csrf_token_from(client.get("/admin/hour-rules").text)
    return client.post("/admin/hour-rules", data={**data, "csrf_token": token})


def _versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(HourRule))


def test_admin_adds_versions_and_sees_their_history(client, auth):
    admin = make_user(Role.ADMIN)
    _institution, _occupation, programme = make_catalogue(admin)
    auth.login("admin", PASSWORD)
    page = client.get("/admin/hour-rules", headers={"Accept-Language": "zh"})
    assert page.status_code == 200 and "学时规则" in page.text and programme.code in page.text
    assert "配置的默认值" in page.text
    added = _post(client, {**FIELDS, "programme_id": str(programme.id)})
    assert added.status_code == 302 and _versions() == 1
    page = client.get("/admin/hour-rules", headers={"Accept-Language": "zh"})
    assert "2030-01-01" in page.text and "按整学时（每学时 45 分钟）" in page.text


def test_bad_fields_and_backdated_versions_are_refused_in_chinese_with_nothing_stored(client, auth):
    admin = make_user(Role.ADMIN)
    _institution, _occupation, programme = make_catalogue(admin)
    set_rule(admin, programme.id, effective_from=date(2030, 1, 1))
    auth.login("admin", PASSWORD)
    bad = _post(client, {**FIELDS, "programme_id": str(programme.id), "effective_from": "2031-01-01",
                         "unit": "60"})
    assert bad.status_code == 400 and "按分钟取整或按一个标准学时取整" in bad.text
    not_a_number = _post(client, {**FIELDS, "programme_id": str(programme.id), "daily_cap": "八小时"})
    assert not_a_number.status_code == 400
    backdated = _post(client, {**FIELDS, "programme_id": str(programme.id), "effective_from": "2029-06-01"})
    assert backdated.status_code == 409 and "2030-01-01" in backdated.text
    assert _versions() == 1


def test_instructors_cannot_open_or_post_the_page(client, auth):
    admin = make_user(Role.ADMIN)
    make_user(Role.INSTRUCTOR)
    _institution, _occupation, programme = make_catalogue(admin)
    auth.login("instructor", PASSWORD)
    assert client.get("/admin/hour-rules").status_code == 403
    token = csrf_token_from(client.get("/account/password").text)
    posted = client.post("/admin/hour-rules", data={**FIELDS, "programme_id": str(programme.id), "csrf_token": token})
    assert posted.status_code == 403
    assert _versions() == 0
