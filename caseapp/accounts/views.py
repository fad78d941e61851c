"""Sign-in, sign-out, password change and user administration pages."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from caseapp.accounts import lifecycle, services, two_factor
from caseapp.accounts.forms import LoginForm, PasswordChangeForm, TwoFactorForm, UserCreateForm
from caseapp.accounts.models import Organization, User
from caseapp.audit import services as audit
from caseapp.core import transaction
from caseapp.core.errors import ValidationFailed
from caseapp.core.security import Permission, authenticated, public, requires, safe_next
from caseapp.core.validation import apply_errors
from caseapp.extensions import db

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(
            form.email.data or "", form.password.data or "", request.remote_addr or ""
        )
        transaction.keep_on_error()  # throttle counters are kept whatever the outcome
        if result.status is services.LoginStatus.OK and result.user is not None:
            user = result.user
            _fresh_session()  # nothing from before sign-in survives
            if two_factor.is_enabled(user):
                # The password alone is not enough: remember who passed it, briefly.
                session["_2fa_pending"] = {
                    "uid": user.uuid,
                    "v": user.session_version,
                    "at": int(time.time()),
                    "next": request.args.get("next") or "",
                }
                return redirect(url_for("accounts.two_factor_login"))
            _sign_in(user)
            return redirect(safe_next(request.args.get("next")))
        if result.status is services.LoginStatus.PENDING:
            form.form_errors.append(
                _(
                    "Su cuenta aún no fue aprobada. Un(a) supervisor(a) de su organización "
                    "debe aprobarla antes de que pueda ingresar."
                )
            )
            return render_template("accounts/login.html", form=form), 403
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


def _fresh_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _sign_in(user: User) -> None:
    login_user(user)
    session["_seen"] = int(time.time())
    session.permanent = True


PENDING_SECONDS = 300


@bp.route("/login/2fa", methods=["GET", "POST"])
@public
def two_factor_login() -> Any:
    """Second step of sign-in: a code from the authenticator app or a recovery code."""
    raw = session.get("_2fa_pending")
    pending: dict[str, Any] = raw if isinstance(raw, dict) else {}
    user = None
    if pending and int(time.time()) - int(pending.get("at", 0)) < PENDING_SECONDS:
        user = db.session.scalar(sa.select(User).where(User.uuid == str(pending.get("uid"))))
    if (
        user is None
        or not user.is_active
        or user.session_version != pending.get("v")
        or not two_factor.is_enabled(user)
    ):
        session.pop("_2fa_pending", None)
        flash(_("Vuelva a ingresar su correo y contraseña."), "info")
        return redirect(url_for("accounts.login"))
    form = TwoFactorForm()
    status = 200
    if form.validate_on_submit():
        ok = two_factor.verify(user, form.code.data or "")
        if ok:
            audit.record(user, "auth.2fa_ok", object_type="user", object_id=user.uuid)
        transaction.keep_on_error()  # failures count towards the lock whatever the outcome
        if ok:
            target = pending.get("next") or None
            _fresh_session()
            _sign_in(user)
            return redirect(safe_next(target))
        if two_factor.locked(user):
            form.form_errors.append(
                _("Demasiados intentos fallidos. Espere 15 minutos e inténtelo de nuevo.")
            )
        else:
            form.form_errors.append(_("El código no es válido o ya se usó."))
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("accounts/two_factor_login.html", form=form), status


@bp.route("/account/2fa", methods=["GET", "POST"])
@authenticated
def two_factor_setup() -> Any:
    """Enrol an authenticator app (required for supervisors, admins and statisticians)."""
    user = current_user._get_current_object()
    form = TwoFactorForm()
    status = 200
    recovery_codes: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action")
        if action == "start" and not two_factor.is_enabled(user):
            two_factor.start_enrolment(user)
        elif action == "confirm" and not two_factor.is_enabled(user):
            try:
                recovery_codes = two_factor.confirm_enrolment(user, form.code.data or "")
            except ValidationFailed:
                db.session.rollback()
                form.code.errors = [_("El código no es válido. Revise la hora del teléfono.")]
                status = 422
        elif action == "disable" and two_factor.is_enabled(user):
            if two_factor.required_for(user):
                form.form_errors.append(_("Su rol exige la verificación en dos pasos."))
                status = 403
            elif not two_factor.verify(user, form.code.data or ""):
                transaction.keep_on_error()  # failures count towards the lock
                form.code.errors = [_("El código no es válido o ya se usó.")]
                status = 422
            else:
                two_factor.disable(user)
                logout_user()
                _fresh_session()
                flash(_("Verificación en dos pasos desactivada. Ingrese de nuevo."), "info")
                return redirect(url_for("accounts.login"))
    elif request.method == "POST":
        status = 422
    enrolling = user.totp_secret is not None and not two_factor.is_enabled(user)
    return render_template(
        "accounts/two_factor_setup.html",
        form=form,
        enabled=two_factor.is_enabled(user),
        required=two_factor.required_for(user),
        enrolling=enrolling,
        qr=two_factor.qr_data_uri(user) if enrolling else None,
        secret=user.totp_secret if enrolling else None,
        recovery_codes=recovery_codes,
        remaining=two_factor.remaining_recovery_codes(user) if two_factor.is_enabled(user) else 0,
    ), status


@bp.post("/logout")
@authenticated
def logout() -> Any:
    services.logout(current_user._get_current_object())
    logout_user()
    _fresh_session()
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
            created = lifecycle.create_user_by_admin(
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
            if created.is_pending_approval:
                flash(
                    _(
                        "Usuario creado. No podrá ingresar hasta que un(a) supervisor(a) de "
                        "%(org)s apruebe la cuenta.",
                        org=created.organization.code,
                    ),
                    "success",
                )
            else:
                flash(_("Usuario creado."), "success")
            return redirect(url_for("accounts.users"))
    rows = db.session.scalars(sa.select(User).order_by(User.email)).all()
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/users.html", form=form, users=rows), status


# deactivation, tokens and four-eyes approval pages (routes on this blueprint)
from caseapp.accounts import lifecycle_views as _lifecycle_views  # noqa: E402,F401
