"""`/kiosks`: an institution's instructor provisions a kiosk from the page (the one-time code is
shown once, only its HMAC kept), sees its state, is told in Chinese what is wrong with a bad
address range (nothing created), and revokes it."""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Kiosk, Role
from app.services import kiosks
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_catalogue, make_user
from tests.kiosk_helpers import new_key, public_b64


def _signed_in(client, auth, app):
    admin = make_user(Role.ADMIN)
    institution = make_catalogue(admin)[0]
    make_user(Role.INSTRUCTOR, username="teacher", institution=institution)
    auth.login("teacher", PASSWORD)
    return institution


def test_an_instructor_provisions_and_revokes_a_kiosk_from_the_page(app, client, auth):
    institution = _signed_in(client, auth, app)
    page = client.get("/kiosks")
    assert page.status_code == 200 and "尚无签到机" in page.text
    made = client.post("/kiosks", data={"csrf_token": csrf_token_from(page.text), "name": "一号机",
                                        "site": "实训楼 201", "allowed_ranges": "10.1.0.0/16"})
    assert made.status_code == 201
    code = re.search(r'id="kiosk-new-code">([^<]+)<', made.text).group(1)
    kiosk = db.session.scalar(select(Kiosk))
    assert kiosk.institution_id == institution.id and kiosk.allowed_ranges == "10.1.0.0/16"
    assert code not in kiosk.code_digest and "等待输入注册码" in made.text
    listing = client.get("/kiosks").text
    assert code not in listing  # shown once
    assert kiosks.bind_device(code, public_b64(new_key()), "10.1.0.3") is not None
    assert "使用中" in client.get("/kiosks").text and kiosk.screen_facing
    revoked = client.post(f"/kiosks/{kiosk.id}/revoke", data={"csrf_token": csrf_token_from(listing)})
    assert revoked.status_code == 302
    db.session.rollback()
    assert not db.session.get(Kiosk, kiosk.id).active and "已停用" in client.get("/kiosks").text


def test_a_bad_address_range_is_refused_in_words_and_nothing_is_created(app, client, auth):
    _signed_in(client, auth, app)
    page = client.get("/kiosks")
    refused = client.post("/kiosks", data={"csrf_token": csrf_token_from(page.text), "name": "一号机",
                                           "site": "实训楼 201", "allowed_ranges": "10.1.0.0/40"})
    assert refused.status_code == 400
    assert "不是地址范围" in refused.text and 'id="err-allowed_ranges"' in refused.text
    assert db.session.scalar(select(func.count()).select_from(Kiosk)) == 0


def test_a_kiosk_whose_screen_does_not_face_the_trainee_is_made_without_the_colour_step(app, client, auth):
    _signed_in(client, auth, app)
    page = client.get("/kiosks")
    made = client.post("/kiosks", data={"csrf_token": csrf_token_from(page.text), "name": "二号机",
                                        "site": "实训楼 202", "screen_facing_shown": "1"})  # box unticked
    assert made.status_code == 201 and "关闭（屏幕不朝向学员）" in made.text
    assert db.session.scalar(select(Kiosk)).screen_facing is False
