"""`flask roster import FILE --class CLASS_ID`: enrol trainees from a CSV or Excel file."""
from pathlib import Path

import click
from flask.cli import AppGroup

from app.errors.exceptions import SkillTraceError
from app.extensions import db
from app.models import Role, User
from app.services.roster import import_roster, read_rows

roster_cli = AppGroup("roster", help="Class rosters.")


@roster_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--class", "class_id", required=True, help="The class id (UUID).")
@click.option("--as", "username", default="admin", show_default=True,
              help="The account the import is recorded under (admin or the institution's staff).")
def import_(file: Path, class_id: str, username: str) -> None:
    """Validate every row, register new trainees and enrol them; refused rows are listed.

    Columns: 姓名, 身份证号, 手机号, 人员类别 and optionally 工作单位 (or name, id_number,
    phone, category, employer). Importing the same file again adds nothing.
    """
    actor = db.session.scalar(db.select(User).where(User.username == username))
    if actor is None or actor.role not in (Role.ADMIN, Role.INSTRUCTOR):
        raise click.ClickException(f"{username!r} is not an admin or instructor account")
    try:
        rows = read_rows(file.name, file.read_bytes())
        with click.progressbar(length=len(rows), label="importing", show_pos=True) as bar:
            report = import_roster(actor, class_id, rows, progress=bar.update)
    except SkillTraceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"rows {report.rows}: registered {report.registered}, enrolled {report.enrolled}, "
               f"already enrolled {report.already_enrolled}, refused {len(report.refused)}")
    for line, reason in report.refused:
        click.echo(f"  line {line}: {reason}")
