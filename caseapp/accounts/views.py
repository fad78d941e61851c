"""Sign-in, sign-out, password change and user administration pages."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from caseapp.accounts import services
from caseapp.accounts.forms import LoginForm, PasswordChangeForm, UserCreateForm
from caseapp.accounts.models import Organization, User
from caseapp.core.errors import ValidationFailed
from caseapp.core.security import Permission, authenticated, public, requires
from caseapp.extensions import db
from caseapp.web.forms import apply_errors
from caseapp.web.safety import safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(form.email.data or "", form.password.data or "")
        db.session.commit()  # throttle counters are kept whatever the outcome
        if result.status is services.LoginStatus.OK and result.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session: nothing from before sign-in survives
            if lang:
                session["lang"] = lang
            login_user(result.user)
            session["_seen"] = int(time.time())
            session.permanent = True
            return redirect(safe_next(request.args.get("next")))
        if result.status is services.LoginStatus.LOCKED:
            form.form_errors.append(
                _("Demasiados intentos fallidos. Espere 15 minutos e inténtelo de nuevo.")
            )
        else:
            form.form_errors.append(_("Correo o contraseña incorrectos."))
        status = 401
    elif request.method == "POST":
        status = 422
    if session.pop("_flash_idle", None):
        flash(_("Su sesión se cerró por inactividad. Vuelva a ingresar."), "info")
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@authenticated
def logout() -> Any:
    services.logout(current_user._get_current_object())
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Sesión cerrada."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@authenticated
def change_password() -> Any:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(
                user, current=form.current_password.data or "", new=form.new_password.data or ""
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(
                _("Contraseña cambiada. Todas sus sesiones se cerraron; ingrese de nuevo."),
                "success",
            )
            return redirect(url_for("accounts.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/password.html", form=form), status


@bp.route("/admin/users", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def users() -> Any:
    form = UserCreateForm()
    orgs = db.session.scalars(sa.select(Organization).order_by(Organization.code)).all()
    form.org.choices = [(o.code, f"{o.code} — {o.name}") for o in orgs]
    if form.validate_on_submit():
        try:
            services.create_user(
                current_user,
                email=form.email.data or "",
                role=form.role.data or "",
                org_code=form.org.data or "",
                password=form.password.data or "",
                full_name=form.full_name.data or "",
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Usuario creado."), "success")
            return redirect(url_for("accounts.users"))
    rows = db.session.scalars(sa.select(User).order_by(User.email)).all()
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/users.html", form=form, users=rows), status
