"""Pages for the account lifecycle (docs/decisions/0013): an admin deactivates and
reactivates accounts and revokes their API tokens; a supervisor approves the accounts an
admin created for their own organization (four eyes). Routes on ``accounts.bp``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.accounts import lifecycle
from caseapp.accounts import tokens as token_service
from caseapp.accounts.forms import ActionForm, DeactivateForm
from caseapp.accounts.views import bp
from caseapp.core.errors import Conflict
from caseapp.core.security import Permission, requires
from caseapp.extensions import db


def _conflict_message(exc: Conflict) -> str:
    return {
        "own_account": _("No puede desactivar su propia cuenta."),
        "already_deactivated": _("La cuenta ya estaba desactivada."),
        "already_active": _("La cuenta ya estaba activa."),
        "already_revoked": _("El token ya estaba revocado."),
    }.get(exc.code, _("La acción no es posible en el estado actual."))


def _user_page(user: Any, form: DeactivateForm | None = None, status: int = 200) -> Any:
    rows = token_service.list_tokens(user)
    return render_template(
        "accounts/user_detail.html",
        user=user,
        tokens=[(row, token_service.status(row)) for row in rows],
        form=form or DeactivateForm(),
        action_form=ActionForm(),
    ), status


@bp.get("/admin/users/<uuid>")
@requires(Permission.USERS_MANAGE)
def user_detail(uuid: str) -> Any:
    return _user_page(lifecycle.get_user(uuid))


@bp.post("/admin/users/<uuid>/deactivate")
@requires(Permission.USERS_MANAGE)
def deactivate_user(uuid: str) -> Any:
    user = lifecycle.get_user(uuid)
    form = DeactivateForm()
    if not form.validate_on_submit():
        return _user_page(user, form, 422)
    try:  # the form already bounds the reason as the service does
        revoked = lifecycle.deactivate(current_user, user, reason=form.reason.data or "")
    except Conflict as exc:
        db.session.rollback()
        flash(_conflict_message(exc), "error")
        return redirect(url_for("accounts.user_detail", uuid=uuid))
    flash(
        _(
            "Cuenta desactivada: sus sesiones terminaron y se revocaron %(n)d token(s).",
            n=revoked,
        ),
        "success",
    )
    return redirect(url_for("accounts.user_detail", uuid=uuid))


@bp.post("/admin/users/<uuid>/reactivate")
@requires(Permission.USERS_MANAGE)
def reactivate_user(uuid: str) -> Any:
    user = lifecycle.get_user(uuid)
    if not ActionForm().validate_on_submit():
        return _user_page(user, status=422)
    try:
        lifecycle.reactivate(current_user, user)
    except Conflict as exc:
        db.session.rollback()
        flash(_conflict_message(exc), "error")
        return redirect(url_for("accounts.user_detail", uuid=uuid))
    flash(_("Cuenta reactivada. Sus tokens anteriores siguen revocados."), "success")
    return redirect(url_for("accounts.user_detail", uuid=uuid))


@bp.post("/admin/users/<uuid>/tokens/<int:token_id>/revoke")
@requires(Permission.USERS_MANAGE)
def revoke_token(uuid: str, token_id: int) -> Any:
    user = lifecycle.get_user(uuid)
    if not ActionForm().validate_on_submit():
        return _user_page(user, status=422)
    try:
        row = token_service.revoke(current_user, token_id, user=user)
    except Conflict as exc:
        db.session.rollback()
        flash(_conflict_message(exc), "error")
        return redirect(url_for("accounts.user_detail", uuid=uuid))
    flash(_("Token %(prefix)s… revocado.", prefix=row.prefix), "success")
    return redirect(url_for("accounts.user_detail", uuid=uuid))


@bp.get("/accounts/pending")
@requires(Permission.ACCOUNTS_APPROVE)
def pending_accounts() -> Any:
    return render_template(
        "accounts/pending.html",
        accounts=lifecycle.pending_accounts(current_user),
        action_form=ActionForm(),
    )


@bp.post("/accounts/pending/<uuid>/approve")
@requires(Permission.ACCOUNTS_APPROVE)
def approve_account(uuid: str) -> Any:
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template(
            "accounts/pending.html",
            accounts=lifecycle.pending_accounts(current_user),
            action_form=form,
        ), 422
    user, initial = lifecycle.approve(current_user, uuid)  # another organization's: 404
    # shown once in this response, never in a flash message (the session cookie is
    # signed, not encrypted)
    return render_template(
        "accounts/pending.html",
        accounts=lifecycle.pending_accounts(current_user),
        action_form=ActionForm(),
        approved=user,
        initial_password=initial,
    )
