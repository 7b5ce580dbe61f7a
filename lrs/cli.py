"""`flask lrs credentials create|list|revoke`: manage LRS client credentials."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from lrs import service
from lrs.exceptions import NotFoundError

lrs_cli = AppGroup("lrs", help="xAPI Learning Record Store.")
credentials_cli = AppGroup("credentials", help="LRS client credentials (HTTP Basic).")
lrs_cli.add_command(credentials_cli)


@credentials_cli.command("create")
@click.option("--name", required=True, help="Who the credential is for; shown in authority.")
@click.option("--scopes", default="all", show_default=True,
              help="Comma-separated xAPI scopes, e.g. statements/write,statements/read/mine.")
def create(name: str, scopes: str) -> None:
    """Create a key/secret pair and print it as JSON (the secret is shown only once)."""
    try:
        pair = service.create_credential(current_app.extensions["lrs_store"], name,
                                         [s.strip() for s in scopes.split(",") if s.strip()])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(pair))


@credentials_cli.command("list")
def list_() -> None:
    """List credentials (never their secrets) as JSON."""
    click.echo(json.dumps(service.list_credentials(current_app.extensions["lrs_store"]),
                          indent=2))


@credentials_cli.command("revoke")
@click.argument("key")
def revoke(key: str) -> None:
    """Revoke the credential with KEY; what it stored keeps it as authority."""
    try:
        service.revoke_credential(current_app.extensions["lrs_store"], key)
    except NotFoundError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"revoked {key}")
