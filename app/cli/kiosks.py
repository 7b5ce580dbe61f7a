"""`flask kiosks create|list|revoke`: provision check-in kiosks for an institution's site; the
one-time enrolment code is printed once (the kiosk page asks for it and binds its device key)."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import Institution, Role, User
from app.services.kiosks import create_kiosk, kiosk_state, list_kiosks, revoke_kiosk

kiosks_cli = AppGroup("kiosks", help="Check-in kiosks.")


def _actor(username: str) -> User:
    actor = db.session.scalar(db.select(User).where(User.username == username))
    if actor is None or actor.role not in (Role.ADMIN, Role.INSTRUCTOR):
        raise click.ClickException(f"{username!r} is not an admin or instructor account")
    return actor


def _institution(code: str) -> Institution:
    institution = db.session.scalar(db.select(Institution).where(Institution.code == code))
    if institution is None:
        raise click.ClickException(f"no institution with code {code!r}")
    return institution


@kiosks_cli.command("create")
@click.option("--institution", "code", required=True, help="The institution's code.")
@click.option("--site", required=True, help="The site, exactly as sessions name their place.")
@click.option("--name", required=True, help="A name for the kiosk.")
@click.option("--ranges", default="", help="Allowed client address ranges, CIDR, comma-separated (default: any).")
@click.option("--as", "username", default="admin", show_default=True, help="Who provisions it (admin or staff).")
@click.option("--screen-facing/--no-screen-facing", default=True, show_default=True,
              help="Whether its screen faces the trainee (off: no screen-colour step).")
def create(code: str, site: str, name: str, ranges: str, username: str, screen_facing: bool) -> None:
    """Register a kiosk and print its one-time enrolment code (shown only now)."""
    try:
        kiosk, enrolment_code = create_kiosk(_actor(username), name, _institution(code).id, site, ranges,
                                             screen_facing)
    except SkillTraceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"key {kiosk.key}\ncode {enrolment_code}\n(type the code on the kiosk page /kiosk within "
               f"{current_app.config['KIOSK_CODE_HOURS']} hours; it works once and is not shown again)")


@kiosks_cli.command("list")
@click.option("--institution", "code", default=None, help="Only this institution's kiosks.")
@click.option("--as", "username", default="admin", show_default=True)
def list_(code: str | None, username: str) -> None:
    """Key, state (bound, waiting for its code, code expired, revoked), site, ranges and name."""
    institution_id = _institution(code).id if code else None
    for kiosk in list_kiosks(_actor(username), institution_id):
        click.echo(f"{kiosk.key}\t{kiosk_state(kiosk)}\t{kiosk.site}\t{kiosk.allowed_ranges or '*'}\t{kiosk.name}")


@kiosks_cli.command("revoke")
@click.argument("key")
@click.option("--as", "username", default="admin", show_default=True)
def revoke(key: str, username: str) -> None:
    """Deactivate the kiosk with KEY: its device key stops working at once."""
    try:
        revoke_kiosk(_actor(username), key)
    except SkillTraceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"revoked {key}")
