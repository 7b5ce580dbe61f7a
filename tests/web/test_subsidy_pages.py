"""Subsidy and completion pages through the client: the class page's assessment form and
links, the claim page and a line traced to its verifications (in Chinese), exports, the
printable certificate, and who may see or do what (trainees 403, auditors only read)."""
import html
import json
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (Assessment, ClassStatus, CompletionCertificate, HoursEntry, Role, SubsidyClaim,
                        TrainingClass)
from app.services.completion import issue_certificate
from app.services.resident_id import mask_resident_id
from app.xapi_profile import EXT
from app.services.registry import update_trainee
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_user
from tests.subsidy_helpers import claimed_class, enrolment_of


@pytest.fixture
def claimed(app):
    world, klass, claim, paid, _short = claimed_class()
    return world, klass, claim, paid


def test_auditor_reads_the_claim_and_traces_a_line_in_chinese(client, auth, claimed):
    _world, klass, claim, paid = claimed
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    page = client.get(f"/subsidy/classes/{klass.id}")
    assert page.status_code == 200
    assert "补贴申请" in page.text and "eligible-chart" in page.text and "1200.00" in page.text
    assert "已核验学时不足" in page.text and mask_resident_id(paid.id_number) in page.text
    assert 'id="prepare-claim"' not in page.text
    line = next(l for l in claim.lines if l.trainee_id == paid.id)
    detail = client.get(f"/subsidy/lines/{line.id}")
    assert detail.status_code == 200 and line.trace_id in detail.text
    assert "kiosk-实训楼" in detail.text and "0.312" in detail.text and "通过" in detail.text
    step = line.ledger_entry_ids[0]
    assert f'id="entry-{step}"' in detail.text and detail.text.count('class="verification"') == 2


def test_auditor_follows_a_line_down_to_its_stored_statements(client, auth, claimed):
    _world, _klass, claim, paid = claimed
    make_user(Role.AUDITOR)
    make_user(Role.REVIEWER)
    line = next(l for l in claim.lines if l.trainee_id == paid.id)
    entry = db.session.get(HoursEntry, uuid.UUID(line.ledger_entry_ids[0]))
    auth.login("auditor", PASSWORD)
    detail = client.get(f"/subsidy/lines/{line.id}").text
    link = f'href="/audit/statements/{entry.statement_id}"'
    assert link in detail and detail.count('href="/audit/statements/') >= 3  # credit, check-in, check-out
    page = client.get(f"/audit/statements/{entry.statement_id}")
    assert page.status_code == 200
    stored = json.loads(html.unescape(page.text.split('<pre id="statement-json">')[1].split("</pre>")[0]))
    assert stored["id"] == str(entry.statement_id)
    assert stored["context"]["registration"] == str(entry.enrolment_id)
    assert stored["context"]["extensions"][EXT["minutes"]] == entry.minutes
    assert client.get(f"/audit/statements/{uuid.uuid4()}").status_code == 404
    auth.logout()
    auth.login("reviewer", PASSWORD)
    detail = client.get(f"/subsidy/lines/{line.id}").text
    assert str(entry.statement_id) in detail and link not in detail  # the id, not a link
    assert client.get(f"/audit/statements/{entry.statement_id}").status_code == 403


