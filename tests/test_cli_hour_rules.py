"""`flask hours rules show|set`: a programme's counting rules from the command line, only by an
administrator, versioned by effective date, and used by the next credit."""
import json

from app.extensions import db
from app.models import AuditEntry, HourRule, Role
from app.services import hour_rules
from tests.factories import make_catalogue, make_user


def _set(runner, code, *extra):
    return runner.invoke(args=["hours", "rules", "set", code, "--daily-cap", "300", "--unit", "45",
                               "--tolerance", "10", *extra])


def test_rules_set_and_show(runner):
    admin = make_user(Role.ADMIN)
    make_user(Role.INSTRUCTOR)
    _institution, _occupation, programme = make_catalogue(admin)
    shown = runner.invoke(args=["hours", "rules", "show", programme.code])
    assert shown.exit_code == 0 and json.loads(shown.output)["in_force"]["daily_cap_minutes"] == 480
    assert json.loads(shown.output)["in_force"]["rule_version"] is None
    refused = _set(runner, programme.code, "--as", "instructor")
    assert refused.exit_code != 0 and "not an administrator" in refused.output
    bad = runner.invoke(args=["hours", "rules", "set", programme.code, "--daily-cap", "5000", "--unit", "45",
                              "--tolerance", "10"])
    assert bad.exit_code != 0
    assert db.session.scalar(db.select(HourRule)) is None
    done = _set(runner, programme.code, "--from", "2020-01-01", "--roll-calls-per-hour", "4",
                "--practical-percent", "40")
    assert done.exit_code == 0, done.output
    in_force = json.loads(runner.invoke(args=["hours", "rules", "show", programme.code]).output)["in_force"]
    assert in_force == {"daily_cap_minutes": 300, "unit_minutes": 45, "tolerance_minutes": 10,
                        "hour_length_minutes": 45, "practical_percent": 40, "roll_calls_per_hour": 4,
                        "rule_version": 1, "effective_from": "2020-01-01"}
    later = _set(runner, programme.code, "--from", "2099-01-01", "--hour-length", "60", "--unit", "60")
    assert later.exit_code == 0, later.output
    versions = json.loads(runner.invoke(args=["hours", "rules", "show", programme.code]).output)["versions"]
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["hour_length_minutes"] == 60
    db.session.rollback()
    assert hour_rules.rules_for(db.session, programme.id).version == 1
    assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "hours.rule_set")) is not None
    assert runner.invoke(args=["hours", "rules", "show", "NO-SUCH"]).exit_code != 0


def test_a_version_cannot_start_before_the_newest(runner):
    admin = make_user(Role.ADMIN)
    _institution, _occupation, programme = make_catalogue(admin)
    assert _set(runner, programme.code, "--from", "2030-01-01").exit_code == 0
    earlier = _set(runner, programme.code, "--from", "2029-12-31")
    assert earlier.exit_code != 0 and "2030-01-01" in earlier.output
    db.session.rollback()
    assert len(hour_rules.history(db.session, programme.id)) == 1
