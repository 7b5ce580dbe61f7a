"""`flask audit verify`: recompute the hash chain of the audit log and say where it breaks."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.services.audit import verify_chain

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
def verify() -> None:
    """Check every entry's hash and link; exit 1 and list each break when the chain is broken."""
    breaks = verify_chain(db.session)
    if not breaks:
        click.echo("audit chain intact")
        return
    for item in breaks:
        click.echo(f"entry {item.seq}: {item.problem}")
    raise click.ClickException(f"audit chain broken in {len(breaks)} place(s)")
