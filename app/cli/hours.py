"""`flask hours reconcile`: check that the ledger, the intervals and the statements agree.
`flask hours rules show|set CODE`: a programme's counting rules (daily cap, unit, tolerance)."""
import json

import click
from flask.cli import AppGroup

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import Programme, Role, User
from app.services import hours
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


@rules_cli.command("show")
@click.argument("code")
def rules_show(code: str) -> None:
    """Print the rules the programme's minutes are counted by now (its own, or the defaults)."""
    rules = hours.rules_for(db.session, _programme(code).id)
    click.echo(json.dumps({**rules.as_dict(), "hour_length_minutes": rules.hour_length}, ensure_ascii=False))


@rules_cli.command("set")
@click.argument("code")
@click.option("--daily-cap", type=int, required=True, help="Minutes a day per enrolment (1–1440).")
@click.option("--unit", type=click.Choice(["1", "45"]), required=True, help="Counting unit in minutes.")
@click.option("--tolerance", type=int, required=True, help="Minutes around the session window (0–120).")
@click.option("--as", "username", default="admin", show_default=True, help="The administrator setting it.")
def rules_set(code: str, daily_cap: int, unit: str, tolerance: int, username: str) -> None:
    """Set the programme's rules (audited)."""
    actor = db.session.scalar(db.select(User).where(User.username == username))
    if actor is None or actor.role != Role.ADMIN:
        raise click.ClickException(f"{username!r} is not an administrator account")
    try:
        hours.set_hour_rule(actor, _programme(code).id, daily_cap, int(unit), tolerance)
    except SkillTraceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"rules of {code} set: daily cap {daily_cap} min, unit {unit} min, tolerance {tolerance} min")
