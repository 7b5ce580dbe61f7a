"""`flask audit verify`: recompute the keyed audit chain, reconcile the records with each other,
with their audit entries and with their xAPI statements, and check the database against every
signed checkpoint; name every problem and exit 1 when there is one.

`flask audit checkpoint create|show` signs the chain head now or shows the latest checkpoint;
`flask audit checkpoint verify-document FILE` checks an exported document against the system."""
import json

import click
from flask.cli import AppGroup

from app.extensions import db
from app.services import checkpoints
from app.services.document_stamps import check_document
from app.services.integrity import check_integrity

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")
checkpoint_cli = AppGroup("checkpoint", help="Signed checkpoints of the audit chain, kept outside the database.")
audit_cli.add_command(checkpoint_cli)


@audit_cli.command("verify")
@click.option("--checkpoints", "checkpoint_file", type=click.Path(dir_okay=False),
              help="Check against the checkpoints in this file (default: CHECKPOINT_FILE).")
def verify(checkpoint_file: str | None) -> None:
    """Check every audit entry's hash and link, every record against the others, its audit
    entries and the LRS, and the database against every signed checkpoint; list each problem
    and exit 1 when there is any."""
    if checkpoint_file and not checkpoints.checkpoint_path(checkpoint_file).exists():
        raise click.ClickException(f"no such checkpoint file: {checkpoint_file}")
    report = check_integrity(db.session, checkpoint_file=checkpoint_file)
    path = checkpoints.checkpoint_path(checkpoint_file)
    if report.is_clean:
        click.echo("audit chain intact")
        click.echo("ledger, intervals, verifications, audit entries and LRS statements agree")
        click.echo(f"{report.checkpoints_checked} signed checkpoint(s) in {path} match"
                   if report.checkpoints_checked else f"no checkpoints yet in {path}")
        return
    for problem in report.problems:
        click.echo(problem.message)
    raise click.ClickException(f"{len(report.chain)} audit chain problem(s), "
                               f"{len(report.records)} record problem(s), "
                               f"{len(report.checkpoints)} checkpoint problem(s)")


@checkpoint_cli.command("create")
def create() -> None:
    """Sign the chain head now and append the checkpoint to the checkpoint file."""
    checkpoint = checkpoints.create_checkpoint()
    click.echo(f"checkpoint at audit entry {checkpoint.seq}, digest {checkpoint.digest}, "
               f"appended to {checkpoints.checkpoint_path()}")


@checkpoint_cli.command("show")
def show() -> None:
    """Show the latest checkpoint, its digest and the public keys that verify it."""
    checkpoint = checkpoints.latest_checkpoint()
    if checkpoint is None:
        raise click.ClickException(f"no checkpoints yet in {checkpoints.checkpoint_path()}")
    click.echo(json.dumps(checkpoint.body, ensure_ascii=False, indent=2))
    click.echo(f"digest: {checkpoint.digest}")
    click.echo(f"signature: {checkpoint.signature}")
    for kid, key in checkpoints.public_keys().items():
        click.echo(f"public key {kid} (Ed25519, base64): {key}")


@checkpoint_cli.command("verify-document")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def verify_document(file: str) -> None:
    """Check an exported trace, claim or certificate: its checkpoint stamp names a signed
    checkpoint the database still matches, and the chain and records verify; exit 1 if not."""
    with open(file, "rb") as handle:
        result = check_document(db.session, handle.read())
    if not result.problems:
        click.echo(f"document verifies: checkpoint {result.digest} matches the database")
        return
    for problem in result.problems:
        click.echo(problem)
    raise click.ClickException(f"the document does not verify against the system ({len(result.problems)} problem(s))")
