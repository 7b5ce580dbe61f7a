"""An auditor in the browser follows a subsidy claim line back to the face verification behind
it: navigation → claims → the class's claim → a line → its ledger entry, interval and the
check-in verification (decision, distance, liveness, device) with statement ids."""

import pytest

from app.models import Role
from tests.browser.test_navigation import sign_in
from tests.fixtures.browser import DEMO_PASSWORD, open_page
from tests.fixtures.serving import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def claim_server(tmp_path_factory):
    """A fresh app with one class claimed: 李雷 eligible with face-verified hours, 韩梅梅 short."""
    from datetime import date

    from flask_migrate import upgrade

    from app.services.subsidy import prepare_claim
    from tests.conftest import build_app
    from tests.factories import make_trainee, make_user
    from tests.subsidy_helpers import attend, class_on, complete_enrolment, enrolment_of, make_world

    instance = tmp_path_factory.mktemp("subsidy-live")
    app = build_app(f"sqlite:///{instance / 'live.db'}", instance)
    with app.app_context():
        upgrade()
        world = make_world()
        make_user(Role.AUDITOR, password=DEMO_PASSWORD)
        paid, short = make_trainee("李雷", actor=world.admin), make_trainee("韩梅梅", actor=world.admin)
        klass = class_on(world, date(2026, 3, 2), [paid, short])
        complete_enrolment(world, enrolment_of(klass, paid))
        attend(enrolment_of(klass, short), 90)
        claim = prepare_claim(world.admin, klass.id)
        line = next(l for l in claim.lines if l.trainee_id == paid.id)
        check_in_id = str(_check_in_of(line))
        expected = {"class_code": klass.code, "trace_id": line.trace_id, "check_in": check_in_id}
    with served(app) as url:
        yield url, expected


def _check_in_of(line):
    from app.extensions import db
    from app.queries.subsidy import list_trace_steps
    return list_trace_steps(db.session, line.ledger_entry_ids)[0].check_in.id


@pytest.fixture
def auditor_page(browser, claim_server):
    with open_page(browser, claim_server[0]) as page:
        yield page


def test_auditor_traces_a_claim_line_to_the_check_in(auditor_page, claim_server):
    page, expected = auditor_page, claim_server[1]
    sign_in(page, "auditor")
    page.locator("#nav").get_by_role("link", name="补贴申请").click()
    page.wait_for_url("**/subsidy/")
    page.locator("#claims").get_by_role("link", name=expected["class_code"], exact=False).click()
    page.locator("#claim-lines").wait_for()
    assert "1 名符合条件" in page.locator("#claim-totals").inner_text()
    assert page.locator("#prepare-claim").count() == 0  # auditors change nothing
    row = page.locator("#claim-lines tr[data-trainee='李雷']")
    row.locator("a.trace-link").click()
    page.wait_for_url("**/subsidy/lines/**")
    assert expected["trace_id"] in page.locator("h1").inner_text()
    check_in = page.locator(f"tr[data-verification='{expected['check_in']}']")
    check_in.wait_for()
    text = check_in.inner_text()
    assert "签到" in text and "通过" in text
    assert "0.312" in text and "kiosk-实训楼" in text and "眨眼" in text
    assert check_in.locator("code.statement-id").inner_text() not in ("", "—")
