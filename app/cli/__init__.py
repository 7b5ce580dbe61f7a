"""`flask` command groups, one module per group."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register every command group on the app."""
    from app.cli.audit import audit_cli
    from app.cli.demo import demo_cli
    from app.cli.hours import hours_cli
    from app.cli.kiosks import kiosks_cli
    from app.cli.roster import roster_cli
    from app.cli.tls import tls_cli
    from app.cli.users import users_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(roster_cli)
    app.cli.add_command(hours_cli)
    app.cli.add_command(tls_cli)
    app.cli.add_command(kiosks_cli)
