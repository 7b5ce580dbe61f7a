"""The claim workflow through the pages: submit, the reviewer's form deciding every line at once,
the public notice, and the refusal to mark paid during the notice."""
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import ClaimStatus, Role, SubsidyClaim
from app.services import subsidy
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_trainee, make_user
from tests.subsidy_helpers import class_on, complete_enrolment, enrolment_of, make_world


def test_submit_review_and_notice_through_the_pages(app, client, auth):
    world = make_world()
    first, second = make_trainee("李雷", actor=world.admin), make_trainee("韩梅梅", actor=world.admin)
    klass = class_on(world, date(2026, 3, 2), [first, second])
    for trainee in (first, second):
        complete_enrolment(world, enrolment_of(klass, trainee))
    claim = subsidy.prepare_claim(world.instructor, klass.id)
    make_user(Role.REVIEWER)
    page_url = f"/subsidy/classes/{klass.id}"
    auth.login("instructor", PASSWORD)
    page = client.get(page_url).text
    assert 'id="submit-claim"' in page and "已生成，未提交" in page and "补贴标准 1200.00 元" in page
    done = client.post(f"/subsidy/claims/{claim.id}/submit", data={"csrf_token": csrf_token_from(page)},
                       follow_redirects=True)
    assert "申报已提交人社局" in done.text and "已提交，审核中" in done.text
    auth.logout()
    auth.login("reviewer", PASSWORD)
    page = client.get(page_url).text
    assert 'id="review-form"' in page
    lines = sorted(db.session.get(SubsidyClaim, claim.id).lines, key=lambda l: l.position)
    token = csrf_token_from(page)
    half = client.post(f"/subsidy/claims/{claim.id}/review", follow_redirects=True, data={
        "csrf_token": token, f"decision-{lines[0].id}": "accepted"})
    assert "请对韩梅梅的明细选择通过或退回" in half.text
    reviewed = client.post(f"/subsidy/claims/{claim.id}/review", follow_redirects=True, data={
        "csrf_token": token, f"decision-{lines[0].id}": "accepted",
        f"decision-{lines[1].id}": "returned", f"reason-{lines[1].id}": "证件不清"})
    assert "申报已审核" in reviewed.text and "已通过，公示中" in reviewed.text and "证件不清" in reviewed.text
    early = client.post(f"/subsidy/claims/{claim.id}/paid", follow_redirects=True,
                        data={"csrf_token": token, "reference": "BANK-1"})
    assert "公示期到" in early.text
    db.session.rollback()
    assert db.session.scalar(select(SubsidyClaim.status).where(SubsidyClaim.id == claim.id)) is ClaimStatus.IN_NOTICE
    auth.logout()
    notice = client.get("/subsidy/notices").text
    assert "李*" in notice and "韩*" not in notice
