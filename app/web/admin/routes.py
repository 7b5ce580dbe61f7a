"""`/admin/users`: accounts (administrators only) — list and create; `/admin/users/<uuid>`: change
role, institution, active flag and name; `…/password`: set a new password. Every change is audited
by the accounts service; an administrator cannot deactivate themself."""
from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.errors.exceptions import NotFoundError, SkillTraceError
from app.extensions import db
from app.models import Role
from app.queries import accounts as account_queries
from app.queries import catalogue as catalogue_queries
from app.services.accounts import create_account, reset_password, update_account
from app.web.access import role_required
from app.web.admin import bp
from app.web.forms import act_then_redirect, field


def _page(template: str, status: int = 200, **context):
    return render_template(template, roles=list(Role), form=request.form, errors={},
                           institutions=catalogue_queries.list_listed(db.session, "institution"),
                           **context), status


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def list_users():
    """GET: every account with its role, institution and last sign-in, and the form for a new
    one. POST: create it (an instructor needs an institution); the form again with the problem."""
    if request.method == "POST":
        try:
            user = create_account(current_user, field("username"), field("role"), request.form.get("password", ""),
                                  field("institution_id") or None, field("display_name"))
        except SkillTraceError as exc:
            return _page("admin/users.html", 400, users=account_queries.list_users(db.session),
                         problem=exc.message, problems=exc.errors)
        flash(_("Account %(name)s created.", name=user.username), "info")
        return redirect(url_for("admin.list_users"))
    return _page("admin/users.html", users=account_queries.list_users(db.session), problem="", problems={})


def _user_or_404(user_id):
    user = account_queries.get_user(db.session, user_id)
    if user is None:
        raise NotFoundError(_("No such account."))
    return user


@bp.route("/users/<uuid:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: uuid.UUID):
    """GET: the account's form. POST: change role, institution, active flag and name."""
    user = _user_or_404(user_id)
    if request.method == "POST":
        return act_then_redirect(
            lambda: update_account(current_user, user_id, field("role"), field("institution_id") or None,
                                   request.form.get("active") == "on", field("display_name")),
            _("The account is changed."), url_for("admin.edit_user", user_id=user_id))
    return _page("admin/user.html", user=user)


@bp.route("/users/<uuid:user_id>/password", methods=["POST"])
@role_required(Role.ADMIN)
def reset_user_password(user_id: uuid.UUID):
    """Set a new password (field ``password``, at least 8 characters)."""
    _user_or_404(user_id)
    return act_then_redirect(lambda: reset_password(current_user, user_id, request.form.get("password", "")),
                             _("The password is set."), url_for("admin.edit_user", user_id=user_id))