def test_auditor_cannot_post(client, auth, claimed):
    _world, klass, _claim, _paid = claimed
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    token = csrf_token_from(client.get("/").text)
    assert client.post(f"/subsidy/classes/{klass.id}/prepare", data={"csrf_token": token}).status_code == 403
    enrolment_id = klass.enrolments[0].id
    assert client.post(f"/enrolments/{enrolment_id}/assessment", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/classes/{klass.id}/complete", data={"csrf_token": token}).status_code == 403


def test_trainee_and_other_instructors_are_refused(client, auth, claimed):
    _world, klass, claim, _paid = claimed
    make_user(Role.TRAINEE)
    auth.login("trainee", PASSWORD)
    for path in (f"/subsidy/classes/{klass.id}", f"/subsidy/lines/{claim.lines[0].id}",
                 f"/subsidy/claims/{claim.id}.csv", "/subsidy/"):
        assert client.get(path).status_code == 403, path
    auth.logout()
    make_user(Role.INSTRUCTOR, username="stranger")
    auth.login("stranger", PASSWORD)
    assert client.get(f"/subsidy/classes/{klass.id}").status_code == 403
    assert client.get(f"/subsidy/claims/{claim.id}.xlsx").status_code == 403


def test_instructor_prepares_and_exports_the_same_bytes(client, auth, claimed):
    _world, klass, claim, _paid = claimed
    auth.login("instructor", PASSWORD)
    page = client.get(f"/subsidy/classes/{klass.id}")
    assert page.status_code == 200 and 'id="prepare-claim"' in page.text
    done = client.post(f"/subsidy/classes/{klass.id}/prepare", data={"csrf_token": csrf_token_from(page.text)})
    assert done.status_code == 302
    assert db.session.scalar(select(SubsidyClaim.version).order_by(SubsidyClaim.version.desc())) == 1
    first, again = client.get(f"/subsidy/claims/{claim.id}.xlsx"), client.get(f"/subsidy/claims/{claim.id}.xlsx")
    assert first.status_code == 200 and first.data == again.data and first.data[:2] == b"PK"
    csv_file = client.get(f"/subsidy/claims/{claim.id}.csv")
    assert csv_file.data.startswith(b"\xef\xbb\xbf") and "attachment" in csv_file.headers["Content-Disposition"]


def test_instructor_records_a_result_on_the_class_page(client, auth, claimed):
    world, klass, _claim, _paid = claimed
    short = next(e for e in klass.enrolments if e.trainee.name == "韩梅梅")
    auth.login("instructor", PASSWORD)
    page = client.get(f"/classes/{klass.id}")
    assert page.status_code == 200 and "结业考核" in page.text and 'id="claim-link"' in page.text
    token = csrf_token_from(page.text)
    form = {"theory_score": "72.5", "practical_score": "88", "assessed_on": "2026-03-20",
            "evaluation_organisation_id": str(world.organisation.id), "csrf_token": token}
    assert client.post(f"/enrolments/{short.id}/assessment", data=form).status_code == 302
    db.session.rollback()
    result = db.session.scalar(select(Assessment).where(Assessment.enrolment_id == short.id))
    assert result.passed and str(result.theory_score) == "72.5"
    refused = client.post(f"/enrolments/{short.id}/assessment", data=form, follow_redirects=True)
    assert "请说明更正成绩的原因" in refused.text
    completed = client.post(f"/classes/{klass.id}/complete", data={"csrf_token": token})
    assert completed.status_code == 302
    db.session.rollback()
    assert db.session.get(TrainingClass, klass.id).status == ClassStatus.COMPLETED


def test_certificate_page_prints_and_masks_the_id_except_for_admins(client, auth, claimed):
    world, klass, _claim, paid = claimed
    certificate = issue_certificate(world.instructor, enrolment_of(klass, paid).id)
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    page = client.get(f"/certificates/{certificate.id}")
    assert page.status_code == 200 and "结业证书" in page.text and certificate.serial in page.text
    assert "certificate.css" in page.text and "style=" not in page.text
    assert paid.id_number not in page.text and mask_resident_id(paid.id_number) in page.text
    auth.logout()
    auth.login("admin", PASSWORD)
    assert paid.id_number in client.get(f"/certificates/{certificate.id}").text
    class_page = client.get(f"/classes/{klass.id}")
    assert certificate.serial in class_page.text
    assert db.session.scalar(select(CompletionCertificate.serial)) == certificate.serial


def test_trainees_print_only_their_own_certificates(client, auth, claimed):
    world, klass, _claim, paid = claimed
    certificate = issue_certificate(world.instructor, enrolment_of(klass, paid).id)
    owner = make_user(Role.TRAINEE, username="lilei")
    make_user(Role.TRAINEE, username="hanmeimei")  # another trainee, who must not see it
    db.session.get(type(paid), paid.id).user_id = owner.id
    db.session.commit()
    auth.login("lilei", PASSWORD)
    page = client.get("/me/certificates")
    assert page.status_code == 200 and "我的证书" in page.text and certificate.serial in page.text
    assert "李雷" in page.text and mask_resident_id(paid.id_number) in page.text
    assert paid.id_number not in page.text and "certificate.css" in page.text
    assert client.get(f"/certificates/{certificate.id}").status_code == 403  # staff page, by id
    auth.logout()
    auth.login("hanmeimei", PASSWORD)
    page = client.get("/me/certificates")
    assert certificate.serial not in page.text and "暂无结业证书" in page.text


def test_certificates_carry_the_latest_checkpoint_stamp_and_qr_code(client, auth, claimed):
    from app.services.checkpoints import create_checkpoint
    world, klass, _claim, paid = claimed
    certificate = issue_certificate(world.instructor, enrolment_of(klass, paid).id)
    checkpoint = create_checkpoint()
    make_user(Role.AUDITOR)
    auth.login("auditor", PASSWORD)
    page = client.get(f"/certificates/{certificate.id}")
    assert f"SkillTrace checkpoint {checkpoint.digest}" in page.text and 'class="checkpoint-qr"' in page.text
    assert "style=" not in page.text


def test_only_roles_that_see_full_ids_get_the_payment_export(client, auth, claimed):
    world, _klass, claim, paid = claimed
    update_trainee(world.admin, paid.id, paid.phone, paid.category, "", ("中国建设银行", "6217000012345678"))
    make_user(Role.AUDITOR)
    make_user(Role.REVIEWER)
    for username in ("auditor", "reviewer"):
        auth.login(username, PASSWORD)
        masked = client.get(f"/subsidy/claims/{claim.id}.csv").data.decode("utf-8-sig")
        assert paid.id_number not in masked and "6217000012345678" not in masked and "************5678" in masked
        auth.logout()
    auth.login(world.admin.username, PASSWORD)
    full = client.get(f"/subsidy/claims/{claim.id}.csv").data.decode("utf-8-sig")
    assert paid.id_number in full and "中国建设银行,6217000012345678" in full
