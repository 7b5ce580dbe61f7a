"""`flask audit verify`: recompute the audit hash chain and reconcile the ledger, intervals and
verifications with their xAPI statements; name every problem and exit 1 when there is one."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.services.integrity import check_integrity

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
def verify() -> None:
    """Check every audit entry's hash and link, and every ledger entry, interval and
    verification against the LRS; list each problem and exit 1 when there is any."""
    report = check_integrity(db.session)
    if report.is_clean:
        click.echo("audit chain intact")
        click.echo("ledger, intervals, verifications and LRS statements agree")
        return
    for problem in report.problems:
        click.echo(problem.message)
    raise click.ClickException(f"{len(report.chain)} audit chain problem(s), "
                               f"{len(report.records)} record problem(s)")
