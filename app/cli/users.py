"""`flask users …`: create and list accounts."""
import click
from flask.cli import AppGroup

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import Role
from app.queries.accounts import list_users
from app.services.accounts import create_account

users_cli = AppGroup("users", help="Manage sign-in accounts.")


@users_cli.command("create")
@click.option("--username", required=True, help="Lower-case letters, digits, '_', '.', '-'.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.password_option("--password", help="At least 8 characters; prompted when omitted.")
@click.option("--institution", default="",
              help="Code of the instructor's institution (required for instructors; province roles have none).")
@click.option("--name", "display_name", default="", help="Name shown in the pages.")
def create(username: str, role: str, password: str, institution: str, display_name: str) -> None:
    """Create an account with one role (an instructor in their institution); audited."""
    try:
        user = create_account(None, username, role, password, institution or None, display_name)
    except SkillTraceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc
    place = f", {user.institution.code}" if user.institution else ""
    click.echo(f"created {user.username} ({user.role.value}{place})")


@users_cli.command("list")
def list_() -> None:
    """List accounts: user name, role, institution, active, last sign-in."""
    for user in list_users(db.session):
        last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "-"
        state = "active" if user.active else "inactive"
        place = user.institution.code if user.institution else "-"
        click.echo(f"{user.username:<24} {user.role.value:<11} {place:<12} {state:<8} {last}")
