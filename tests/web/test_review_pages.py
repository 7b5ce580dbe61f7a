"""`/reviews`: a reviewer confirms pending exemptions and ID-card arrangements; the granter (when a
reviewer) is refused with nothing changed, and other roles cannot open the page."""
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AlternativeVerification, Enrolment, Exemption, Role
from app.services.certificates import add_certificate, grant_exemption
from app.services.consent import arrange_alternative_verification
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_catalogue, make_class, make_trainee, make_user


@pytest.fixture
def pending(app):
    admin = make_user(Role.ADMIN)
    institution, occupation, programme = make_catalogue(admin)
    instructor = make_user(Role.INSTRUCTOR, institution=institution)
    trainee = make_trainee("黄忠")
    trainee.registered_by_institution_id = institution.id
    make_class(admin, institution, programme, instructor, [trainee])
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.trainee_id == trainee.id))
    certificate = add_certificate(admin, trainee.id, occupation.id, "level_5", "S000044000001213000777",
                                  date(2024, 5, 1))
    granter = make_user(Role.INSTRUCTOR, username="granter", institution=institution)
    exemption = grant_exemption(granter, enrolment.id, certificate.id, 12, "持五级证书免修理论")
    granter.role = Role.REVIEWER  # moved to the bureau since: still not the second person of their own act
    db.session.commit()
    arrangement = arrange_alternative_verification(instructor, trainee.id, "本人拒绝人脸识别")
    return exemption, arrangement


def _state(model, row_id):
    db.session.rollback()
    return db.session.get(model, row_id).confirmed_at


def test_reviewer_confirms_and_the_granter_cannot(client, auth, pending):
    exemption, arrangement = pending
    auth.login("granter", PASSWORD)
    page = client.get("/reviews")
    assert page.status_code == 200 and "黄忠" in page.text and "S000044000001213000777" in page.text
    token = csrf_token_from(page.text)
    refused = client.post(f"/reviews/exemptions/{exemption.id}/confirm", data={"csrf_token": token},
                          follow_redirects=True)
    assert "审核人员确认" in refused.text and _state(Exemption, exemption.id) is None
    auth.logout()
    make_user(Role.REVIEWER, username="second")
    auth.login("second", PASSWORD)
    token = csrf_token_from(client.get("/reviews").text)
    done = client.post(f"/reviews/exemptions/{exemption.id}/confirm", data={"csrf_token": token},
                       follow_redirects=True)
    assert "免修已确认" in done.text and _state(Exemption, exemption.id) is not None
    done = client.post(f"/reviews/alternatives/{arrangement.id}/confirm", data={"csrf_token": token},
                       follow_redirects=True)
    assert "身份证核验安排已确认" in done.text and _state(AlternativeVerification, arrangement.id) is not None
    assert "没有待确认的事项" in done.text


def test_other_roles_cannot_open_or_confirm(client, auth, pending):
    exemption, _arrangement = pending
    auth.login("instructor", PASSWORD)
    assert client.get("/reviews").status_code == 403
    token = csrf_token_from(client.get("/").text)
    assert client.post(f"/reviews/exemptions/{exemption.id}/confirm", data={"csrf_token": token}).status_code == 403
    assert _state(Exemption, exemption.id) is None


def test_the_demo_reviewer_finds_institution_bs_id_card_check_waiting_and_confirms_it(client, auth):
    from app.services.demo import ALTERNATIVE_REASON, seed_demo
    seed_demo(PASSWORD)
    auth.login("reviewer", PASSWORD)
    page = client.get("/reviews").text
    assert "孙丽" in page and ALTERNATIVE_REASON in page
    arrangement = db.session.scalar(select(AlternativeVerification))
    assert arrangement.confirmed_at is None    # pending: it counts only after the second person
    response = client.post(f"/reviews/alternatives/{arrangement.id}/confirm",
                           data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "身份证核验安排已确认" in response.text and "没有待确认的事项" in response.text
    assert _state(AlternativeVerification, arrangement.id) is not None
