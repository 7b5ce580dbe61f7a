"""`flask scheduler run`: the one scheduler process."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.jobs.runner import SchedulerBusyError, run_scheduler

scheduler_cli = AppGroup("scheduler", help="Background jobs.")


@scheduler_cli.command("run")
@click.option("--once", is_flag=True, help="Run every recurring job once, then exit.")
def run(once: bool) -> None:
    """Run the scheduler (one per installation; a second one exits)."""
    app = current_app._get_current_object()
    try:
        names = run_scheduler(app, once=once)
    except SchedulerBusyError as exc:
        raise click.ClickException(str(exc)) from exc
    if once:
        click.echo("ran: " + ", ".join(names))
