"""`flask hours reconcile`: check that the ledger, the intervals and the statements agree.
`flask hours rules show|set CODE`: a programme's counting rules, versioned by effective date."""
import json

import click
from flask import current_app
from flask.cli import AppGroup

from app.clock import local_today

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import Programme, Role, User
from app.services import hour_rules
from app.services.reconciliation import KINDS, reconcile

hours_cli = AppGroup("hours", help="The hours ledger.")


@hours_cli.command("reconcile")
def reconcile_command() -> None:
    """Reconcile ledger = intervals = statements, print the report; exit 1 on any difference."""
    report = reconcile()
    click.echo(f"reconciliation {report.run_id} in {report.seconds:.2f} s")
    for name, count in report.checked.items():
        click.echo(f"  checked {name}: {count}")
    if report.is_clean:
        click.echo("no differences")
        return
    for kind, count in sorted(report.counts_by_kind().items()):
        click.echo(f"  {kind}: {count} ({KINDS[kind]})")
    for difference in report.differences:
        ids = " ".join(f"{k}={v}" for k, v in difference.ids.items())
        click.echo(f"{difference.kind} {ids}")
    raise click.ClickException(f"{len(report.differences)} difference(s) found")


rules_cli = AppGroup("rules", help="A programme's counting rules.")
hours_cli.add_command(rules_cli)


def _programme(code: str) -> Programme:
    programme = db.session.scalar(db.select(Programme).where(Programme.code == code))
    if programme is None:
        raise click.ClickException(f"no programme with code {code!r}")
    return programme


def _version_dict(rule) -> dict:
    return {"version": rule.version, "effective_from": rule.effective_from.isoformat(),
            "hour_length_minutes": rule.hour_length_minutes, "unit_minutes": rule.unit_minutes,
            "daily_cap_minutes": rule.daily_cap_minutes, "tolerance_minutes": rule.tolerance_minutes,
            "practical_percent": rule.practical_percent, "roll_calls_per_hour": rule.roll_calls_per_hour}


@rules_cli.command("show")
@click.argument("code")
def rules_show(code: str) -> None:
    """Print, as JSON, the rules in force today (its own version, or the defaults: version null)
    and every version of the programme, newest first."""
    programme = _programme(code)
    click.echo(json.dumps({"in_force": hour_rules.rules_for(db.session, programme.id).as_dict(),
                           "versions": [_version_dict(r) for r in hour_rules.history(db.session, programme.id)]},
                          ensure_ascii=False))


@rules_cli.command("set")
@click.argument("code")
@click.option("--from", "effective_from", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Beijing date from which the version applies (default: today).")
@click.option("--hour-length", type=click.Choice(["45", "60"]), default="45", show_default=True,
              help="Minutes in one standard hour (学时).")
@click.option("--unit", type=int, required=True, help="Rounding: 1 (minutes) or the standard-hour length.")
@click.option("--daily-cap", type=int, required=True, help="Minutes a day per enrolment (1–1440).")
@click.option("--tolerance", type=int, required=True, help="Minutes around the session window (0–120).")
@click.option("--practical-percent", type=int, default=0, show_default=True,
              help="Share of the required hours that is practice (0–100).")
@click.option("--roll-calls-per-hour", type=int, default=None,
              help="Face roll-calls per hour of online study (1–12; default: the configured rate).")
@click.option("--as", "username", default="admin", show_default=True, help="The administrator setting it.")
def rules_set(code: str, effective_from, hour_length: str, unit: int, daily_cap: int, tolerance: int,
              practical_percent: int, roll_calls_per_hour: int | None, username: str) -> None:
    """Add a version of the programme's rules (audited; never back-dated into a credited day)."""
    actor = db.session.scalar(db.select(User).where(User.username == username))
    if actor is None or actor.role != Role.ADMIN:
        raise click.ClickException(f"{username!r} is not an administrator account")
    values = hour_rules.RuleInput(
        effective_from.date() if effective_from else local_today(), int(hour_length), unit, daily_cap, tolerance,
        practical_percent, roll_calls_per_hour or int(current_app.config["STUDY_ROLL_CALLS_PER_HOUR"]))
    try:
        rule = hour_rules.set_hour_rule(actor, _programme(code).id, values)
    except SkillTraceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"rules of {code} version {rule.version} from {values.effective_from}: standard hour "
               f"{values.hour_length} min, unit {unit} min, daily cap {daily_cap} min, tolerance {tolerance} min, "
               f"practical {practical_percent} %, {values.roll_calls_per_hour} roll-calls an hour")
