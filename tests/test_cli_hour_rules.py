"""`flask hours rules show|set`: a programme's counting rules from the command line, only by an
administrator, and used by the next credit."""
import json

from app.extensions import db
from app.models import AuditEntry, Role
from app.services import hours
from tests.factories import make_catalogue, make_user


def test_rules_set_and_show(runner):
    admin = make_user(Role.ADMIN)
    make_user(Role.INSTRUCTOR)
    _institution, _occupation, programme = make_catalogue(admin)
    shown = runner.invoke(args=["hours", "rules", "show", programme.code])
    assert shown.exit_code == 0 and json.loads(shown.output)["daily_cap_minutes"] == 480
    refused = runner.invoke(args=["hours", "rules", "set", programme.code, "--daily-cap", "300", "--unit", "45",
                                  "--tolerance", "10", "--as", "instructor"])
    assert refused.exit_code != 0 and "not an administrator" in refused.output
    bad = runner.invoke(args=["hours", "rules", "set", programme.code, "--daily-cap", "5000", "--unit", "45",
                              "--tolerance", "10"])
    assert bad.exit_code != 0
    done = runner.invoke(args=["hours", "rules", "set", programme.code, "--daily-cap", "300", "--unit", "45",
                               "--tolerance", "10"])
    assert done.exit_code == 0, done.output
    assert json.loads(runner.invoke(args=["hours", "rules", "show", programme.code]).output) == {
        "daily_cap_minutes": 300, "unit_minutes": 45, "tolerance_minutes": 10, "hour_length_minutes": 45}
    db.session.rollback()
    assert hours.rules_for(db.session, programme.id).daily_cap == 300
    assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "hours.rule_set")) is not None
    assert runner.invoke(args=["hours", "rules", "show", "NO-SUCH"]).exit_code != 0
