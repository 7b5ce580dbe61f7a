"""Sign-in, sign-out and password change. Failed sign-ins are rate-limited per client address
and user name, and per address across user names (password spraying); there is no lock on a
user name alone, so nobody elsewhere can lock its owner out. Sign-out and a password change end
every session of the account (its session version is raised)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import limiter
from app.errors.exceptions import PermissionDeniedError, ValidationError
from app.services.accounts import authenticate, change_password, end_all_sessions
from app.services.trainee_accounts import activate_account
from app.web.auth import bp
from app.web.auth.forms import PasswordForm, SignInForm


def _failure_key() -> str:
    return f"{get_remote_address()}|{request.form.get('username', '').strip().lower()}"


def _failed(response) -> bool:
    """Only answers that did not sign anyone in count against the limit."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    """Follow ``next`` only to a path on this site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_FAILURE_LIMIT"], key_func=_failure_key,
               methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_FAILURE_LIMIT"], key_func=get_remote_address,
               methods=["POST"], deduct_when=_failed, scope="login-address")
def login():
    """GET: the sign-in page. POST: sign in and redirect to ``next``; 200 with a message on failure."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong user name or password."), "error")
    elif request.method == "POST" and form.errors:
        flash(_("Please fill in both fields."), "error")
    return render_template("auth/login.html", form=form), 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """POST only (with CSRF token), so a link elsewhere cannot sign anyone out. Ends every
    session of the account: a copy of the cookie kept anywhere is signed out too."""
    end_all_sessions(current_user.id)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ACTIVATION_RATE_LIMIT"], key_func=get_remote_address,
               methods=["POST"], deduct_when=_failed)
def activate():
    """GET: the trainee's account activation form. POST: check the ID number and one-time code,
    set the password and sign the trainee in; the form again with the problem named."""
    errors = {}
    if request.method == "POST":
        if current_user.is_authenticated:
            raise PermissionDeniedError(_("Sign out before activating an account."))
        try:
            user = activate_account(request.form.get("id_number", ""), request.form.get("code", ""),
                                    request.form.get("password", ""), request.form.get("confirm", ""))
        except ValidationError as exc:
            errors = exc.errors or {"code": exc.message}
        else:
            login_user(user)
            flash(_("Your account is active. Sign in next time with the user name %(username)s.",
                    username=user.username), "info")
            return redirect(url_for("main.index"))
    form = {"id_number": request.form.get("id_number", ""), "code": request.form.get("code", "")}
    return render_template("auth/activate.html", errors=errors, form=form), 400 if errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """GET: the form. POST: change one's own password; every session ends, so sign in again."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user.id, form.current_password.data, form.new_password.data)
        except ValidationError as exc:
            flash(exc.message, "error")
        else:
            logout_user()
            flash(_("Password changed: sign in again with the new one."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)
