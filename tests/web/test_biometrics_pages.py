"""Consent and enrolment pages: Chinese by default, CSRF on every form, roles enforced, and the
links from the trainee list and the navigation."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AlternativeVerification, Consent, DuplicateFaceFlag, Role
from app.services.consent import DEFAULT_CONSENT_VERSION
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_instructor, make_trainee, make_user


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN)


@pytest.fixture
def trainee(app, admin):
    return make_trainee("赵敏", actor=admin)


def stored(model):
    """The one stored row of ``model``, read after what the requests committed."""
    db.session.rollback()
    return db.session.scalar(select(model))


def form_with(html: str, form_id: str) -> str:
    match = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert match, f"no form #{form_id}"
    return match.group(0)


def test_staff_page_records_consent_withdraws_and_arranges_alternative(client, auth, trainee):
    make_instructor(trainee)
    auth.login("instructor", PASSWORD)
    url = f"/trainees/{trainee.id}/biometrics"
    page = client.get(url)
    assert page.status_code == 200
    assert "人脸识别知情同意书" in page.text and "撤回同意" in page.text  # the consent text itself
    assert 'data-state="none"' in page.text and "id-number" in page.text
    assert trainee.id_number not in page.text  # masked for instructors
    form = form_with(page.text, "consent-form")
    token = csrf_token_from(form)

    # without the CSRF token nothing is recorded
    refused = client.post(f"{url}/consent", data={"version": DEFAULT_CONSENT_VERSION, "method": "paper", "agree": "y"})
    assert refused.status_code == 400
    # without ticking the box nothing is recorded either
    client.post(f"{url}/consent", data={"version": DEFAULT_CONSENT_VERSION, "method": "paper", "csrf_token": token})
    assert stored(Consent) is None

    done = client.post(f"{url}/consent", data={"version": DEFAULT_CONSENT_VERSION, "method": "paper",
                                               "paper_reference": "纸质同意书 2026-001", "agree": "y",
                                               "csrf_token": token}, follow_redirects=True)
    assert "已记录同意" in done.text and "纸质签字" in done.text
    assert 'id="enrol-link"' in done.text
    consent = stored(Consent)
    assert consent.method.value == "paper"

    token = csrf_token_from(form_with(done.text, "withdraw-form"))
    refused = client.post(f"{url}/withdraw", data={"csrf_token": token}, follow_redirects=True)
    assert "签字纸质文书的编号" in refused.text and stored(Consent).withdrawn_at is None
    withdrawn = client.post(f"{url}/withdraw", data={"csrf_token": token, "paper_reference": "撤回书 2026-001"},
                            follow_redirects=True)
    assert "已撤回同意" in withdrawn.text

    token = csrf_token_from(form_with(withdrawn.text, "alternative-form"))
    arranged = client.post(f"{url}/alternative", data={"reason": "本人拒绝人脸识别", "csrf_token": token},
                           follow_redirects=True)
    assert "已安排身份证核验" in arranged.text
    assert stored(AlternativeVerification).reason == "本人拒绝人脸识别"


def test_outdated_consent_version_is_refused_with_a_message(client, auth, trainee):
    make_instructor(trainee)
    auth.login("instructor", PASSWORD)
    url = f"/trainees/{trainee.id}/biometrics"
    token = csrf_token_from(client.get(url).text)
    answer = client.post(f"{url}/consent", data={"version": "2019-01", "method": "paper", "agree": "y",
                                                 "paper_reference": "纸质同意书 2026-001",
                                                 "csrf_token": token}, follow_redirects=True)
    assert "同意书已更新" in answer.text
    assert stored(Consent) is None


def test_enrol_page_needs_consent_and_carries_the_api_urls(client, auth, trainee):
    make_instructor(trainee)
    auth.login("instructor", PASSWORD)
    url = f"/trainees/{trainee.id}/biometrics"
    blocked = client.get(f"{url}/enrol", follow_redirects=True)
    assert "须先记录学员对人脸识别的同意" in blocked.text
    token = csrf_token_from(client.get(url).text)
    client.post(f"{url}/consent", data={"version": DEFAULT_CONSENT_VERSION, "method": "paper",
                                        "paper_reference": "纸质同意书 2026-001", "agree": "y", "csrf_token": token})
    page = client.get(f"{url}/enrol")
    assert page.status_code == 200 and "getUserMedia" not in page.text  # the script is a static file
    assert f'data-check-url="/api/trainees/{trainee.id}/face/check"' in page.text
    assert f'data-enrol-url="/api/trainees/{trainee.id}/face"' in page.text
    assert 'data-csrf="' in page.text and "enrol.js" in page.text


def test_trainee_consents_on_own_page(client, auth, trainee):
    user = make_user(Role.TRAINEE)
    trainee.user_id = user.id
    db.session.commit()
    auth.login("trainee", PASSWORD)
    home = client.get("/")
    assert 'href="/me/biometrics"' in home.text and "人脸识别" in home.text
    page = client.get("/me/biometrics")
    assert "我的人脸识别" in page.text and 'name="method"' not in page.text
    token = csrf_token_from(form_with(page.text, "consent-form"))
    done = client.post("/me/biometrics/consent", data={"version": DEFAULT_CONSENT_VERSION, "agree": "y",
                                                       "csrf_token": token}, follow_redirects=True)
    assert "已记录同意" in done.text and "屏幕确认" in done.text
    assert client.get("/me/biometrics/enrol").status_code == 200
    assert 'data-check-url="/me/face/check"' not in client.get("/me/biometrics/enrol").text
    assert 'data-check-url="/api/me/face/check"' in client.get("/me/biometrics/enrol").text
    # another trainee's staff page is closed to trainees
    assert client.get(f"/trainees/{trainee.id}/biometrics").status_code == 403


@pytest.mark.parametrize("role, status", [(Role.AUDITOR, 403), (Role.REVIEWER, 403), (Role.TRAINEE, 403)])
def test_staff_pages_are_closed_to_other_roles(client, auth, trainee, role, status):
    make_user(role)
    auth.login(role.value, PASSWORD)
    assert client.get(f"/trainees/{trainee.id}/biometrics").status_code == status
    # the duplicate-face review list is the bureau's: reviewers (and administrators) only
    assert client.get("/admin/duplicate-faces").status_code == (200 if role == Role.REVIEWER else 403)


def test_trainee_list_links_to_face_pages_for_staff_only(client, auth, trainee):
    make_instructor(trainee)
    auth.login("instructor", PASSWORD)
    assert f'href="/trainees/{trainee.id}/biometrics"' in client.get("/trainees").text
    auth.logout()
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    assert "/biometrics" not in client.get("/trainees").text


def test_admin_sees_and_resolves_duplicate_flags(client, auth, admin, trainee):
    other = make_trainee("钱二", actor=admin)
    flag = DuplicateFaceFlag(trainee_id=other.id, matched_trainee_id=trainee.id, score=0.123)
    db.session.add(flag)
    db.session.commit()
    auth.login("admin", PASSWORD)
    assert 'href="/admin/duplicate-faces"' in client.get("/").text
    page = client.get("/admin/duplicate-faces")
    assert "重复人脸" in page.text and "钱二" in page.text and "赵敏" in page.text and "0.123" in page.text
    token = csrf_token_from(page.text)
    done = client.post(f"/admin/duplicate-faces/{flag.id}/resolve", data={"note": "同一人", "csrf_token": token},
                       follow_redirects=True)
    assert "已处理该标记" in done.text and "没有待处理的标记" in done.text


def test_a_reviewer_sees_the_review_list_with_the_nearest_faces_and_masked_ids(client, auth, admin, trainee):
    other, third = make_trainee("钱二", actor=admin), make_trainee("孙三", actor=admin)
    flag = DuplicateFaceFlag(trainee_id=other.id, matched_trainee_id=trainee.id, score=0.612, refused=False,
                             candidates=[{"trainee_id": str(trainee.id), "distance": 0.612},
                                         {"trainee_id": str(third.id), "distance": 0.701}])
    db.session.add(flag)
    db.session.commit()
    make_user(Role.REVIEWER)
    auth.login("reviewer", PASSWORD)
    page = client.get("/admin/duplicate-faces").text
    row = page[page.index('id="duplicate-flags"'):]
    assert "已录入，待复核" in row and "赵敏" in row and "0.612" in row and "孙三" in row and "0.701" in row
    assert trainee.id_number not in row and third.id_number not in row  # masked for reviewers
    assert f"/trainees/{trainee.id}/biometrics" not in row  # no link to pages they cannot open
