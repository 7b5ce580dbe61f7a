"""`flask hours reconcile`: check that the ledger, the intervals and the statements agree."""
import click
from flask.cli import AppGroup

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
