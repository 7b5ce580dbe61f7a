"""`/admin/users`: the list of accounts (administrators only)."""
from flask import render_template

from app.extensions import db
from app.models import Role
from app.queries import accounts as account_queries
from app.web.access import role_required
from app.web.admin import bp


@bp.route("/users")
@role_required(Role.ADMIN)
def list_users():
    """Every account with its role and last sign-in."""
    return render_template("admin/users.html", users=account_queries.list_users(db.session))
