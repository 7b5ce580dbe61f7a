"""`flask demo seed`: demo data for a first look at the service."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.config import instance_secret
from app.extensions import db
from app.queries.accounts import count_users
from app.services.demo import demo_accounts, seed_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Seed only when the database has no accounts yet.")
def seed(if_empty: bool) -> None:
    """Create demo accounts, two institutions (each with its instructor, kiosk and class) and a
    programme; safe to run again.

    The demo password is generated once into instance/demo_password and printed; a kiosk's
    one-time enrolment code is printed only when the kiosk is created.
    """
    password = instance_secret(Path(current_app.instance_path), "demo_password", 9)
    if if_empty and count_users(db.session):
        click.echo("the database has accounts already; demo data not added")
        result = demo_accounts()
    else:
        result = seed_demo(password)
        click.echo("demo data created" if result.created else "demo data already present; nothing changed")
    click.echo("sign in at /login with any of these accounts:")
    for role, username, institution in result.accounts:
        click.echo(f"  {role:<11} {username:<12} password: {password}  {institution}".rstrip())
    for institution, site, key, code in result.kiosks:
        click.echo(f"kiosk of {institution} at {site} ({key}): open /kiosk and enter the code {code} "
                   "(works once, shown once)")
